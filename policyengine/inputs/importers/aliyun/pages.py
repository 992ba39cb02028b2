"""The pages of one listing: grouped, ordered and checked (none missing, none twice)."""

from __future__ import annotations

from typing import Any

from policyengine.inputs.importers.aliyun.reading import Response
from policyengine.inputs.snapshot import Problem


def group_key(r: Response) -> tuple[str, str | None, str | None]:
    about = None
    if r.api.group_by:
        about = r.params.get(r.api.group_by) or r.qualifier
        if about is None and isinstance(r.body.get(r.api.group_by), str):
            about = r.body[r.api.group_by]
    return r.api.name, r.region, about


def check_pages(pages: list[Response], problems: list[Problem]) -> None:
    """Pages of one listing: none missing, none twice."""
    tokens = [p for p in pages if _text(p.body.get("NextToken"))]
    last = pages[-1]
    if tokens:
        ends = [p for p in pages if not _text(p.body.get("NextToken"))]
        if not ends:
            problems.append(
                Problem(
                    last.file,
                    last.at("NextToken"),
                    f'NextToken is "{last.body["NextToken"]}": the next page of '
                    f"{last.api.name} is missing (the last page has an empty NextToken)",
                )
            )
        return
    seen: dict[int, Response] = {}
    for page in pages:
        number = page.body.get("PageNumber")
        if isinstance(number, int) and len(pages) > 1:
            if number in seen:
                problems.append(
                    Problem(
                        page.file,
                        page.at("PageNumber"),
                        f"page {number} of {page.api.name} is given twice: also in "
                        f"{seen[number].file}",
                    )
                )
            seen[number] = page
    total = pages[0].body.get("TotalCount")
    if isinstance(total, str) and total.isdigit():
        total = int(total)
    held = sum(len(p.items()) for p in pages)
    if isinstance(total, int) and held < total:
        problems.append(
            Problem(
                last.file,
                last.at("TotalCount"),
                f"TotalCount is {total}, but the pages of {last.api.name} hold {held}: "
                "a page is missing",
            )
        )


def _text(value: Any) -> bool:
    return isinstance(value, str) and value != ""
