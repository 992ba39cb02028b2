"""Outputs of `evaluate`: one module per format, each a pure function from the report to
text. `text` and `json` are the report's own renderings (`policyengine.results.report`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from policyengine.results.report import Report


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"
    JUNIT = "junit"
    GITHUB = "github"
    MARKDOWN = "markdown"
    HTML = "html"
    GITLAB = "gitlab"


# Formats that list every outcome, passes included, whatever --all says.
_EVERY_OUTCOME = frozenset({Format.JUNIT})


def needs_every_outcome(formats: Iterable[Format], show_all: bool) -> bool:
    """Whether a report rendered in `formats` lists passes and skips: else they are
    counted, not kept."""
    return show_all or any(fmt in _EVERY_OUTCOME for fmt in formats)


def render(
    fmt: Format, report: Report, *, show_all: bool = False, docs_url: str | None = None
) -> str:
    # Each format's module is imported when it is asked for: a run renders one or two of
    # them, and importing all of them was a fifth of a small run's start-up.
    match fmt:
        case Format.TEXT:
            from policyengine.results import report as reports

            return reports.render_text(report, show_all=show_all)
        case Format.JSON:
            from policyengine.results import report as reports

            return reports.render_json(report, show_all=show_all)
        case Format.SARIF:
            from policyengine.outputs import sarif

            return sarif.render(report, show_all, sarif.Options(docs_url=docs_url))
        case Format.JUNIT:
            from policyengine.outputs import junit

            return junit.render(report, show_all)
        case Format.GITHUB:
            from policyengine.outputs import github

            return github.render(report, show_all)
        case Format.MARKDOWN:
            from policyengine.outputs import markdown

            return markdown.render(report, show_all)
        case Format.HTML:
            from policyengine.outputs import html

            return html.render(report, show_all)
        case Format.GITLAB:
            from policyengine.outputs import gitlab

            return gitlab.render(report, show_all)


def render_parts(
    fmt: Format, report: Report, *, show_all: bool = False, docs_url: str | None = None
) -> Iterator[str]:
    """`render`'s text, made a piece at a time as it is written: the results of the JSON
    report and JUnit's test cases a thousand at a time (`reports.json_parts`,
    `junit.render_parts`), of SARIF a hundred at a time (`sarif.render_parts`); any other
    format whole."""
    if fmt is Format.JSON:
        from policyengine.results import report as reports

        yield from reports.json_parts(report, show_all=show_all)
    elif fmt is Format.SARIF:
        from policyengine.outputs import sarif

        yield from sarif.render_parts(report, show_all, sarif.Options(docs_url=docs_url))
    elif fmt is Format.JUNIT:
        from policyengine.outputs import junit

        yield from junit.render_parts(report)
    else:
        yield render(fmt, report, show_all=show_all, docs_url=docs_url)


def render_failure(fmt: Format, kind: str, text: str) -> str:
    """What a format holds when nothing could be evaluated (`kind`: "invalid policy",
    "invalid snapshot", ...), so that a file a later CI step reads is never stale or
    empty. JSON has its own document, written by the command line."""
    match fmt:
        case Format.SARIF:
            from policyengine.outputs import sarif

            return sarif.render_failure(kind, text)
        case Format.JUNIT:
            from policyengine.outputs import junit

            return junit.render_failure(kind, text)
        case Format.GITHUB:
            from policyengine.outputs import github

            return github.render_failure(kind, text)
        case Format.MARKDOWN:
            from policyengine.outputs import markdown

            return markdown.render_failure(kind, text)
        case Format.HTML:
            from policyengine.outputs import html

            return html.render_failure(kind, text)
        case Format.GITLAB:
            from policyengine.outputs import gitlab

            return gitlab.render_failure(kind, text)
        case Format.TEXT | Format.JSON:
            return text
