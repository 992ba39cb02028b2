"""Shared test harness: plain-text snapshots and a CLI runner that shows what a user sees."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import typer.main
import typer.testing
from hypothesis import HealthCheck, settings
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode
from typer.testing import CliRunner

# Compiled modules are cached (in the git-ignored __pycache__ folders) even where
# PYTHONDONTWRITEBYTECODE is set: the suite starts a worker per core and dozens of
# short-lived Python processes, each of which would otherwise compile the package (and
# pytest rewrite the test modules) again (about 3 s of each worker's start).
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

from policyengine.cli import app  # noqa: E402

# The credential chain of `collect` never asks a cloud instance's metadata service (the
# tests run on no ECS instance), and so starts no background refresh thread: a thread
# left running would make `--jobs` start its workers afresh (spawn) in later tests.
os.environ["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true"

# Building the command line from the app's declarations takes longer than most commands
# run: the runner builds it once, as the installed command does once per process.
typer.testing._get_command = functools.cache(typer.main.get_command)

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"


@functools.cache
def pack_test_files() -> tuple[Any, ...]:
    """The bundled packs' test files (`policies/**/*.test.yaml`), read once a process:
    several test files take their parameters from the cases, and every worker of a
    parallel run collects every test file."""
    from policyengine.pipeline.testing import find_test_files, read_test_file

    return tuple(read_test_file(p) for p in find_test_files([ROOT / "policies"]))


class TextSnapshot(SingleFileSnapshotExtension):
    """One readable .txt file per snapshot, so a review diff reads like a terminal."""

    _write_mode = WriteMode.TEXT
    file_extension = "txt"


@pytest.fixture
def text_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(TextSnapshot)


def run_cli(args: Sequence[str], stdin: str | None = None) -> tuple[int, str, str]:
    """Runs the CLI as a user would: returns (exit code, stdout, stderr)."""
    os.environ["NO_COLOR"] = "1"
    result = CliRunner().invoke(app, list(args), input=stdin)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        # A crash would otherwise read as exit 1, "violations found".
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def transcript(args: Sequence[str], stdin: str | None = None) -> str:
    """Exit code, stdout and stderr in one text, the form CLI snapshots take."""
    code, out, err = run_cli(args, stdin)
    text = f"$ policyengine {' '.join(args)}\nexit {code}\n--- stdout\n{out}"
    if err:
        text += f"--- stderr\n{err}"
    return text


# An export of the example account (`collect` against the local stand-in of the
# endpoints, or examples/aliyun-export/ made that way): DescribeInvocations is denied in
# cn-hangzhou, and DescribeInstances has no LaunchTemplateId field, so the one planted
# violation that rests on a template's region is a fact no export can hold.
EXPORT_DENIED = "not collected: DescribeInvocations in cn-hangzhou: Forbidden.RAM"
EXPORT_CANNOT_HOLD = {
    ("ecs_locations.launch_template_region", "i-uf6bcb1vxfir8wkp796m", "lt-bp1f4lai0anrd4l1um9n")
}


def assert_the_example_accounts_findings(doc: dict[str, Any]) -> None:
    """`evaluate --format json` of an export of the example account fails exactly the
    account's planted violations (but the one no export can hold) and reports the denied
    API's four rules as `error`, naming the denied call."""
    planted = ROOT / "examples" / "ecs-account" / "expected.json"
    expected = {(e["rule"], e["resource"], e["related"]) for e in json.loads(planted.read_text())}
    failed = {
        (r["rule"], r["resource"]["id"], (r["related"] or {}).get("id"))
        for r in doc["results"]
        if r["outcome"] == "fail"
    }
    assert failed == expected - EXPORT_CANNOT_HOLD
    errors = {
        (r["rule"], r["resource"]["id"], r["message"])
        for r in doc["results"]
        if r["outcome"] == "error"
    }
    assert errors == {
        (rule, "cn-hangzhou", EXPORT_DENIED)
        for rule in (
            "ecs_locations.command_instance_region",
            "ecs_locations.command_region",
            "ecs_locations.resource_id_format",
            "org_baseline.approved_region",
        )
    }


@pytest.hookimpl(trylast=True)  # after pytest's own, which makes the temporary folders
def pytest_configure(config: pytest.Config) -> None:
    """Parse tables and syntax trees cached by the tests stay out of the user's cache
    (the fuzz tests parse thousands of generated policies). The run has one cache, which
    the workers of a parallel run share: each would otherwise build the parse tables
    and parse the bundled packs again."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        os.environ["XDG_CACHE_HOME"] = workerinput["policyengine_cache"]
    else:
        os.environ["XDG_CACHE_HOME"] = str(config._tmp_path_factory.mktemp("cache"))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """A worker of a parallel run is told the run's cache."""
    node.workerinput["policyengine_cache"] = os.environ["XDG_CACHE_HOME"]


# Property tests: ten examples each in the suite; `--hypothesis-profile=long`
# (or HYPOTHESIS_PROFILE=long) runs ten thousand per property.
settings.register_profile(
    "default", max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "long", max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


# The files that take longest, slowest first (seconds in one process, on two cores): they
# start first, so that the small files fill in at the end and the workers of a parallel
# run end together.
SLOWEST_FIRST = (
    "test_html_report.py",  # Chromium, and 10,000 findings (11)
    "test_pointers.py",  # every format of every input (7)
    "test_packaging.py",  # a wheel built and installed in a fresh venv (5)
    "test_jobs.py",  # worker processes and a Dask cluster (5)
    "test_collect.py",  # the example account collected (4)
    "test_fuzz_hostile.py",  # each hostile shape as its own process (4)
    "test_projection.py",
    "test_cli_color.py",  # the installed command through a pipe
    "test_doc_commands.py",
    "test_unread_fields.py",
    "test_progress.py",  # processes on a terminal
    "test_startup_imports.py",  # processes
    "test_fuzz_importers.py",
    "test_lsp.py",  # the language server as its own process
    "test_interpreter.py",
    "test_github_action.py",  # the action's steps in bash
    "test_formats.py",
    "test_importers.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: file order
