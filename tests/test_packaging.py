"""The wheel carries what the engine reads at run time: the grammar and the bundled packs.

`grammar/` and `policies/` live at the top of the checkout, so an editable install never
shows a packaging mistake; only a built wheel does. Building needs no network: the build
backend (hatchling) and `build` are test dependencies, used without isolation.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("build") is None or importlib.util.find_spec("hatchling") is None,
    reason="building a wheel offline needs `build` and `hatchling` installed "
    "(pip install -e '.[test]')",
)

SHIPPED = (
    "policyengine/grammar/policy.lark",
    "policyengine/policies/alicloud/ecs.model",
    "policyengine/policies/alicloud/ecs-locations.policy",
    "policyengine/policies/alicloud/baseline.policy",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (built,) = out.glob("policyengine-*.whl")
    return built


def test_wheel_carries_the_grammar_and_the_packs(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in SHIPPED if name not in names]
    assert not missing, f"not in {wheel.name}: {missing}"
    assert "policyengine/__main__.py" in names
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "policyengine = policyengine.cli:main" in text


def test_unpacked_wheel_runs_without_the_checkout(wheel: Path, tmp_path: Path) -> None:
    """The engine finds its grammar and packs inside the package, not in the checkout."""
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    snapshot = tmp_path / "account.json"
    snapshot.write_text(
        json.dumps(
            {
                "resources": [
                    {
                        "kind": "disk",
                        "id": "d-" + "1" * 20,
                        "region": "cn-hangzhou",
                        "zone": "cn-hangzhou-h",
                        "encrypted": False,
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    script = (
        "import sys, policyengine;"
        "import policyengine.frontend.loader as l, policyengine.frontend.parser as p;"
        "print(policyengine.__file__); print(l.bundled_root());"
        "from policyengine.cli import main; sys.argv = ['policyengine', 'evaluate', "
        "'account.json', '-f', 'json']; main()"
    )
    env = {**os.environ, "PYTHONPATH": str(site), "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    module_file, packs, report = done.stdout.split("\n", 2)
    assert Path(module_file).is_relative_to(site), "the unpacked wheel was not imported"
    assert Path(packs) == site / "policyengine" / "policies"
    assert done.returncode == 1, done.stderr  # the bundled baseline finds the disk unencrypted
    rules = {r["rule"] for r in json.loads(report)["results"]}
    assert "org_baseline.encrypted_disks" in rules
