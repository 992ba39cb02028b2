"""Every rule of the bundled packs against the packs' own test files,
policies/alicloud/*.test.yaml, run case by case through `policyengine.pipeline.testing` (what
`policyengine test` runs).

Each case's rules must report exactly the expected outcomes, one expectation per outcome,
with the reason an expectation pins; every bundled rule must have a case in which it
passes and one in which it fails. Each case runs on both evaluators, which must agree.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from conftest import pack_test_files
from differential import evaluate_both

from policyengine.frontend.loader import bundled_policies, load
from policyengine.pipeline import testing
from policyengine.pipeline.testing import (
    Loads,
    Run,
    render_text,
    run_case,
)

FILES = pack_test_files()
LOADS = Loads()


def _cases() -> list[Any]:
    return [
        pytest.param(f, i, id=f"{f.path.name}: {case.name}")
        for f in FILES
        for i, case in enumerate(f.cases)
    ]


@pytest.mark.parametrize(("test_file", "index"), _cases())
def test_pack_case(
    test_file: testing.TestFile, index: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(testing, "evaluate", evaluate_both)  # the fast path agrees too
    result = run_case(test_file, test_file.cases[index], LOADS)
    assert result.passed, render_text(Run(results=[result]))


def test_every_bundled_rule_has_a_passing_and_a_failing_case() -> None:
    rules = {r.id for r in load(bundled_policies(opt_in=True)).plan.rules}
    assert rules, "no bundled rule was loaded"
    seen: dict[str, set[str]] = {}
    for f in FILES:
        for case in f.cases:
            for e in case.expect:
                seen.setdefault(e.rule, set()).add(e.outcome)
    problems = [
        f"{rule}: no case expects a `{outcome}`"
        for rule in sorted(rules)
        for outcome in ("pass", "fail")
        if outcome not in seen.get(rule, set())
    ]
    problems += [f"{rule}: no bundled rule has this id" for rule in sorted(seen.keys() - rules)]
    assert not problems, "\n".join(problems)


def test_case_names_are_unique_in_each_file() -> None:
    for f in FILES:
        twice = [name for name, n in Counter(c.name for c in f.cases).items() if n > 1]
        assert not twice, f"{f.path}: {twice}"
