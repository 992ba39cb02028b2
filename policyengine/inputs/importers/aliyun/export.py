"""The `aliyun` importer's conversion: an export's responses, grouped by call and
query, paged and joined, into the normalized snapshot document (see the package's
docstring for the rules it follows). Imported when an aliyun input is read, not before."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from policyengine.core import model
from policyengine.inputs.importers.aliyun.apis import (
    APIS,
)
from policyengine.inputs.importers.aliyun.convert import (
    Build,
    add_ram_role,
    join_later,
    make_resource,
    no_role,
)
from policyengine.inputs.importers.aliyun.gaps import absent
from policyengine.inputs.importers.aliyun.manifest import Failure
from policyengine.inputs.importers.aliyun.pages import check_pages, group_key
from policyengine.inputs.importers.aliyun.reading import (
    Response,
    read_file,
    read_folder,
)
from policyengine.inputs.importers.base import Converted, Input, Options
from policyengine.inputs.snapshot import InputError, Problem


def convert(source: Input, m: model.Model, options: Options) -> Converted:
    problems: list[Problem] = []
    if source.is_dir:
        export = read_folder(source, options, problems)
    else:
        export = read_file(source, options, problems)
    responses = export.responses
    missing = sorted(
        {r.api.kind for r in responses if r.api.kind is not None and r.api.kind not in m.kinds}
    )
    if missing:
        raise InputError(
            problems
            + [Problem(source.name, "", f"the model has no kind `{k}` for it") for k in missing]
        )
    groups: dict[tuple[tuple[str, str | None, str | None], str], list[Response]] = defaultdict(list)
    for r in responses:
        groups[(group_key(r), r.query)].append(r)
    api_order = list(APIS)
    ordered = sorted(
        groups.items(),
        key=lambda kv: (
            api_order.index(kv[0][0][0]),
            kv[0][0][1] or "",
            kv[0][0][2] or "",
            kv[0][1],
        ),
    )
    build = Build(m, problems)
    later: list[tuple[Response, Any, str]] = []  # items that join resources read first
    # Items that complete other resources, by what they complete: the query that gave
    # each first (another query giving the same item again adds nothing).
    joined: dict[tuple[tuple[str, str | None, str | None], str], str] = {}
    for (key, query), pages in ordered:
        pages.sort(key=lambda p: p.order)
        check_pages(pages, problems)
        for page in pages:
            for i, item in enumerate(page.items()):
                at = page.item_at(i)
                if page.api.kind is None:
                    same = (key, _canonical(item))
                    if joined.setdefault(same, query) == query:
                        later.append((page, item, at))
                    continue
                if page.api.name == "DescribeInstanceRamRole" and no_role(item):
                    continue  # the instance has no role: "" is none
                made = make_resource(page, item, at, m.kinds[page.api.kind], build)
                if made is None:
                    continue
                resource, ident = made
                if not build.first(resource, ident, page, query, item, at):
                    continue  # given by another query already
                if page.api.name == "DescribeInstanceRamRole":
                    add_ram_role(page, resource, ident, at, build)
                    continue
                build.add(resource, page.file, at, ident)
    join_later(later, build, m)
    if problems:
        raise InputError(problems)
    regions = sorted({r.region for r in responses if r.region})
    facts = export.manifest
    document: dict[str, Any] = {"version": 1}
    if facts.account:
        document["account"] = facts.account
    if facts.captured_at:
        document["captured_at"] = facts.captured_at
    if build.locations:
        document["locations"] = build.locations
    document["resources"] = build.resources
    gaps = [_gap(f) for f in facts.failed]
    gaps += absent(build, facts.failed)
    if gaps:
        document["gaps"] = gaps
    if export.not_read:
        document["not_read"] = [{"file": n.file, "api": n.api} for n in export.not_read]
    files = len({r.file for r in responses})
    summary = (
        f"aliyun CLI output: {len(responses)} response{'s' if len(responses) != 1 else ''} "
        f"in {files} file{'s' if files != 1 else ''}"
        + (f" ({', '.join(regions)})" if regions else "")
        + f" -> {len(build.resources)} resources"
        + (f"; {len(export.not_read)} not read" if export.not_read else "")
    )
    return Converted(document, "aliyun", summary)


def _canonical(item: Any) -> str:
    return json.dumps(item, sort_keys=True, ensure_ascii=False, default=str)


def _gap(failure: Failure) -> dict[str, Any]:
    """A failed call -> what the snapshot lacks: the kinds the API would have listed."""
    api = APIS.get(failure.api)
    kinds = []
    if api is not None and not api.declared_from:
        kinds = [k for k in (api.kind, api.completes) if k]
    return {"kinds": kinds, "region": failure.region, "reason": failure.reason()}
