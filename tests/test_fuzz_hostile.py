"""Fuzzing the shapes an attacker reaches for: YAML tags and aliases in test files,
conditions nested or chained far past what people write, chains of defines, paths that
lead to devices, FIFOs, the kernel's files or out of the checkout, and outputs that cannot
be written. Whatever the shape, the answer is a verdict or a clear error: never exit 4
(internal), never a secret printed, never a hang; and `check` refuses exactly what
`evaluate` refuses.

The properties run the commands in the test process (typer's runner, which raises what
the command raised: an uncaught exception is what the installed command reports as exit
4), so the long profile affords thousands of examples per property; a few examples each
run in the suite. One case of each shape also runs as its own process, where stdin, the
exit code and the environment are the real ones.

    HYPOTHESIS_PROFILE=long pytest tests/test_fuzz_hostile.py -n 0
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conftest import ROOT, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

SNAPSHOT = ROOT / "examples" / "ecs-account" / "snapshot.json"
SECRET = "fuzz-secret-never-printed"
INTERNAL = 4


def _examples(long: int) -> settings:
    """The loaded profile's example count, capped at `long`: the suite's few stay few, and
    the long profile runs as many as the property can afford within minutes."""
    return settings(max_examples=min(settings().max_examples, long))


@contextmanager
def _checkout() -> Iterator[Path]:
    """A fresh working directory with the example snapshot, and a secret beside it."""
    before = Path.cwd()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "secret.txt").write_text(f"TOKEN={SECRET}\n", encoding="utf-8")
        work = root / "work"
        work.mkdir()
        shutil.copy(SNAPSHOT, work / "snapshot.json")
        os.chdir(work)
        try:
            yield work
        finally:
            os.chdir(before)


def _run(args: list[str]) -> tuple[int, str]:
    code, out, err = run_cli(args)
    assert code != INTERNAL, (args, out, err)
    assert SECRET not in out + err
    return code, out + err


def _policy(condition: str, defines: str = "") -> str:
    return (
        f"use alicloud.ecs\n\n{defines}\npolicy p {{\n  rule r {{\n"
        f"    for each disk require {condition}\n  }}\n}}\n"
    )


# ---------------------------------------------------------------- YAML in test files

_SCALARS = st.sampled_from(
    [
        "x",
        "'quoted'",
        "1",
        "-2.5",
        "true",
        "null",
        "2024-01-01",
        "2024-01-01T08:00:00Z",
        "!!binary aGVsbG8=",
        "!!set {a, b}",
        "!!omap [{a: 1}]",
        "!!pairs [{a: 1}]",
        "!!timestamp 2024-01-01",
        "!!python/object:os.system x",
        "!custom x",
        ".nan",
        "-.inf",
        "0x1F",
        "~",
    ]
)


def _bomb(width: int, levels: int) -> str:
    lines = ["a0: &a0 [" + ", ".join(["x"] * width) + "]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


@_examples(4_000)
@given(
    value=_SCALARS,
    key=st.sampled_from(["name", "rule", "1", "true", "null", "[a]", "{b: c}", "? x"]),
    bomb=st.tuples(st.integers(1, 12), st.integers(0, 9)),
    depth=st.integers(0, 300),
)
def test_a_hostile_test_file_is_refused_or_run(
    value: str, key: str, bomb: tuple[int, int], depth: int
) -> None:
    case = (
        f"{{name: x, rule: p.r, resources: [{{kind: disk, id: d, {key}: {value}}}], "
        f"expect: [{{resource: d, outcome: pass}}]}}"
    )
    nested = "[" * depth + "1" + "]" * depth
    with _checkout() as work:
        (work / "p.policy").write_text(_policy("encrypted"), encoding="utf-8")
        (work / "p.test.yaml").write_text(
            _bomb(*bomb) + f"deep: {nested}\ncases:\n  - {case}\n", encoding="utf-8"
        )
        code, _ = _run(["test", "p.test.yaml"])
        assert code in (0, 1, 3)


# ---------------------------------------------------------------- deep conditions

_WRAP = st.sampled_from(["not", "paren", "and", "or", "any", "every", "and-chain", "or-chain"])


# Terms of `and`/`or` chains one condition may hold in all: long chains (500 terms once
# exhausted the interpreter's stack) and deep nesting both fit, while a condition stays a
# few thousand tokens, so one example costs milliseconds, not the seconds of parsing a
# third of a megabyte.
_CHAIN_BUDGET = 1_200


def _nest(wrappers: list[str], chain: int) -> str:
    """The condition built by applying each wrapper in turn (iteratively: the generator
    must not recurse either); chains take `chain` terms while the budget lasts, then two."""
    text = "encrypted"
    budget = _CHAIN_BUDGET
    for wrap in wrappers:
        if wrap == "not":
            text = f"not {text}"
        elif wrap == "paren":
            text = f"({text})"
        elif wrap in ("and", "or"):
            text = f"(size > 1 {wrap} ({text}))"
        elif wrap in ("any", "every"):
            text = f"({wrap} t in attachments: ({text}))"
        else:
            op = wrap.removesuffix("-chain")
            terms = max(2, min(chain, budget))
            budget -= terms
            text = f"({f' {op} '.join(['size > 1'] * terms)} {op} ({text}))"
    return text


def _check_and_evaluate(policy: str) -> None:
    """`check` refuses (exit 3) exactly when `evaluate` does; neither crashes."""
    with _checkout() as work:
        (work / "p.policy").write_text(policy, encoding="utf-8")
        checked, said = _run(["check", "p.policy"])
        evaluated, _ = _run(["evaluate", "--policy", "p.policy", "snapshot.json"])
        assert checked in (0, 3)
        assert (checked == 3) == (evaluated == 3), said
        _run(["fmt", "--check", "p.policy"])
        if evaluated != 3:
            _run(["explain", "--policy", "p.policy", "--rule", "p.r", "snapshot.json"])


@_examples(2_000)
@given(st.lists(_WRAP, max_size=160), st.integers(2, 600))
def test_a_deep_or_long_condition_is_evaluated_or_refused_alike(
    wrappers: list[str], chain: int
) -> None:
    _check_and_evaluate(_policy(_nest(wrappers, chain)))


@_examples(2_000)
@given(st.integers(1, 400), st.lists(_WRAP, max_size=20), st.booleans())
def test_a_chain_of_defines_is_evaluated_or_refused_alike(
    length: int, wrappers: list[str], in_policy: bool
) -> None:
    body = _nest(wrappers, 3).replace("encrypted", "x.encrypted").replace("size", "x.size")
    body = body.replace("attachments", "x.attachments")
    lines = [f"define d0(x: disk) = {body}"]
    lines += [f"define d{i}(x: disk) = d{i - 1}(x)" for i in range(1, length)]
    defines = "\n".join(lines) + "\n"
    policy = _policy(f"d{length - 1}(disk)", defines)
    if in_policy:  # defines inside the policy block rather than at the top of the file
        policy = _policy(f"d{length - 1}(disk)").replace("  rule r", defines + "  rule r", 1)
    _check_and_evaluate(policy)


# ---------------------------------------------------------------- hostile paths

_TARGETS = st.sampled_from(
    ["/proc/self/environ", "/dev/zero", "/dev/null", "../secret.txt", "fifo", "dir", "dangling"]
)
_ROLES = st.sampled_from(["policy", "model", "waivers", "snapshot", "test-policy", "export"])


def _plant(work: Path, target: str) -> Path:
    """What a committed symlink would point at."""
    if target == "fifo":
        os.mkfifo(work / "fifo")
        return work / "fifo"
    if target == "dir":
        (work / "dir").mkdir()
        return work / "dir"
    if target == "dangling":
        return work / "no-such-file"
    return (work / target).resolve() if target.startswith("..") else Path(target)


@_examples(1_000)  # 42 cases: the search ends when every one has run
@given(_ROLES, _TARGETS)
def test_a_hostile_path_is_refused_without_a_leak_or_a_hang(role: str, target: str) -> None:
    with _checkout() as work:
        pack = work / "pack"
        pack.mkdir()
        (pack / "p.policy").write_text(_policy("encrypted"), encoding="utf-8")
        aim = _plant(work, target)
        if role == "policy":
            (pack / "leak.policy").symlink_to(aim)
            args = ["evaluate", "--policy", "pack", "snapshot.json"]
        elif role == "model":
            (pack / "leak.model").symlink_to(aim)
            (pack / "p.policy").write_text("use leak\n" + _policy("encrypted"), encoding="utf-8")
            args = ["check", "pack/p.policy"]
        elif role == "waivers":
            (pack / "waivers.yaml").symlink_to(aim)
            args = ["evaluate", "--policy", "pack", "snapshot.json"]
        elif role == "snapshot":
            (work / "leak.json").symlink_to(aim)
            args = ["evaluate", "--policy", "pack", "leak.json"]
        elif role == "test-policy":
            (pack / "leak.policy").symlink_to(aim)
            (pack / "p.test.yaml").write_text(
                "policies: [leak.policy]\ncases:\n  - {name: x, rule: p.r, resources: [], "
                "expect: [{resource: d, outcome: pass}]}\n",
                encoding="utf-8",
            )
            args = ["test", "pack/p.test.yaml"]
        else:
            shutil.copytree(ROOT / "examples" / "aliyun-export", "export")
            (work / "export" / "cn-hangzhou" / "leak.json").symlink_to(aim)
            args = ["evaluate", "export"]
        code, said = _run(args)
        if target != "dangling" or role in ("snapshot", "export"):
            assert code in (2, 3), said


# ---------------------------------------------------------------- outputs that cannot be written


@_examples(1_000)  # 90 cases
@given(
    st.sampled_from(["json", "sarif", "junit", "markdown", "github", "text"]),
    st.sampled_from(["/nonexistent/out", "/proc/out", "dir", "dir/", "/dev/full"]),
    st.sampled_from(["snapshot.json", "bad.json", "missing.json"]),
)
def test_an_output_that_cannot_be_written_is_a_usage_error(
    fmt: str, path: str, snapshot: str
) -> None:
    with _checkout() as work:
        (work / "dir").mkdir()
        (work / "bad.json").write_text("{", encoding="utf-8")
        code, said = _run(["evaluate", "--output", f"{fmt}={path}", snapshot])
        assert code == 2, said
        assert "cannot write" in said


@_examples(1_000)  # 6 cases
@given(st.sampled_from(["json", "sarif", "text"]), st.sampled_from(["snapshot.json", "p.policy"]))
def test_an_output_never_overwrites_an_input(fmt: str, target: str) -> None:
    with _checkout() as work:
        (work / "p.policy").write_text(_policy("encrypted"), encoding="utf-8")
        before = (work / target).read_bytes()
        code, said = _run(
            ["evaluate", "-p", "p.policy", "--output", f"{fmt}={target}", "snapshot.json"]
        )
        assert code == 2 and "would overwrite the input" in said
        assert (work / target).read_bytes() == before


# ---------------------------------------------------------------- each shape as its own process


def _process_cases(work: Path) -> dict[str, tuple[list[str], int, str]]:
    """One hostile case of each shape: the arguments, the exit code expected and a phrase
    the output must hold. The snapshot comes on stdin."""
    (work / "p.test.yaml").write_text(
        _bomb(9, 9) + "cases:\n  - {name: x, rule: p.r, resources: [{kind: disk, id: d, "
        "name: !!binary aGVsbG8=}], expect: [{resource: d, outcome: pass}]}\n",
        encoding="utf-8",
    )
    (work / "p.policy").write_text(_policy("encrypted"), encoding="utf-8")
    (work / "deep.policy").write_text(
        _policy(" and ".join(["size > 1"] * 500) + " and " + "not " * 400 + "encrypted"),
        encoding="utf-8",
    )
    lines = ["define d0(x: disk) = x.encrypted"]
    lines += [f"define d{i}(x: disk) = d{i - 1}(x)" for i in range(1, 400)]
    (work / "chain.policy").write_text(_policy("d399(disk)", "\n".join(lines)), encoding="utf-8")
    pack = work / "pack"
    pack.mkdir()
    (pack / "leak.model").symlink_to("/proc/self/environ")
    (pack / "p.policy").write_text("use leak\n" + _policy("encrypted"), encoding="utf-8")
    return {
        "yaml": (["test", "p.test.yaml"], 3, "p.test.yaml"),
        "deep": (["evaluate", "--policy", "deep.policy", "-"], 3, "deep.policy"),
        "defines": (["evaluate", "--policy", "chain.policy", "-"], 3, "chain.policy"),
        "path": (["check", "pack/p.policy"], 3, "leak.model"),
        "output": (["evaluate", "-p", "p.policy", "--output", "json=/dev/full", "-"], 2, "cannot"),
    }


def test_each_hostile_shape_as_its_own_process_exits_with_a_clear_error() -> None:
    """The installed command, one process per shape (started together: the suite waits for
    the slowest, not the sum): real stdin, the real exit code, a secret in the real
    environment that a symlink to /proc/self/environ would print."""
    snapshot = SNAPSHOT.read_bytes()
    env = {**os.environ, "NO_COLOR": "1", "FUZZ_TOKEN": SECRET}
    with _checkout() as work:
        cases = _process_cases(work)
        running = {
            shape: subprocess.Popen(
                [sys.executable, "-m", "policyengine", *args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=work,
                env=env,
            )
            for shape, (args, _, _) in cases.items()
        }
        for shape, process in running.items():
            out, err = process.communicate(snapshot, timeout=120)
            said = (out + err).decode()
            args, code, phrase = cases[shape]
            assert process.returncode == code, (shape, said)
            assert phrase in said, (shape, said)
            assert SECRET not in said
