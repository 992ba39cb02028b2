"""Outputs of `evaluate`: one module per format, each a pure function from the report to
text. `text` and `json` are the report's own renderings (`policyengine.results.report`)."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from policyengine.outputs import github, html, junit, markdown, sarif
from policyengine.results import report as reports
from policyengine.results.report import Report


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"
    JUNIT = "junit"
    GITHUB = "github"
    MARKDOWN = "markdown"
    HTML = "html"


_RENDER: dict[Format, Callable[[Report, bool], str]] = {
    Format.TEXT: lambda r, show_all: reports.render_text(r, show_all=show_all),
    Format.JSON: lambda r, show_all: reports.render_json(r, show_all=show_all),
    Format.SARIF: sarif.render,
    Format.JUNIT: junit.render,
    Format.GITHUB: github.render,
    Format.MARKDOWN: markdown.render,
    Format.HTML: html.render,
}


def render(fmt: Format, report: Report, *, show_all: bool = False) -> str:
    return _RENDER[fmt](report, show_all)


def render_failure(fmt: Format, kind: str, text: str) -> str:
    """What a format holds when nothing could be evaluated (`kind`: "invalid policy",
    "invalid snapshot", ...), so that a file a later CI step reads is never stale or
    empty. JSON has its own document, written by the command line."""
    match fmt:
        case Format.SARIF:
            return sarif.render_failure(kind, text)
        case Format.JUNIT:
            return junit.render_failure(kind, text)
        case Format.GITHUB:
            return github.render_failure(kind, text)
        case Format.MARKDOWN:
            return markdown.render_failure(kind, text)
        case Format.HTML:
            return html.render_failure(kind, text)
        case Format.TEXT | Format.JSON:
            return text
