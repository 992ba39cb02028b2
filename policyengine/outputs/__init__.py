"""Outputs of `evaluate`: one module per format, each a pure function from the report to
text. `text` and `json` are the report's own renderings (`policyengine.results.report`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from policyengine.outputs import github, gitlab, html, junit, markdown, sarif
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
    GITLAB = "gitlab"


@dataclass(frozen=True)
class Options:
    show_all: bool = False  # list passes and skips too
    docs_url: str | None = None  # where `policyengine docs` pages are published


_RENDER: dict[Format, Callable[[Report, Options], str]] = {
    Format.TEXT: lambda r, o: reports.render_text(r, show_all=o.show_all),
    Format.JSON: lambda r, o: reports.render_json(r, show_all=o.show_all),
    Format.SARIF: lambda r, o: sarif.render(r, o.show_all, sarif.Options(docs_url=o.docs_url)),
    Format.JUNIT: lambda r, o: junit.render(r, o.show_all),
    Format.GITHUB: lambda r, o: github.render(r, o.show_all),
    Format.MARKDOWN: lambda r, o: markdown.render(r, o.show_all),
    Format.HTML: lambda r, o: html.render(r, o.show_all),
    Format.GITLAB: lambda r, o: gitlab.render(r, o.show_all),
}


# Formats that list every outcome, passes included, whatever --all says.
_EVERY_OUTCOME = frozenset({Format.JUNIT})


def needs_every_outcome(formats: Iterable[Format], show_all: bool) -> bool:
    """Whether a report rendered in `formats` lists passes and skips: else they are
    counted, not kept."""
    return show_all or any(fmt in _EVERY_OUTCOME for fmt in formats)


def render(
    fmt: Format, report: Report, *, show_all: bool = False, docs_url: str | None = None
) -> str:
    return _RENDER[fmt](report, Options(show_all, docs_url))


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
        case Format.GITLAB:
            return gitlab.render_failure(kind, text)
        case Format.TEXT | Format.JSON:
            return text
