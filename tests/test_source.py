"""Source coordinates and the caret renderer, at their edges.

Lines and columns are 1-based and columns count characters (not bytes, not display
cells); an offset past the end is clamped to the end. The renderer clamps a span to its
first line and still draws something for an empty span; a span at the end of input (even
after trailing newlines) points at the last character.
"""

from __future__ import annotations

import pytest

from policyengine.core.diagnostics import Diagnostic, did_you_mean, render_text
from policyengine.core.source import Source, Span


def _diag(source: Source, start: int, end: int, label: str = "here", **kw: object) -> Diagnostic:
    return Diagnostic("PE001", "something is wrong", Span(source, start, end), label, **kw)  # type: ignore[arg-type]


# ---------------------------------------------------------------- Source.line_col


@pytest.mark.parametrize(
    ("text", "offset", "expected"),
    [
        ("", 0, (1, 1)),  # empty text: the only position there is
        ("", 5, (1, 1)),  # after the end of an empty text: clamped
        ("abc", 0, (1, 1)),
        ("abc", 2, (1, 3)),
        ("abc", 3, (1, 4)),  # at the end, no trailing newline: one past the last character
        ("abc", 99, (1, 4)),  # after the end: clamped to the end
        ("abc", -4, (1, 1)),  # before the start: clamped to the start
        ("ab\n", 2, (1, 3)),  # the newline itself belongs to line 1
        ("ab\n", 3, (2, 1)),  # after a trailing newline: an empty line 2
        ("ab\ncd", 3, (2, 1)),
        ("ab\ncd", 5, (2, 3)),
        ("ab\r\ncd", 2, (1, 3)),  # CRLF: the `\r` is the last column of line 1
        ("ab\r\ncd", 4, (2, 1)),
        ("\tx", 1, (1, 2)),  # a tab is one character, one column
        ("é漢x", 2, (1, 3)),  # non-ASCII: characters, not UTF-8 bytes
        ("a\n\n\nb", 4, (4, 1)),  # blank lines count
    ],
)
def test_line_col(text: str, offset: int, expected: tuple[int, int]) -> None:
    assert Source("f", text).line_col(offset) == expected


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        ("", 1, ""),
        ("", 2, ""),  # no such line
        ("abc", 0, ""),  # lines are 1-based
        ("abc", 1, "abc"),  # no trailing newline
        ("abc\n", 1, "abc"),  # without its newline
        ("abc\n", 2, ""),  # the empty line after a trailing newline
        ("abc\n", 3, ""),
        ("ab\r\ncd\r\n", 1, "ab"),  # CRLF: without the `\r`
        ("ab\r\ncd\r\n", 2, "cd"),
        ("ab\r\ncd", 2, "cd"),
        ("\tx = 1", 1, "\tx = 1"),  # tabs are kept
        ("é\n漢字", 2, "漢字"),
    ],
)
def test_line_text(text: str, line: int, expected: str) -> None:
    assert Source("f", text).line_text(line) == expected


def test_line_index_is_built_once_and_agrees_with_a_naive_count() -> None:
    text = "one\r\ntwo\n\nfour\tfive\nséx\n"
    source = Source("f", text)
    for offset in range(len(text) + 1):
        before = text[:offset]
        line = before.count("\n") + 1
        column = offset - (before.rfind("\n") + 1) + 1
        assert source.line_col(offset) == (line, column), offset


# ---------------------------------------------------------------- Span


def test_span_reports_its_start_and_text() -> None:
    source = Source("rules.policy", "use a\n  é disk\n")
    span = Span(source, 10, 14)
    assert span.text == "disk"
    assert (span.file, span.line, span.column) == ("rules.policy", 2, 5)
    assert span.location() == "rules.policy:2:5"


def test_span_to_json_has_both_ends() -> None:
    source = Source("f", "ab\ncdef\n")
    assert Span(source, 1, 5).to_json() == {
        "file": "f",
        "line": 1,
        "column": 2,
        "end_line": 2,
        "end_column": 3,
    }


def test_empty_span_and_span_at_the_end() -> None:
    source = Source("f", "abc")
    assert Span(source, 3, 3).text == ""
    assert Span(source, 3, 3).location() == "f:1:4"
    assert Span(source, 3, 3).to_json()["end_column"] == 4


def test_span_to_covers_both_spans_in_either_order() -> None:
    source = Source("f", "abcdef")
    left, right = Span(source, 1, 2), Span(source, 4, 6)
    assert left.to(right) == Span(source, 1, 6)
    assert right.to(left) == Span(source, 1, 6)


def test_spans_compare_by_offsets_only() -> None:
    # The source is metadata: two spans over equal text in different objects are equal.
    assert Span(Source("a", "xyz"), 0, 1) == Span(Source("b", "xyz"), 0, 1)
    assert Span(Source("a", "xyz"), 0, 1) != Span(Source("a", "xyz"), 0, 2)


# ---------------------------------------------------------------- render_text


def test_render_a_one_line_span() -> None:
    source = Source("rules.policy", "use alicloud.ecs\nfor each dsik require zone is set\n")
    diag = Diagnostic(
        "PE102",
        "unknown kind `dsik`",
        Span(source, 26, 30),
        "no kind has this name",
        notes=("a note",),
        help="did you mean `disk`?",
    )
    assert render_text(diag) == "\n".join(
        [
            "error[PE102]: unknown kind `dsik`",
            " --> rules.policy:2:10",
            "  |",
            "2 | for each dsik require zone is set",
            "  |          ^^^^ no kind has this name",
            "  = a note",
            "  = help: did you mean `disk`?",
        ]
    )


def test_render_pads_the_gutter_to_the_line_number() -> None:
    source = Source("f", "\n" * 11 + "x = 1\n")
    out = render_text(_diag(source, 11, 12))
    assert out.splitlines()[1:5] == ["  --> f:12:1", "   |", "12 | x = 1", "   | ^ here"]


def test_render_without_label_has_no_trailing_space() -> None:
    out = render_text(_diag(Source("f", "abc"), 0, 1, label=""))
    assert out.splitlines()[-1] == "  | ^"


def test_render_an_empty_span_draws_one_caret() -> None:
    out = render_text(_diag(Source("f", "abc def"), 4, 4))
    assert out.splitlines()[-1] == "  |     ^ here"


def test_render_at_the_end_of_input_without_a_newline_points_at_the_last_character() -> None:
    source = Source("f", "disk attach requires same")
    end = len(source.text)
    out = render_text(_diag(source, end, end, label="the file ends here"))
    assert out.splitlines()[1:] == [
        " --> f:1:25",
        "  |",
        "1 | disk attach requires same",
        "  |                         ^ the file ends here",
    ]


def test_render_at_the_end_of_an_empty_file() -> None:
    out = render_text(_diag(Source("f", ""), 0, 0))
    assert out.splitlines()[1:] == [" --> f:1:1", "  |", "1 | ", "  | ^ here"]


@pytest.mark.parametrize("tail", ["\n", "\n\n  \n", "\r\n"])
def test_render_at_the_end_of_input_after_a_trailing_newline(tail: str) -> None:
    # Not on the empty line after the newline: at the last character, as
    # ARCHITECTURE.md section 5 rule 8 asks.
    source = Source("f", "disk attach requires same" + tail)
    end = len(source.text)
    out = render_text(_diag(source, end, end))
    assert out.splitlines()[1:] == [
        " --> f:1:25",
        "  |",
        "1 | disk attach requires same",
        "  |                         ^ here",
    ]


def test_render_at_the_end_of_a_blank_file_stays_at_the_end() -> None:
    # Nothing to point at: the caret goes where the file ends.
    out = render_text(_diag(Source("f", "\n"), 1, 1))
    assert out.splitlines()[1:] == [" --> f:2:1", "  |", "2 | ", "  | ^ here"]


def test_render_a_multi_line_span_is_clamped_to_its_first_line() -> None:
    source = Source("f", "for each disk\n  require size > 1\n  and encrypted\n")
    start = source.text.index("disk")
    out = render_text(_diag(source, start, len(source.text) - 1, label="this statement"))
    assert out.splitlines()[1:] == [
        " --> f:1:10",
        "  |",
        "1 | for each disk",
        "  |          ^^^^ this statement",
    ]


def test_render_a_span_over_a_crlf_line_end_stops_at_the_line() -> None:
    source = Source("f", "abc\r\ndef\r\n")
    out = render_text(_diag(source, 1, 7))
    assert out.splitlines()[-2:] == ["1 | abc", "  |  ^^ here"]


def test_render_counts_columns_in_characters_and_carets_in_cells() -> None:
    source = Source("f", 'tags["é漢"] == zoneid\n')
    start = source.text.index("zoneid")
    out = render_text(_diag(source, start, start + 6))
    # The location counts characters; the caret stands under the word on a terminal,
    # where 漢 takes two columns.
    assert out.splitlines()[1] == " --> f:1:15"
    assert out.splitlines()[-1] == "  |                ^^^^^^ here"
    source_line = out.splitlines()[-2]
    assert out.splitlines()[-1].index("^") == source_line.index("zoneid") + 1


@pytest.mark.parametrize("line", ["\tfor each dsik", "\t\tfor each dsik", "  \tfor\teach dsik"])
def test_render_keeps_the_caret_under_the_word_after_a_tab(line: str) -> None:
    # The caret line keeps the source's tabs, so the caret lands under the word whatever
    # the terminal's tab stops.
    source = Source("f", line + "\n")
    start = source.text.index("dsik")
    lines = render_text(_diag(source, start, start + 4)).splitlines()
    for tabsize in (4, 8):
        caret, text = lines[-1].expandtabs(tabsize), lines[-2].expandtabs(tabsize)
        assert caret.index("^") == text.index("dsik")


def test_render_a_tab_is_one_column_in_the_location() -> None:
    source = Source("f", "\tfor each dsik\n")
    start = source.text.index("dsik")
    assert render_text(_diag(source, start, start + 4)).splitlines()[1] == " --> f:1:11"


def test_render_levels() -> None:
    from policyengine.core.diagnostics import Level

    diag = Diagnostic("PE104", "m", Span(Source("f", "x"), 0, 1), level=Level.WARNING)
    assert render_text(diag).startswith("warning[PE104]: m\n")


# ---------------------------------------------------------------- did_you_mean


@pytest.mark.parametrize(
    ("word", "known", "expected"),
    [
        ("zoneid", ["zone", "region", "size"], "did you mean `zone`?"),
        ("dsik", ["disk", "instance"], "did you mean `disk`?"),
        ("lowr", {"lower": 1, "upper": 2}, "did you mean `lower`?"),  # any iterable of names
        ("xyz", ["zone", "region"], ""),  # nothing close: no help at all
        ("zone", [], ""),
        ("zone", ["zone", "zone"], "did you mean `zone`?"),  # duplicates do not matter
    ],
)
def test_did_you_mean(word: str, known: object, expected: str) -> None:
    assert did_you_mean(word, known) == expected  # type: ignore[arg-type]


def test_did_you_mean_is_deterministic_whatever_the_order() -> None:
    # Two equally close names: the answer must not depend on set or dict order.
    answers = {did_you_mean("ab", order) for order in (["ax", "ay"], ["ay", "ax"])}
    assert len(answers) == 1
