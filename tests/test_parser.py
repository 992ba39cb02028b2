"""The parser: every example of LANGUAGE.md parses, and syntax errors read well.

`tests/data/language/` holds the examples of LANGUAGE.md: the two code blocks
(`ecs.model`, `policies.policy`, copied as they are) and the constructs its prose names
(`prose.model`, `prose.policy`, one declaration or rule each). Each must parse; the
`ast.dump()` of each is pinned by a text snapshot.

One thing differs from LANGUAGE.md: in `prose.model` and `prose.policy`, an attribute
named `count` was renamed `size` (`count` is a keyword at the start of an expression:
`count >= 1` fails with "expected `(`"). Every other construct is kept as written, and
`prose.policy` is checked against `prose.model`.

Syntax errors are pinned as rendered PE001/PE002 text, one snapshot per case.
"""

from __future__ import annotations

import pickle
from dataclasses import fields
from pathlib import Path

import pytest
from lark import Lark
from syrupy.assertion import SnapshotAssertion

from policyengine.core.diagnostics import DiagnosticError
from policyengine.core.source import Source, Span
from policyengine.frontend import ast
from policyengine.frontend.grammar import cache_file, grammar_text
from policyengine.frontend.loader import load
from policyengine.frontend.parser import parse

LANGUAGE = Path(__file__).resolve().parent / "data" / "language"
LANGUAGE_FILES = sorted([*LANGUAGE.glob("*.model"), *LANGUAGE.glob("*.policy")])


def _parse(text: str, name: str = "case.policy") -> ast.File:
    return parse(Source(name, text))


def _policy(statement: str) -> str:
    """A policy file around one rule statement; the statement is on line 5."""
    return f"use alicloud.ecs\n\npolicy p {{\n  rule r {{\n    {statement}\n  }}\n}}\n"


def _statement(statement: str) -> ast.ForEach:
    """The rule statement of `_policy(statement)`, as parsed."""
    file = _parse(_policy(statement))
    assert isinstance(file, ast.PolicyFile)
    body = file.policies[0].rules[0].body
    assert body is not None  # a rule without a statement has no body
    return body


def _condition(text: str) -> ast.Condition:
    return _statement(text).condition


# ---------------------------------------------------------------- the grammar


def test_grammar_builds_in_strict_mode() -> None:
    # strict=True fails on any shift/reduce or reduce/reduce conflict and on any collision
    # between terminals (it needs the `interegular` package to see those).
    Lark(grammar_text(), parser="lalr", strict=True)


# ---------------------------------------------------------------- LANGUAGE.md examples


def test_the_examples_are_all_here() -> None:
    assert [p.name for p in LANGUAGE_FILES] == [
        "ecs.model",
        "policies.policy",
        "prose.model",
        "prose.policy",
    ]


@pytest.mark.parametrize("path", LANGUAGE_FILES, ids=lambda p: p.name)
def test_language_example_parses(path: Path, text_snapshot: SnapshotAssertion) -> None:
    file = parse(Source(path.name, path.read_text(encoding="utf-8")))
    expected = ast.ModelFile if path.suffix == ".model" else ast.PolicyFile
    assert isinstance(file, expected)
    assert ast.dump(file) + "\n" == text_snapshot


def test_language_policy_example_keeps_every_policy_and_rule() -> None:
    file = parse(Source("p", (LANGUAGE / "policies.policy").read_text(encoding="utf-8")))
    assert isinstance(file, ast.PolicyFile)
    assert {p.name.text: [r.name.text for r in p.rules] for p in file.policies} == {
        "ecs_locations": [
            "disk_same_zone",
            "eni_same_region",
            "image_same_region",
            "launch_template_zone",
        ],
        "org_baseline": [
            "tagged",
            "approved_region",
            "no_public_ssh",
            "fresh_images",
            "few_disks",
            "well_formed_ids",
            "region_quota",
        ],
    }


def test_language_model_example_keeps_every_kind_and_relation() -> None:
    file = parse(Source("m", (LANGUAGE / "ecs.model").read_text(encoding="utf-8")))
    assert isinstance(file, ast.ModelFile)
    assert [k.name.text for k in file.kinds] == [
        "instance",
        "disk",
        "security_group",
        "image",
        "key_pair",
        "ram_role",
        "ram_role_attachment",
        "tag_binding",
        "reserved_instance",
        "invocation",
    ]
    assert len(file.relations) == 12  # as many as LANGUAGE.md declares
    assert [r.name.text for r in file.records] == ["sg_rule"]
    assert [d.name.text for d in file.defines] == ["world_open"]
    [join] = [r for r in file.relations if r.join]
    assert [k.text for k in join.join] == ["region"]


def test_the_prose_examples_check_against_their_model(tmp_path: Path) -> None:
    # prose.policy over prose.model, as written: every construct checks, not only parses.
    (tmp_path / "example").mkdir()
    for name in ("prose.model", "prose.policy"):
        text = (LANGUAGE / name).read_text(encoding="utf-8")
        (tmp_path / "example" / name).write_text(text, encoding="utf-8")
    (tmp_path / "example" / "other.model").write_text("model example.other\n", encoding="utf-8")
    loaded = load([tmp_path / "example" / "prose.policy"])
    assert "prose.located" in {r.id for r in loaded.plan.rules}
    assert [r.id for r in loaded.plan.region_rules] == ["prose.located"]


def test_a_sentence_remembers_how_it_was_written() -> None:
    body = _statement('disk attach instance as vm requires same zone unless vm.status == "x"')
    assert body.origin is not None
    assert body.origin.span.text.startswith("disk attach instance as vm requires same zone")
    assert isinstance(body.condition, ast.SameLocation)
    assert body.condition.span.text == "requires same zone"
    # The edge is `subject verb [object] [as alias]`, without the requirement.
    assert body.edge is not None
    assert body.edge.span.text == "disk attach instance as vm"


def test_an_attribute_segment_span_starts_at_the_name() -> None:
    cond = _condition("for each instance require vpc_attributes . vpc_id is set")
    assert isinstance(cond, ast.Presence) and isinstance(cond.operand, ast.Path)
    [segment] = cond.operand.segments
    assert segment.span.text == "vpc_id"


def test_empty_files_parse_as_empty_policy_files() -> None:
    assert _parse("") == ast.PolicyFile(uses=(), policies=(), span=None)  # type: ignore[arg-type]
    assert _parse("# only a comment\n\n") == _parse("")


# ---------------------------------------------------------------- fixed engine bugs, guarded


def _related(collection: object) -> tuple[str, str, str]:
    assert isinstance(collection, ast.Related)
    return (collection.left.text, collection.verb.text, collection.right.text)


def test_relation_expression_with_the_verb_use() -> None:
    # `use` heads a model only, so after `this` it is an ordinary name (a verb). It used
    # to lex as the keyword of `use alicloud.ecs`, making `this use image` a syntax error.
    cond = _condition('for each instance require every img in this use image: img.x == "y"')
    assert isinstance(cond, ast.Quantifier)
    assert _related(cond.source) == ("this", "use", "image")
    cond = _condition("for each instance require count(this use image) <= 1")
    assert isinstance(cond, ast.Compare) and isinstance(cond.left, ast.Count)
    assert _related(cond.left.source) == ("this", "use", "image")


def test_use_heads_a_model() -> None:
    with pytest.raises(DiagnosticError) as info:
        _parse('model m\nkind vm id "i-" located in zone\nuse alicloud.ecs\n', "m.model")
    [diag] = info.value.diagnostics
    assert (diag.code, diag.span.line, diag.span.text) == ("PE001", 3, "use")


@pytest.mark.parametrize(
    "sentence",
    [
        "disk attach requires  # why\n      same zone",
        "disk attach requires same # why\n      zone",
    ],
)
def test_a_comment_inside_a_sentence(sentence: str) -> None:
    # This used to crash the transformer (lark's VisitError around an AssertionError).
    body = _statement(sentence)
    assert isinstance(body.condition, ast.SameLocation)
    assert body.condition.scope == "zone"
    assert body.origin is not None and body.origin.span.text == sentence


# ---------------------------------------------------------------- quantifiers and `and`


def test_a_quantifier_may_end_an_and_chain(text_snapshot: SnapshotAssertion) -> None:
    cond = _condition("for each disk require encrypted and every a in attachments: a.device is set")
    assert isinstance(cond, ast.AllOf)
    assert isinstance(cond.conditions[-1], ast.Quantifier)
    assert ast.dump(cond) + "\n" == text_snapshot


def test_a_quantifier_body_takes_the_rest_of_the_chain(text_snapshot: SnapshotAssertion) -> None:
    # `every a in xs: b and c` quantifies `b and c`: no syntax error, but `c` moves inside.
    cond = _condition("for each disk require every a in attachments: a.device is set and encrypted")
    assert isinstance(cond, ast.Quantifier)
    assert isinstance(cond.body, ast.AllOf)
    assert ast.dump(cond) + "\n" == text_snapshot


def test_a_parenthesised_quantifier_may_come_first(text_snapshot: SnapshotAssertion) -> None:
    cond = _condition(
        "for each disk require (every a in attachments: a.device is set) and encrypted"
    )
    assert isinstance(cond, ast.AllOf)
    assert isinstance(cond.conditions[0], ast.Quantifier)
    assert isinstance(cond.conditions[1], ast.Truthy)
    assert ast.dump(cond) + "\n" == text_snapshot


def test_a_quantifier_ends_an_or_chain() -> None:
    cond = _condition(
        "for each disk require encrypted and size > 1 or every a in attachments: a.device is set"
    )
    assert isinstance(cond, ast.AnyOf)
    assert isinstance(cond.conditions[0], ast.AllOf)
    assert isinstance(cond.conditions[1], ast.Quantifier)


def test_not_applies_to_a_parenthesised_quantifier() -> None:
    cond = _condition("for each disk require not (every a in attachments: a.device is set)")
    assert isinstance(cond, ast.Not)
    assert isinstance(cond.condition, ast.Quantifier)


def test_not_applies_to_a_bare_quantifier() -> None:
    # `not every ...` was a syntax error (after `not`, `every` lexed as a name).
    cond = _condition("for each disk require not every a in attachments: a.device is set")
    assert isinstance(cond, ast.Not)
    assert isinstance(cond.condition, ast.Quantifier)
    assert cond.condition.quantifier == "every"
    assert isinstance(cond.condition.body, ast.Presence)


def test_not_quantifier_may_end_an_and_chain() -> None:
    cond = _condition(
        "for each disk require encrypted and not any a in attachments: a.device is set"
    )
    assert isinstance(cond, ast.AllOf)
    assert isinstance(cond.conditions[0], ast.Truthy)
    last = cond.conditions[-1]
    assert isinstance(last, ast.Not) and isinstance(last.condition, ast.Quantifier)


def test_a_count_filter_takes_any_condition() -> None:
    # A bare quantifier in a count's `where` was a syntax error; the filter ends at `)`.
    cond = _condition(
        "for each disk require count(a in attachments where a.device is set or "
        "every x in attachments: x.device is set) > 1"
    )
    assert isinstance(cond, ast.Compare) and isinstance(cond.left, ast.Count)
    where = cond.left.where
    assert isinstance(where, ast.AnyOf)
    assert isinstance(where.conditions[0], ast.Presence)
    assert isinstance(where.conditions[1], ast.Quantifier)


# ---------------------------------------------------------------- syntax errors

SYNTAX_ERRORS: dict[str, str] = {
    # `needs` is taken for the object kind of `disk attach`, so the error is at `same`.
    "unexpected_word": _policy("disk attach needs same zone"),
    "missing_requires_in_a_sentence": _policy("disk attach same zone"),
    "missing_require_in_a_core_rule": _policy("for each disk encrypted == true"),
    "end_of_file_inside_a_rule": "use alicloud.ecs\n\npolicy p {\n  rule r {\n"
    "    disk attach requires same zone\n",
    "end_of_file_inside_a_condition": "use alicloud.ecs\n\npolicy p {\n  rule r {\n"
    "    for each disk require size ==",
    "end_of_file_inside_a_policy": "use alicloud.ecs\n\npolicy p {\n  rule r {\n"
    "    disk attach requires same zone\n  }\n",
    "unexpected_character": _policy("for each disk require size == 1 & encrypted"),
    "invalid_string_escape": _policy('for each disk require category == "a\\qb"'),
    "unterminated_string": _policy('for each disk require category == "abc'),
    "unknown_severity": "use alicloud.ecs\n\npolicy p {\n  severity urgent\n}\n",
    "rule_outside_a_policy": "use alicloud.ecs\n\nrule r {\n  disk attach requires same zone\n}\n",
    "model_declaration_in_a_policy_file": 'use alicloud.ecs\n\nkind box id "b-" located in zone\n',
    "closing_brace_too_many": _policy("disk attach requires same zone") + "}\n",
    "keyword_as_an_attribute": _policy("for each disk require count >= 1"),
}


@pytest.mark.parametrize("case", SYNTAX_ERRORS, ids=str)
def test_syntax_error(case: str, text_snapshot: SnapshotAssertion) -> None:
    with pytest.raises(DiagnosticError) as info:
        _parse(SYNTAX_ERRORS[case])
    diags = info.value.diagnostics
    assert len(diags) == 1
    assert diags[0].code in ("PE001", "PE002")
    assert diags[0].span.file == "case.policy"
    assert str(info.value) + "\n" == text_snapshot


@pytest.mark.parametrize(
    ("case", "code", "line"),
    [
        ("unexpected_word", "PE001", 5),
        ("missing_requires_in_a_sentence", "PE001", 5),
        ("end_of_file_inside_a_rule", "PE001", 5),
        ("unexpected_character", "PE001", 5),
        ("invalid_string_escape", "PE002", 5),
    ],
)
def test_syntax_error_code_and_line(case: str, code: str, line: int) -> None:
    with pytest.raises(DiagnosticError) as info:
        _parse(SYNTAX_ERRORS[case])
    [diag] = info.value.diagnostics
    assert (diag.code, diag.span.line) == (code, line)


def test_unexpected_end_of_file_points_at_the_last_character() -> None:
    with pytest.raises(DiagnosticError) as info:
        _parse(SYNTAX_ERRORS["end_of_file_inside_a_rule"])
    [diag] = info.value.diagnostics
    assert diag.span.text == "e"  # the last letter of `zone`
    assert diag.span.location() == "case.policy:5:34"


# ---------------------------------------------------------------- robustness


def _variants() -> list[str]:
    """Broken inputs: prefixes and line deletions of a real policy, and odd text."""
    text = (LANGUAGE / "policies.policy").read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    out = ["".join(lines[:i]) for i in range(len(lines))]  # cut after each line
    out += ["".join(lines[:i]) + lines[i][: len(lines[i]) // 2] for i in range(len(lines))]
    out += ["".join(lines[:i] + lines[i + 1 :]) for i in range(0, len(lines), 3)]
    model = (LANGUAGE / "ecs.model").read_text(encoding="utf-8").splitlines(keepends=True)
    out += ["".join(model[:i]) + model[i][: len(model[i]) // 2] for i in range(len(model))]
    out += [
        "\x00",
        "\ufeffuse alicloud.ecs\n",  # a byte-order mark
        "use alicloud.ecs\npolicy p { rule r { for each disk require size == 1",
        'use alicloud.ecs\npolicy p "',
        "use alicloud.ecs\npolicy p { rule r { for each disk require category matches /",
        "use alicloud.ecs\npolicy p { rule r { for each disk require category matches //",
        'use alicloud.ecs\npolicy p { rule r { for each disk require c == "\\u12" } }',
        'use alicloud.ecs\npolicy p { rule r { for each disk require c == "\\ud800" } }',
        "use alicloud.ecs\npolicy p { rule r { for each disk require x == 1e5 } }",
        "use alicloud.ecs\npolicy p { rule r { for each disk require x == --1 } }",
        'model m\nkind k id "k-" + -1 located in zone\n',
        'model m\nkind k id "k-" + 99999999999999999999 located in zone\n',
        "use " + "a." * 200 + "b\n",
        "use alicloud.ecs\npolicy p { rule r { for each disk require "
        + "(" * 50
        + "encrypted"
        + ")" * 50
        + " } }",
        "use alicloud.ecs\npolicy p { rule r { for each disk require tags[] is set } }",
        "use alicloud.ecs\npolicy p { rule r { for each disk require tags[*]] is set } }",
        "use alicloud.ecs\npolicy p { rule r { for each disk require é == 1 } }",
        "}}}}",
        "{",
        "policy policy policy",
    ]
    return out


def test_parse_raises_only_diagnostic_errors() -> None:
    failures = []
    for text in _variants():
        try:
            _parse(text)
        except DiagnosticError as exc:
            for diag in exc.diagnostics:
                assert diag.code in ("PE001", "PE002"), diag
                assert 0 <= diag.span.start <= diag.span.end <= len(text), (text, diag)
                str(exc)  # renders
        except Exception as exc:  # noqa: BLE001 - the point of the test
            failures.append(f"{type(exc).__name__} for {text[-60:]!r}")
    assert failures == []


def test_parse_tables_are_cached_per_user_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = cache_file(grammar_text())
    assert isinstance(path, str) and path.startswith(str(tmp_path / "policyengine"))
    first = Lark(grammar_text(), parser="lalr", maybe_placeholders=True, cache=path)
    assert Path(path).is_file()
    again = Lark(grammar_text(), parser="lalr", maybe_placeholders=True, cache=path)
    text = "use alicloud.ecs\n"
    assert again.parse(text) == first.parse(text)


def test_no_cache_where_the_cache_folder_cannot_be_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert cache_file(grammar_text()) is False


def test_a_tree_read_back_from_its_pickle_has_every_field_and_span() -> None:
    """The parse cache stores trees as pickles and nodes restore themselves by field
    name: every node of every bundled file comes back with the same fields, spans
    included (`==` ignores spans)."""

    def flat(node: object) -> list[tuple[str, object]]:
        if isinstance(node, ast.Node):
            out: list[tuple[str, object]] = [("type", type(node).__name__)]
            for f in fields(node):
                value = getattr(node, f.name)
                if isinstance(value, Span):
                    out.append((f.name, (value.source.name, value.start, value.end)))
                else:
                    out += [(f.name, item) for item in flat(value)] or [(f.name, value)]
            return out
        if isinstance(node, tuple):
            return [item for element in node for item in flat(element)] or [("()", ())]
        return []

    files = sorted(Path("policies").rglob("*.policy")) + sorted(Path("policies").rglob("*.model"))
    assert len(files) > 10
    for path in files:
        tree = parse(Source(str(path), path.read_text()))
        again = pickle.loads(pickle.dumps(tree, protocol=pickle.HIGHEST_PROTOCOL))
        assert flat(again) == flat(tree), path


def test_a_cached_tree_is_the_parsed_one_and_a_damaged_entry_is_parsed_again() -> None:
    from policyengine.frontend.parser import _ast_cache

    source = Source("cached.policy", _policy("for each disk require encrypted == true"))
    first = parse(source)
    entry = _ast_cache(source)
    assert entry is not None and entry.is_file()
    assert ast.dump(parse(source)) == ast.dump(first)  # read back from the cache
    entry.write_bytes(b"not a pickle")
    assert ast.dump(parse(source)) == ast.dump(first)  # parsed again
