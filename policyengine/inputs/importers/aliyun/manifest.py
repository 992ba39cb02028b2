"""`manifest.json` beside an export: what made each file, and what the export lacks.

Two shapes are read. The one `policyengine collect` writes:

    {"version": 1, "account": "1498765432101234", "captured_at": "2024-06-03T02:00:00Z",
     "files": {"cn-hangzhou/DescribeDisks.page2.json":
               "aliyun ecs DescribeDisks --RegionId cn-hangzhou --PageNumber 2"},
     "failed": [{"api": "DescribeInvocations", "region": "cn-hangzhou",
                 "code": "Forbidden.RAM", "message": "..."}]}

and the plain one a person writes by hand: an object mapping each file to its command
line. A command line says the call's API, region and parameters; `failed` lists the calls
that never succeeded, so that rules needing their data report `error`, never `pass`.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any

from policyengine.inputs.importers import shape
from policyengine.inputs.snapshot import Problem, describe_json, pointer_escape

# Parameters that choose a page, not what a query asks for.
PAGING = frozenset({"PageNumber", "NextToken", "PageSize", "MaxResults"})


@dataclass(frozen=True)
class Failure:
    """A call that failed for good: its data is not in the export."""

    api: str
    region: str | None  # None for an API without regions (RAM)
    code: str  # the error code the API returned, e.g. Forbidden.RAM
    message: str = ""

    def reason(self) -> str:
        where = f" in {self.region}" if self.region else ""
        return f"not collected: {self.api}{where}: {self.code}"


@dataclass(frozen=True)
class Manifest:
    commands: dict[str, str] = field(default_factory=dict)  # file -> its command line
    account: str | None = None
    captured_at: str | None = None
    failed: tuple[Failure, ...] = ()
    files_at: str = ""  # the JSON Pointer of the file map, for messages


_SHAPE = {
    "version": int,
    "account": str,
    "captured_at": str,
    "files": shape.MapOf(str),
    "failed": [{"api": str, "region": str, "code": str, "message": str}],
}
_KEYS = ("version", "account", "captured_at", "files", "failed")


def parse(data: Any, file: str, problems: list[Problem]) -> Manifest:
    if isinstance(data, dict) and isinstance(data.get("files"), dict):
        before = len(problems)
        shape.check(data, _SHAPE, file, "", problems)
        for key in data:
            if key not in _KEYS:
                problems.append(
                    Problem(
                        file,
                        f"/{pointer_escape(key)}",
                        f"unknown field `{key}`; expected " + ", ".join(_KEYS),
                    )
                )
        if len(problems) > before:
            return Manifest()
        failed = []
        for i, entry in enumerate(data.get("failed") or ()):
            if not entry.get("api") or not entry.get("code"):
                problems.append(
                    Problem(file, f"/failed/{i}", "a failed call needs its `api` and `code`")
                )
                continue
            failed.append(
                Failure(entry["api"], entry.get("region"), entry["code"], entry.get("message", ""))
            )
        return Manifest(
            dict(data["files"]),
            data.get("account"),
            data.get("captured_at"),
            tuple(failed),
            "/files",
        )
    if isinstance(data, dict) and all(isinstance(v, str) for v in data.values()):
        return Manifest(dict(data))
    problems.append(
        Problem(
            file,
            "",
            "expected an object mapping each file to its command line, e.g. "
            '{"cn-hangzhou/DescribeDisks.json": "aliyun ecs DescribeDisks --RegionId '
            'cn-hangzhou"}, or `files` so mapped; found ' + describe_json(data),
        )
    )
    return Manifest()


def parse_command(line: str) -> tuple[str | None, dict[str, str]]:
    """`aliyun ecs DescribeDisks --RegionId cn-hangzhou --PageNumber 2` -> (API, params)."""
    try:
        words = shlex.split(line)
    except ValueError:
        return None, {}
    # `aliyun PRODUCT API --Param value ...`: the API is the first word after the product.
    head = []
    for word in words:
        if word.startswith("-"):
            break
        head.append(word)
    if head and head[0] == "aliyun":
        head = head[1:]
    if len(head) > 1 and head[0].islower():  # the product: ecs, vpc, ram
        head = head[1:]
    api = head[0] if head else None
    params: dict[str, str] = {}
    for i, word in enumerate(words):
        if word.startswith("--") and "=" in word:
            key, _, val = word[2:].partition("=")
            params[key] = val
        elif word.startswith("--") and i + 1 < len(words) and not words[i + 1].startswith("--"):
            params[word[2:]] = words[i + 1]
    return api, params


def query_of(api: str, params: dict[str, str]) -> str:
    """What a call asked for, whichever page: the API and its parameters but the paging."""
    asked = " ".join(f"--{k} {params[k]}" for k in sorted(params) if k not in PAGING)
    return f"{api} {asked}".strip()
