"""`policyengine collect`: an account's export, made through the official SDKs, in the
layout the aliyun importer reads.

Every region the account has (DescribeRegions), or those asked for; every API the
importer reads, every page; then the calls about what those listed (each security
group's rules, each role's instances and trust policy, the KMS keys disks name, the
renewal of subscription instances, the public images and commands in use). Calls run
in a bounded pool of threads; throttling and server errors are retried with exponential
backoff, a bounded number of times. A call that fails for good is recorded in
`manifest.json` with its error code, and every rule that needs its data then reports
`error` naming it. Credentials are never written.

An input source: it imports core/ and inputs/, nothing above.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from policyengine.collect.calls import (
    MAX_ITEMS,
    PAGE_SIZE,
    ROLES,
    Found,
    Listing,
    Paging,
    Product,
    Query,
    account_of,
    dependent,
    regional,
)
from policyengine.collect.sdk import EXTRA, CallFailed, MissingSdk, Retry, Sdk

__all__ = [
    "EXTRA",
    "CallFailed",
    "MissingSdk",
    "Options",
    "OutExists",
    "Progress",
    "Retry",
    "Summary",
    "collect",
]

HOME = "cn-hangzhou"  # where DescribeRegions is asked when no region is given
MAX_PAGES = 10_000  # a listing that never ends is an endpoint's fault, not a loop's


@dataclass(frozen=True)
class Options:
    out: Path
    regions: tuple[str, ...] = ()  # none: every region DescribeRegions lists
    endpoint: str | None = None  # every call to this address (a private endpoint, a test)
    concurrency: int = 8
    retry: Retry = field(default_factory=Retry)
    timeout: float = 30.0
    captured_at: str | None = None  # the time written; none: now


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    what: str  # the call just finished: `DescribeDisks in cn-hangzhou`


@dataclass(frozen=True)
class Failure:
    api: str
    region: str | None
    code: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"api": self.api, "region": self.region, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class Summary:
    out: Path
    regions: tuple[str, ...]
    files: int
    calls: int
    failed: tuple[Failure, ...]
    account: str | None


class OutExists(Exception):
    """The output folder holds files already."""


def collect(
    options: Options, progress: Callable[[Progress], None] | None = None, sdk: Sdk | None = None
) -> Summary:
    """Collects the export into `options.out`. Raises MissingSdk, OutExists, and
    CallFailed when the regions cannot even be listed."""
    out = options.out
    if out.exists() and any(out.iterdir()):
        raise OutExists(f"{out} is not empty: collect writes a new export into an empty folder")
    sdk = sdk or Sdk(options.endpoint, options.timeout)
    captured_at = options.captured_at or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    run = _Run(sdk, options, progress)
    regions = options.regions or run.regions()
    found = Found()
    first = [ROLES, *(q for region in regions for q in regional(region))]
    for listing in run.all(first):
        found.add(listing)
    if ROLES in run.failed_queries:
        failure = run.failed_queries[ROLES]
        for region in regions:  # the roles to ask about are not known
            run.failures.append(
                Failure(
                    "DescribeInstanceRamRole",
                    region,
                    failure.code,
                    f"ListRoles failed: {failure.message}",
                )
            )
    run.all(dependent(found, regions))
    files: dict[str, str] = {}
    tmp = out.with_name(out.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    for listing in sorted(run.listings, key=lambda x: x.query.file(1)):
        for number, (paging, body) in enumerate(listing.pages, start=1):
            name = listing.query.file(number)
            path = tmp / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            files[name] = listing.query.command(paging)
    account = account_of(found)
    failed = sorted(run.failures, key=lambda f: (f.api, f.region or "", f.code))
    manifest: dict[str, Any] = {"version": 1}
    if account:
        manifest["account"] = account
    manifest["captured_at"] = captured_at
    manifest["files"] = dict(sorted(files.items()))
    manifest["failed"] = [f.to_json() for f in failed]
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "manifest.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    if out.exists():
        out.rmdir()
    tmp.rename(out)  # the export appears whole, or not at all
    return Summary(out, tuple(regions), len(files), run.calls, tuple(failed), account)


class _Run:
    def __init__(
        self, sdk: Sdk, options: Options, progress: Callable[[Progress], None] | None
    ) -> None:
        self.sdk = sdk
        self.options = options
        self.progress = progress
        self.listings: list[Listing] = []
        self.failures: list[Failure] = []
        self.failed_queries: dict[Query, Failure] = {}
        self.calls = 0
        self.done = 0
        self.total = 0

    def regions(self) -> list[str]:
        body = self.options.retry.run(
            lambda: self.sdk.call(Product.ECS, "DescribeRegions", HOME, {})
        )
        self.calls += 1
        rows = (body.get("Regions") or {}).get("Region") or []
        return sorted(
            {str(r["RegionId"]) for r in rows if isinstance(r, dict) and r.get("RegionId")}
        )

    def all(self, queries: Sequence[Query]) -> list[Listing]:
        """Every page of every query, in a bounded pool; the listings that succeeded."""
        self.total += len(queries)
        with ThreadPoolExecutor(max_workers=max(1, self.options.concurrency)) as pool:
            results = list(pool.map(self._one, queries))
        made = [r for r in results if r is not None]
        self.listings.extend(made)
        return made

    def _one(self, query: Query) -> Listing | None:
        try:
            listing = self._pages(query)
        except CallFailed as failed:
            failure = Failure(query.api, query.region, failed.code, failed.message)
            self.failures.append(failure)
            self.failed_queries[query] = failure
            listing = None
        self.done += 1
        if self.progress is not None:
            where = f" in {query.region}" if query.region else ""
            self.progress(Progress(self.done, self.total, f"{query.api}{where}"))
        return listing

    def _pages(self, query: Query) -> Listing:
        pages: list[tuple[dict[str, Any], dict[str, Any]]] = []
        paging: dict[str, Any] = _first_page(query.paging)
        held = 0
        for _ in range(MAX_PAGES):
            asked = dict(paging)
            body = self.options.retry.run(
                partial(self.sdk.call, query.product, query.api, query.region, query.request(asked))
            )
            self.calls += 1
            pages.append((asked, body))
            following = _next_page(query, body, asked, held)
            if following is None:
                break
            held, paging = following
        return Listing(query, tuple(pages))


def _first_page(paging: Paging) -> dict[str, Any]:
    match paging:
        case Paging.PAGE_NUMBER:
            size_key, size = PAGE_SIZE[paging]
            return {"PageNumber": 1, size_key: size}
        case Paging.NEXT_TOKEN:
            size_key, size = PAGE_SIZE[paging]
            return {size_key: size}
        case Paging.MARKER:
            return {MAX_ITEMS[0]: MAX_ITEMS[1]}
        case Paging.NONE:
            return {}


def _next_page(
    query: Query, body: dict[str, Any], asked: dict[str, Any], held: int
) -> tuple[int, dict[str, Any]] | None:
    """(items so far, the next page's parameters), or None after the last page."""
    match query.paging:
        case Paging.PAGE_NUMBER:
            listing = Listing(query, ((asked, body),))
            count = len(list(listing.items()))
            total = body.get("TotalCount")
            total = int(total) if isinstance(total, int | str) and str(total).isdigit() else None
            held += count
            if count == 0 or total is None or held >= total:
                return None
            return held, {**asked, "PageNumber": int(asked["PageNumber"]) + 1}
        case Paging.NEXT_TOKEN:
            token = body.get("NextToken")
            if not isinstance(token, str) or not token:
                return None
            return held, {
                **{k: v for k, v in asked.items() if k != "NextToken"},
                "NextToken": token,
            }
        case Paging.MARKER:
            marker = body.get("Marker")
            if body.get("IsTruncated") is not True or not isinstance(marker, str) or not marker:
                return None
            return held, {**asked, "Marker": marker}
        case Paging.NONE:
            return None
