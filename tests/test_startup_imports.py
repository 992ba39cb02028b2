"""Start-up stays lean: a command imports what it uses when it runs, so importing the
command line, or evaluating a normalized snapshot, imports none of the modules only other
commands or other formats need. Each check runs in a fresh interpreter (the suite's own
process has imported everything)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import policyengine

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "ecs-account" / "snapshot.json"

# Modules of other commands (fmt, test, check --cost, docs, explain, snapshot graph and
# stats), of other output formats, and of the Terraform and aliyun converters.
NOT_AT_START = (
    "policyengine.frontend.formatter",
    "policyengine.frontend.cost",
    "policyengine.frontend.describe",
    "policyengine.frontend.lint",
    "policyengine.pipeline.testing",
    "policyengine.inputs.stats",
    "policyengine.inputs.importers.terraform.convert",
    "policyengine.inputs.importers.aliyun.export",
    "policyengine.inputs.importers.aliyun.reading",
    "policyengine.outputs.docs",
    "policyengine.outputs.picture",
    "policyengine.outputs.html",
    "policyengine.outputs.sarif",
    "policyengine.outputs.junit",
    "policyengine.outputs.github",
    "policyengine.outputs.gitlab",
    "policyengine.outputs.markdown",
    "hcl2",
    "grandalf",
    # Running apart, comparing two inputs and applying operations: their own options.
    "policyengine.pipeline.jobs",
    "policyengine.pipeline.wire",
    "policyengine.pipeline.delta",
    "policyengine.pipeline.verdicts",
    # The formats' pydantic models: read only for a file they must word the problems of.
    "policyengine.inputs.snapshot_format",
    "policyengine.pipeline.config_model",
    "yaml",  # read only for a waivers, parameters or configuration file in YAML
)

# The parser: a policy file already in the parse cache is read back, not parsed.
PARSER = ("lark", "policyengine.frontend.tree_builder", "policyengine.frontend.syntax_errors")

_IMPORTED = """
import contextlib, io, json, sys
{run}
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def _imported(run: str) -> set[str]:
    """The modules a fresh interpreter has imported after `run`; the same run asked
    again gives the first answer (`_imported_afresh` runs it again)."""
    if run not in _RAN:
        _RAN[run] = _imported_afresh(run)
    return _RAN[run]


_RAN: dict[str, set[str]] = {}


def _imported_afresh(run: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", _IMPORTED.format(run=run)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


def test_importing_the_command_line_imports_no_command_s_own_modules() -> None:
    loaded = _imported("import policyengine.cli")
    assert "policyengine.cli.evaluate" in loaded  # the commands are registered
    assert loaded.isdisjoint(NOT_AT_START), sorted(loaded & set(NOT_AT_START))


_EVALUATE = (
    f"sys.argv = ['policyengine', 'evaluate', {str(EXAMPLE)!r}]\n"
    "from policyengine.cli import main\n"
    "with contextlib.redirect_stdout(io.StringIO()):\n"
    "    try:\n"
    "        main()\n"
    "    except SystemExit as exit:\n"
    "        assert exit.code == 1, exit.code  # the example has findings\n"
)


def test_evaluating_a_snapshot_as_text_imports_no_other_format() -> None:
    loaded = _imported(_EVALUATE)
    assert "policyengine.runtime.compiled" in loaded  # it did evaluate
    assert loaded.isdisjoint(NOT_AT_START), sorted(loaded & set(NOT_AT_START))


def test_evaluating_with_the_policies_in_the_parse_cache_imports_no_parser() -> None:
    _imported(_EVALUATE)  # parsed the bundled packs into the cache, if they were not
    loaded = _imported_afresh(_EVALUATE)
    assert "policyengine.runtime.compiled" in loaded
    assert "policyengine.frontend.parser" in loaded  # it did read the cache
    assert loaded.isdisjoint(PARSER), sorted(loaded & set(PARSER))


@pytest.mark.parametrize("name", policyengine.__all__)
def test_every_name_of_the_library_is_there_on_first_use(name: str) -> None:
    assert getattr(policyengine, name) is not None
    assert name in dir(policyengine)
