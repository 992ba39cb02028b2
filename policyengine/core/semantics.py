"""What each operation of the policy language means, written once.

The tracing interpreter, the compiled fast path and the linter's constant folding all
decide comparisons, membership, presence, regex and id-format matching, `covers` /
`within`, and/or/not and quantifiers through the functions here, so they cannot drift
apart. Every table over an enum below is a `match` ending in `assert_never`: adding a
member to `Op` (or any other enum here) makes mypy name each place that must say what it
means.

Three-valued logic is generic in what stands for "undecided": the interpreter passes an
`Unknown` that carries its reason, the fast path a bare marker, the linter `None`. A truth
is `True`, `False` or one of those; anything that is not a bool is undecided.
"""

from __future__ import annotations

import enum
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final, TypeVar, assert_never

# A module import, not names from it: the model's guards use `compare`, so the two
# modules import each other and each reads the other's names only when called.
from policyengine.core import model

U = TypeVar("U")  # what an evaluator uses for "undecided"
A = TypeVar("A")
B = TypeVar("B")

# ---------------------------------------------------------------- the enums


class Op(enum.StrEnum):
    """A comparison operator, as written."""

    EQ = "=="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="


class Containment(enum.StrEnum):
    """`covers` (the left side contains the right) and `within` (the other way round)."""

    COVERS = "covers"
    WITHIN = "within"


class RangeKind(enum.StrEnum):
    """What a containment test compares: port ranges or CIDR blocks."""

    PORT = "port"
    CIDR = "cidr"


class Presence(enum.StrEnum):
    """`is present`, `is missing`, `is set` (present and not empty), `is empty`."""

    PRESENT = "present"
    MISSING = "missing"
    SET = "set"
    EMPTY = "empty"


class Quantifier(enum.StrEnum):
    EVERY = "every"
    ANY = "any"
    NO = "no"


class Severity(enum.StrEnum):
    """How bad a finding is, low to critical (declaration order is rank order)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """1 for low up to 4 for critical: `--fail-on` keeps findings at or above one."""
        match self:
            case Severity.LOW:
                return 1
            case Severity.MEDIUM:
                return 2
            case Severity.HIGH:
                return 3
            case Severity.CRITICAL:
                return 4
            case _:
                assert_never(self)


class Enforcement(enum.StrEnum):
    """Mandatory findings fail a run; advisory ones are reported and never fail it."""

    ADVISORY = "advisory"
    MANDATORY = "mandatory"


# ---------------------------------------------------------------- comparison


def comparison(op: Op) -> Callable[[Any, Any], Any]:
    """The Python function that decides `op`, chosen once (the fast path keeps it)."""
    match op:
        case Op.EQ:
            return operator.eq
        case Op.NE:
            return operator.ne
        case Op.LT:
            return operator.lt
        case Op.LE:
            return operator.le
        case Op.GT:
            return operator.gt
        case Op.GE:
            return operator.ge
        case _:
            assert_never(op)


def compare(op: Op, left: Any, right: Any) -> bool:
    return bool(_COMPARISONS[op](left, right))


_COMPARISONS: Mapping[Op, Callable[[Any, Any], Any]] = {op: comparison(op) for op in Op}


def orders(op: Op) -> bool:
    """Whether `op` orders its operands (then both must be numbers, text or times)."""
    match op:
        case Op.EQ | Op.NE:
            return False
        case Op.LT | Op.LE | Op.GT | Op.GE:
            return True
        case _:
            assert_never(op)


def negation(op: Op) -> Op:
    """The operator that holds exactly where `op` does not: `not (a < b)` is `a >= b`."""
    match op:
        case Op.EQ:
            return Op.NE
        case Op.NE:
            return Op.EQ
        case Op.LT:
            return Op.GE
        case Op.LE:
            return Op.GT
        case Op.GT:
            return Op.LE
        case Op.GE:
            return Op.LT
        case _:
            assert_never(op)


def mirror(op: Op) -> Op:
    """The operator with its sides swapped: `a < b` is `b > a`."""
    match op:
        case Op.EQ | Op.NE:
            return op
        case Op.LT:
            return Op.GT
        case Op.LE:
            return Op.GE
        case Op.GT:
            return Op.LT
        case Op.GE:
            return Op.LE
        case _:
            assert_never(op)


def phrase(op: Op) -> tuple[str, str]:
    """`op` said of the data, for a fix hint: (after "would pass if X", after "would
    need X"); `{v}` stands for the other side."""
    match op:
        case Op.EQ:
            return "were {v}", "to be {v}"
        case Op.NE:
            return "were anything but {v}", "to be anything but {v}"
        case Op.LT:
            return "were less than {v}", "to be less than {v}"
        case Op.LE:
            return "were at most {v}", "to be at most {v}"
        case Op.GT:
            return "were greater than {v}", "to be greater than {v}"
        case Op.GE:
            return "were at least {v}", "to be at least {v}"
        case _:
            assert_never(op)


def as_op(text: str) -> Op | None:
    """The comparison operator `text` names, if it names one."""
    return _OPS.get(text)


_OPS: Mapping[str, Op] = {op.value: op for op in Op}


def count_bound(op: Op) -> bool | None:
    """What `count OP 0` is for every count, when one answer fits all (`>= 0` always
    holds, `< 0` never does), else None. A count is 0 or more, and all counts above 0
    compare with 0 alike, so trying 0 and 1 decides it."""
    at_zero, above = compare(op, 0, 0), compare(op, 1, 0)
    return at_zero if at_zero == above else None


# ---------------------------------------------------------------- the other tests


def member(item: Any, collection: Any, negated: bool) -> bool:
    return (item in collection) != negated


def matches(regex: re.Pattern[str], value: Any) -> bool:
    """A `matches` test: the whole value, not a part of it."""
    return regex.fullmatch(value) is not None


def is_empty(value: Any) -> bool:
    return value in ("", [], {})


def presence_test(test: Presence) -> Callable[[bool, bool], bool]:
    """`is <test>` of a value, from whether it is missing and whether it is empty;
    chosen once (the fast path keeps it)."""
    match test:
        case Presence.PRESENT:
            return lambda missing, empty: not missing
        case Presence.MISSING:
            return lambda missing, empty: missing
        case Presence.SET:
            return lambda missing, empty: not missing and not empty
        case Presence.EMPTY:
            return lambda missing, empty: empty
        case _:
            assert_never(test)


def presence(test: Presence, missing: bool, empty: bool) -> bool:
    return _PRESENCE_TESTS[test](missing, empty)


_PRESENCE_TESTS: Mapping[Presence, Callable[[bool, bool], bool]] = {
    test: presence_test(test) for test in Presence
}


def id_format_holds(identity: model.IdFormat, key: str, data: Mapping[str, object]) -> bool:
    """Whether a resource's id has its kind's format: the prefix, then lowercase letters
    and digits (as many as the format says). Where the model's `name_when` holds the id
    is a name, which has no format to break."""
    if identity.name_when is not None and identity.name_when.holds(data):
        return True
    return id_has_format(key, identity.prefix, identity.length)


def id_has_format(key: str, prefix: str, length: int | None) -> bool:
    """Whether `key` is `prefix` then lowercase letters and digits, `length` of them where
    the format says how many."""
    tail = key[len(prefix) :]
    return (
        key.startswith(prefix)
        and tail.isascii()
        and tail.isalnum()
        and tail == tail.lower()
        and (length is None or len(tail) == length)
    )


def id_format_pattern(prefix: str, length: int | None) -> re.Pattern[str] | None:
    """`id_has_format` as a pattern whose `fullmatch` holds of the same ids, for testing
    many ids in C: lowercase ASCII letters and digits are what `isascii`, `isalnum` and
    equality with `lower` leave. None for a length below one, which no id has (an empty
    tail is not alphanumeric) and the pattern would allow."""
    if length is not None and length < 1:
        return None
    return re.compile(
        re.escape(prefix) + ("[a-z0-9]+" if length is None else f"[a-z0-9]{{{length}}}")
    )


_ID_TAIL: Final = b"abcdefghijklmnopqrstuvwxyz0123456789"


def all_have_id_format(keys: Sequence[str], prefix: str, length: int | None) -> bool:
    """Whether every key has the format (`id_has_format`), told from the keys joined by
    newlines in a few operations in C, where the format has a length and an ASCII prefix;
    False where any lacks it, and where it cannot be told so (no length, a prefix beyond
    ASCII, no keys): test each key then."""
    if length is None or length < 1 or not keys or not prefix.isascii() or "\n" in prefix:
        return False
    width, n = len(prefix) + length, len(keys)
    joined = "\n".join(keys)
    # A newline at each offset where a key `width` long would end, the last key as long:
    # with no other newline (the deletion below counts them), every key is `width` long.
    if len(joined) != n * (width + 1) - 1 or joined[width :: width + 1] != "\n" * (n - 1):
        return False
    if not joined.isascii():
        return False
    # Then each prefix is at the same offsets of every key.
    if any(joined[i :: width + 1] != c * n for i, c in enumerate(prefix)):
        return False
    # And every key holds no newline and every tail is lowercase letters and digits iff
    # deleting those leaves only what each prefix leaves, and the newlines between keys.
    left = joined.encode("ascii").translate(None, _ID_TAIL)
    return left == b"\n".join([prefix.encode("ascii").translate(None, _ID_TAIL)] * n)


def oriented(test: Containment, left: Any, right: Any) -> tuple[Any, Any]:
    """(the container, the member) of `left covers right` or `left within right`."""
    match test:
        case Containment.COVERS:
            return left, right
        case Containment.WITHIN:
            return right, left
        case _:
            assert_never(test)


def contains(kind: RangeKind, container: Any, member: Any) -> bool | None:
    """Whether the port range (or CIDR block) `container` holds all of `member`; None
    when either side is not one."""
    match kind:
        case RangeKind.PORT:
            outer = model.parse_port_range(str(container))
            inner = model.parse_port_range(str(member))
            if outer is None or inner is None:
                return None
            return outer[0] <= inner[0] and inner[1] <= outer[1]
        case RangeKind.CIDR:
            net, sub = model.parse_cidr(str(container)), model.parse_cidr(str(member))
            if net is None or sub is None:
                return None
            return net.version == sub.version and sub.subnet_of(net)  # type: ignore[arg-type]
        case _:
            assert_never(kind)


def noun(kind: RangeKind) -> str:
    """What a containment test's sides must be, said for a person."""
    match kind:
        case RangeKind.PORT:
            return "a port range"
        case RangeKind.CIDR:
            return "a CIDR block"
        case _:
            assert_never(kind)


# ---------------------------------------------------------------- three-valued logic


def decider(q: Quantifier) -> bool:
    """The truth of one element that settles the quantifier: a false one settles `every`,
    a true one `any` and `no`."""
    match q:
        case Quantifier.EVERY:
            return False
        case Quantifier.ANY | Quantifier.NO:
            return True
        case _:
            assert_never(q)


def settled(q: Quantifier, decided: bool) -> bool:
    """The quantifier's truth once an element settled it (`decided`), or once every
    element was decided and none settled it."""
    return (q is Quantifier.ANY) == decided


def fold(q: Quantifier, truths: Iterable[bool | U]) -> bool | U:
    """A quantifier over truths in Kleene logic, stopping at the first that settles it;
    otherwise the first undecided truth, if any, is the answer. `and` is `every` over its
    parts, `or` is `any`."""
    wanted, if_settled, if_not = _FOLDS[q]
    other = not wanted
    undecided: bool | U = if_not
    first = True
    for t in truths:
        if t is wanted:
            return if_settled
        if t is not other and first:
            undecided, first = t, False
    return undecided


def junction(
    q: Quantifier, parts: tuple[Callable[[A, B], bool | U], ...]
) -> Callable[[A, B], bool | U]:
    """`fold` as one closure over condition closures, for the fast path: the same
    Kleene logic, without building a generator at each call."""
    wanted, if_settled, if_not = _FOLDS[q]
    other = not wanted
    if len(parts) == 2:  # `a and b`, the commonest: no loop
        first, second = parts

        def folded_two(a: A, b: B) -> bool | U:
            t = first(a, b)
            if t is wanted:
                return if_settled
            u = second(a, b)
            if u is wanted:
                return if_settled
            if t is not other:
                return t  # the first undecided truth
            return u if u is not other else if_not

        return folded_two

    def folded(a: A, b: B) -> bool | U:
        undecided: bool | U = if_not
        first = True
        for part in parts:
            t = part(a, b)
            if t is wanted:
                return if_settled
            if t is not other and first:
                undecided, first = t, False
        return undecided

    return folded


# Per quantifier: the element truth that settles it, its truth then, and otherwise.
_FOLDS: Mapping[Quantifier, tuple[bool, bool, bool]] = {
    q: (decider(q), settled(q, True), settled(q, False)) for q in Quantifier
}


def negate(truth: bool | U) -> bool | U:
    """`not` in Kleene logic: undecided stays undecided."""
    if truth is True:
        return False
    if truth is False:
        return True
    return truth
