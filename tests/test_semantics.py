"""The one meaning of each operation (`core.semantics`), checked against itself and
against Python: negation, mirroring, the count bound and Kleene folding agree with the
comparisons they are derived from, over every operator."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policyengine.core import semantics
from policyengine.core.semantics import Op, Presence, Quantifier

# More examples than the default profile's, as many as the long one's when it runs.
_EXAMPLES = max(300, settings.default.max_examples)

VALUES = (-1, 0, 1, 2, "a", "b")
PAIRS = [(a, b) for a, b in itertools.product(VALUES, VALUES) if type(a) is type(b)]


@pytest.mark.parametrize("op", list(Op))
def test_negation_holds_exactly_where_the_operator_does_not(op: Op) -> None:
    for a, b in PAIRS:
        assert semantics.compare(semantics.negation(op), a, b) is not semantics.compare(op, a, b)


@pytest.mark.parametrize("op", list(Op))
def test_mirror_swaps_the_sides(op: Op) -> None:
    for a, b in PAIRS:
        assert semantics.compare(semantics.mirror(op), b, a) is semantics.compare(op, a, b)


@pytest.mark.parametrize("op", list(Op))
def test_count_bound_is_what_every_count_gives(op: Op) -> None:
    answers = {semantics.compare(op, n, 0) for n in range(100)}
    expected = answers.pop() if len(answers) == 1 else None
    assert semantics.count_bound(op) is expected


@pytest.mark.parametrize("op", list(Op))
def test_every_operator_is_written_as_it_reads(op: Op) -> None:
    assert semantics.as_op(op.value) is op
    sufficient, needed = semantics.phrase(op)
    assert "{v}" in sufficient and "{v}" in needed


U = "undecided"


@pytest.mark.parametrize(
    ("q", "truths", "expected"),
    [
        (Quantifier.EVERY, [], True),
        (Quantifier.EVERY, [True, U, False], False),  # a false part decides `and`
        (Quantifier.EVERY, [True, U], U),
        (Quantifier.ANY, [], False),
        (Quantifier.ANY, [U, True], True),  # a true part decides `or`
        (Quantifier.ANY, [False, U], U),
        (Quantifier.NO, [False, False], True),
        (Quantifier.NO, [False, True], False),
        (Quantifier.NO, [U, False], U),
    ],
)
def test_fold_is_kleene_logic(q: Quantifier, truths: list[object], expected: object) -> None:
    assert semantics.fold(q, truths) == expected


def test_fold_stops_at_the_first_deciding_truth() -> None:
    seen: list[bool] = []

    def truths() -> object:
        for t in (True, False, True):
            seen.append(t)
            yield t

    assert semantics.fold(Quantifier.EVERY, truths()) is False  # type: ignore[arg-type]
    assert seen == [True, False]


@pytest.mark.parametrize("q", [Quantifier.EVERY, Quantifier.ANY])
def test_a_junction_of_closures_is_the_fold_of_their_truths(q: Quantifier) -> None:
    """Every list of up to three truths, two undecided ones among them: the closures'
    junction (`a and b` as the fast path runs it) answers as `fold`, the same undecided
    truth included, and calls no part after the one that decides it."""
    first, second = object(), object()  # two undecided truths, told apart
    for n in range(4):
        for truths in itertools.product((True, False, first, second), repeat=n):
            called: list[int] = []
            parts = tuple(_part(called, i, t) for i, t in enumerate(truths))
            junction = semantics.junction(q, parts)
            assert junction(None, None) is semantics.fold(q, truths), truths
            decided = [i for i, t in enumerate(truths) if t is (q is Quantifier.ANY)]
            assert called == list(range(decided[0] + 1 if decided else n)), truths


def _part(called: list[int], i: int, truth: object) -> Callable[[None, None], object]:
    """A condition closure that answers `truth` and notes that part `i` was called."""

    def decide(a: None, b: None) -> object:
        called.append(i)
        return truth

    return decide


def test_negate_keeps_undecided() -> None:
    assert semantics.negate(True) is False
    assert semantics.negate(False) is True
    assert semantics.negate(U) == U


@pytest.mark.parametrize(
    ("test", "missing", "empty", "expected"),
    [
        (Presence.PRESENT, False, True, True),
        (Presence.MISSING, True, False, True),
        (Presence.SET, False, True, False),
        (Presence.SET, False, False, True),
        (Presence.EMPTY, True, False, False),  # missing is not empty
    ],
)
def test_presence(test: Presence, missing: bool, empty: bool, expected: bool) -> None:
    assert semantics.presence(test, missing, empty) is expected


def test_containment() -> None:
    assert semantics.contains(semantics.RangeKind.PORT, "1/1024", "22/22") is True
    assert semantics.contains(semantics.RangeKind.PORT, "22/22", "1/1024") is False
    assert semantics.contains(semantics.RangeKind.CIDR, "10.0.0.0/8", "10.1.0.0/16") is True
    assert semantics.contains(semantics.RangeKind.CIDR, "10.0.0.0/8", "::/0") is False
    assert semantics.contains(semantics.RangeKind.CIDR, "10.0.0.0/8", "nonsense") is None
    left, right = semantics.oriented(semantics.Containment.WITHIN, "a", "b")
    assert (left, right) == ("b", "a")


def test_severity_ranks_in_declaration_order() -> None:
    assert [s.rank for s in semantics.Severity] == [1, 2, 3, 4]


# Characters where the tests of an id's tail may part: ASCII letters of either case and
# digits, a separator, a newline, letters and digits outside ASCII (`ǅ` is titlecase,
# `١` an Arabic-Indic digit, `ß` lowercase with no uppercase in one character).
_ID_CHARS = "abz09AZ-_ \n\r\t.ǅ١ßéİ"


@settings(max_examples=_EXAMPLES)
@given(
    st.sampled_from(["i-", "d-", "eni-", "", "-", "a.b"]),
    st.text(alphabet=_ID_CHARS, max_size=6),
    st.text(alphabet=_ID_CHARS, max_size=8),
    st.sampled_from([None, 0, -1, 1, 3, 8, 20]),
)
def test_the_id_format_pattern_holds_of_the_ids_the_format_test_admits(
    prefix: str, head: str, tail: str, length: int | None
) -> None:
    """`id_format_pattern`'s `fullmatch` (many ids tested in C) agrees with
    `id_has_format` on ids with and without the prefix, of every length near the format's;
    a length below one has no pattern."""
    pattern = semantics.id_format_pattern(prefix, length)
    if length is not None and length < 1:
        assert pattern is None
        return
    assert pattern is not None
    for key in (prefix + tail, head + tail, prefix + tail.lower(), prefix + "a" * (length or 3)):
        assert (pattern.fullmatch(key) is not None) is semantics.id_has_format(
            key, prefix, length
        ), key


_VALID_TAILS = st.text(alphabet="abcxyz0189", min_size=1, max_size=4)


@settings(max_examples=_EXAMPLES)
@given(
    st.sampled_from(["i-", "d-", "m-", "eni-", "", "9", "é-", "\n"]),
    st.sampled_from([None, 0, 1, 2, 4]),
    st.lists(
        st.one_of(
            _VALID_TAILS.map(lambda tail: ("valid", tail)),
            _VALID_TAILS.map(lambda tail: ("longer", tail)),
            _VALID_TAILS.map(lambda tail: ("shorter", tail)),
            st.text(alphabet=_ID_CHARS, max_size=6).map(lambda key: ("any", key)),
            st.tuples(st.integers(0, 8), st.sampled_from(_ID_CHARS)).map(
                lambda at: ("one changed", f"{at[0]}{at[1]}")
            ),
        ),
        max_size=6,
    ),
)
def test_all_have_id_format_holds_where_each_id_has_it(
    prefix: str, length: int | None, drawn: list[tuple[str, str]]
) -> None:
    """`all_have_id_format` (the ids told at once) holds exactly where each key has the
    format, for an ASCII prefix without a newline and a length; otherwise it may only
    decline. Keys of the
    format's width, mostly well formed, some with one character changed, in the prefix or
    the tail, some a character longer or shorter (a newline in a key lines the rest up)."""
    width = len(prefix) + (length or 0)
    keys = []
    for how, text in drawn:
        if how in ("valid", "longer", "shorter"):  # of the format, or a character off
            size = (length or len(text)) + {"valid": 0, "longer": 1, "shorter": -1}[how]
            keys.append(prefix + (text * (width + 1))[:size])
        elif how == "one changed":  # of the format but for one character, prefix or tail
            at, char = int(text[:-1]), text[-1]
            key = prefix + "a" * (length or 1)
            keys.append(key[:at] + char + key[at + 1 :])
        else:  # anything, often of the width, so that the offsets line up
            keys.append((prefix + text + "a" * width)[:width] if len(text) % 2 else text)
    each = bool(keys) and all(semantics.id_has_format(k, prefix, length) for k in keys)
    told = semantics.all_have_id_format(keys, prefix, length)
    if told:
        assert each
    if prefix.isascii() and "\n" not in prefix and length is not None and length >= 1:
        assert told is each
