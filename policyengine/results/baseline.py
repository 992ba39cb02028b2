"""Baselines: the findings of one run, recorded by fingerprint, so that a later run
reports only what is new and lists what has been fixed.

A baseline is a JSON document written by `evaluate --write-baseline`. Each entry keeps,
beside the fingerprint, the rule, resource and message, so a person can read the file
and a fixed finding can be named when it no longer appears.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from policyengine.core.errors import BaselineError, InputError, Problem
from policyengine.inputs.snapshot import describe_json, load_json

BASELINE_VERSION = 1


@dataclass(frozen=True)
class Entry:
    fingerprint: str
    rule: str
    resource: str  # as the report names it: `disk d-1` or `disk d-1 → instance i-1`
    outcome: str
    message: str
    # The account of the snapshot the finding was in: the entry hides the same finding
    # in that account only (None: a snapshot that named no account, or an older file).
    account: str | None = None

    def to_json(self) -> dict[str, str]:
        doc = {
            "fingerprint": self.fingerprint,
            "rule": self.rule,
            "resource": self.resource,
            "outcome": self.outcome,
            "message": self.message,
        }
        if self.account is not None:
            doc["account"] = self.account
        return doc

    def applies(self, account: str | None, any_account: bool = False) -> bool:
        """Whether the entry hides a finding of a snapshot of `account`."""
        return any_account or self.account is None or self.account == account


@dataclass(frozen=True)
class Baseline:
    file: str
    entries: tuple[Entry, ...]


def render(entries: Iterable[Entry]) -> str:
    doc = {"version": BASELINE_VERSION, "findings": [e.to_json() for e in entries]}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def parse_baseline(text: str, file: str) -> Baseline:
    """Raises InputError naming the file and the JSON Pointer of each problem."""
    try:
        data = load_json(text, file)
    except InputError as exc:
        raise BaselineError(exc.problems) from None
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise BaselineError(
            [
                Problem(
                    file,
                    "",
                    "expected a baseline written by `policyengine evaluate --write-baseline`: "
                    f"an object with a `findings` list, found {describe_json(data)}",
                )
            ]
        )
    if data.get("version") != BASELINE_VERSION:
        raise BaselineError(
            [
                Problem(
                    file,
                    "/version",
                    f"expected baseline version {BASELINE_VERSION}, "
                    f"found {describe_json(data.get('version'))}",
                )
            ]
        )
    problems: list[Problem] = []
    entries: list[Entry] = []
    for index, raw in enumerate(data["findings"]):
        entry = _entry(raw, file, f"/findings/{index}", problems)
        if entry is not None:
            entries.append(entry)
    if problems:
        raise BaselineError(problems)
    return Baseline(file, tuple(entries))


def _entry(raw: Any, file: str, at: str, problems: list[Problem]) -> Entry | None:
    if not isinstance(raw, dict):
        problems.append(Problem(file, at, f"expected an object, found {describe_json(raw)}"))
        return None
    values: dict[str, str] = {}
    for name in ("fingerprint", "rule", "resource", "outcome", "message"):
        value = raw.get(name)
        if name not in raw:
            problems.append(Problem(file, at, f"`{name}` is required"))
        elif not isinstance(value, str) or (name == "fingerprint" and not value):
            problems.append(
                Problem(file, f"{at}/{name}", f"expected a string, found {describe_json(value)}")
            )
        else:
            values[name] = value
    if len(values) < 5:
        return None
    account = raw.get("account")
    if account is not None and not isinstance(account, str):
        problems.append(
            Problem(file, f"{at}/account", f"expected a string, found {describe_json(account)}")
        )
        return None
    return Entry(**values, account=account)
