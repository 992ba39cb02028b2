"""Waivers: known findings accepted for a while, by name, with a reason, an owner and an
expiry date.

A waivers file (YAML, or JSON, which YAML reads too) holds a `waivers` list. Each entry
names a rule and a resource (each an id or a glob), says why and who, and when it ends;
it may also hold the finding's fingerprint, so that it lapses when the facts of the
finding change. Problems in the file are diagnostics pointing at the entry (PE601).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING

from policyengine.core.diagnostics import Collector, Diagnostic, did_you_mean
from policyengine.core.errors import WaiversError, YamlError
from policyengine.core.files import Confinement
from policyengine.core.source import Source, Span
from policyengine.inputs.files import read_text

if TYPE_CHECKING:
    import yaml

FIELDS = ("rule", "resource", "reason", "owner", "expires", "fingerprint", "account")
REQUIRED = ("rule", "resource", "reason", "owner", "expires")
DEFAULT_NAMES = ("waivers.yaml", "waivers.yml", "waivers.json")  # looked for in policy folders
_FINGERPRINT = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class Waiver:
    rule: str  # a rule id (POLICY.RULE) or a glob over ids
    resource: str  # the finding's resource id or name, or a glob
    reason: str
    owner: str
    expires: date  # the last day the waiver applies
    fingerprint: str | None  # when set, the waiver covers only a finding with these facts
    span: Span  # the entry in its file
    # When set (an account id or a glob), the waiver covers findings of that account only.
    account: str | None = None

    @property
    def place(self) -> str:
        return self.span.location()

    def describe(self) -> str:
        """How messages name the waiver: where it is and what it covers."""
        return f"{self.place} (rule {self.rule}, resource {self.resource})"

    def note(self) -> str:
        """What a waived finding shows instead of its outcome."""
        return f"waived: {self.reason}, {self.owner}, until {self.expires.isoformat()}"

    def expired(self, today: date) -> bool:
        return today > self.expires

    def covers(
        self, rule_id: str, resource: str, fingerprint: str | None, account: str | None = None
    ) -> bool:
        """Whether the waiver covers a finding; `account`: the snapshot's. A waiver that
        names an account (or a glob of them) covers findings of that account only."""
        if self.fingerprint is not None and self.fingerprint != fingerprint:
            return False
        if self.account is not None and not fnmatchcase(account or "", self.account):
            return False
        return fnmatchcase(rule_id, self.rule) and fnmatchcase(resource, self.resource)

    def to_json(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "resource": self.resource,
            "reason": self.reason,
            "owner": self.owner,
            "expires": self.expires.isoformat(),
            "fingerprint": self.fingerprint,
            "account": self.account,
            "file": self.span.file,
            "line": self.span.line,
        }


def parse_waivers(source: Source) -> list[Waiver]:
    """A waivers file -> its entries. Raises WaiversError with every problem found."""
    # PyYAML is imported when there is a waivers file to read: most runs have none.
    import yaml

    from policyengine.core.yamldoc import compose_yaml

    diags = Collector()
    try:
        root = compose_yaml(source.text, source.name)
    except YamlError as exc:
        at = exc.index
        diags.error("PE601", f"not valid YAML or JSON: {exc.problem}", Span(source, at, at + 1))
        raise WaiversError(list(diags)) from None
    whole = Span(source, 0, len(source.text))
    entries: list[yaml.Node] = []
    if not isinstance(root, yaml.MappingNode):
        diags.error(
            "PE601",
            "expected a mapping with a `waivers` list",
            _span(source, root) if root is not None else whole,
            "not a mapping",
            help="start the file with `waivers:` and list one entry per waiver under it",
        )
    else:
        members = _members(source, root, ("waivers",), diags)
        listed = members.get("waivers")
        if listed is None:
            diags.error("PE601", "`waivers` is required", _span(source, root), "no `waivers`")
        elif not isinstance(listed, yaml.SequenceNode):
            diags.error("PE601", "`waivers` must be a list", _span(source, listed), "not a list")
        else:
            entries = list(listed.value)
    out = [w for node in entries if (w := _entry(source, node, diags)) is not None]
    if diags:
        raise WaiversError(list(diags))
    return out


def _span(source: Source, node: yaml.Node) -> Span:
    return Span(source, node.start_mark.index, max(node.start_mark.index, node.end_mark.index))


def _members(
    source: Source, node: yaml.MappingNode, allowed: Sequence[str], diags: Collector
) -> dict[str, yaml.Node]:
    out: dict[str, yaml.Node] = {}
    for key_node, value in node.value:
        key = str(key_node.value)
        if key not in allowed:
            hint = did_you_mean(key, allowed)
            diags.error(
                "PE601",
                f"unknown field `{key}`",
                _span(source, key_node),
                "not a waiver field" if "rule" in allowed else "not expected here",
                help=hint or "expected " + ", ".join(f"`{a}`" for a in allowed),
            )
        elif key in out:
            diags.error("PE601", f"`{key}` is given twice", _span(source, key_node), "again")
        else:
            out[key] = value
    return out


def _entry(source: Source, node: yaml.Node, diags: Collector) -> Waiver | None:
    import yaml  # imported already by `parse_waivers`

    if not isinstance(node, yaml.MappingNode):
        diags.error(
            "PE601",
            "a waiver is a mapping",
            _span(source, node),
            "expected `rule`, `resource`, `reason`, `owner` and `expires`",
        )
        return None
    before = len(diags)
    members = _members(source, node, FIELDS, diags)
    for name in REQUIRED:
        if name not in members:
            diags.error(
                "PE601",
                f"waiver without `{name}`",
                _span(source, node),
                f"`{name}` is required",
                help="every waiver names its rule, resource, reason, owner and expiry date",
            )
    values: dict[str, str] = {}
    for name, value in members.items():
        if not isinstance(value, yaml.ScalarNode) or not str(value.value).strip():
            diags.error("PE601", f"`{name}` must be a non-empty text", _span(source, value), "here")
            continue
        values[name] = str(value.value).strip()
    expires = None
    if "expires" in values:
        try:
            expires = date.fromisoformat(values["expires"])
        except ValueError:
            diags.error(
                "PE601",
                f"`expires` must be a date (YYYY-MM-DD), not `{values['expires']}`",
                _span(source, members["expires"]),
                "not a date",
            )
    fingerprint = values.get("fingerprint")
    if fingerprint is not None and not _FINGERPRINT.fullmatch(fingerprint):
        diags.error(
            "PE601",
            "`fingerprint` must be 32 lowercase hex digits, as reports show it",
            _span(source, members["fingerprint"]),
            "not a fingerprint",
        )
    if len(diags) > before or expires is None:
        return None
    return Waiver(
        rule=values["rule"],
        resource=values["resource"],
        reason=values["reason"],
        owner=values["owner"],
        expires=expires,
        fingerprint=fingerprint,
        span=_span(source, node),
        account=values.get("account"),
    )


def expired_diagnostic(waiver: Waiver) -> Diagnostic:
    return Diagnostic(
        code="PE602",
        message=f"waiver expired on {waiver.expires.isoformat()}",
        span=waiver.span,
        label=f"rule {waiver.rule}, resource {waiver.resource}, owner {waiver.owner}",
        help="renew it with a new `expires` date, or fix the finding and remove the waiver",
    )


@dataclass(frozen=True)
class WaiversFile:
    path: Path
    # None: the user named it; else it was found in a policy folder and must resolve
    # inside it (a committed symlink to another file is refused).
    confine: Confinement | None = None


def read_waivers(files: Sequence[Path | WaiversFile]) -> list[Waiver]:
    """Every waiver in the files, with the problems of all of them raised together."""
    waivers: list[Waiver] = []
    diags: list[Diagnostic] = []
    for given in files:
        found = given if isinstance(given, WaiversFile) else WaiversFile(given)
        try:
            text = read_text(found.path, "waivers file", found.confine)
            waivers.extend(parse_waivers(Source(str(found.path), text)))
        except WaiversError as exc:
            diags.extend(exc.diagnostics)
    if diags:
        raise WaiversError(diags)
    return waivers
