"""The wheel carries what the engine reads at run time: the grammar and the bundled packs;
and it installs by its distribution name into a fresh virtual environment.

`grammar/` and `policies/` live at the top of the checkout, so an editable install never
shows a packaging mistake; only a built wheel does. Building needs no network: the build
backend (hatchling) and `build` are test dependencies, used without isolation.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from policyengine.core.version import DISTRIBUTION, __version__

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
    (built,) = out.glob(DISTRIBUTION.replace("-", "_") + "-*.whl")
    return built


def test_the_version_is_set_in_one_place() -> None:
    """pyproject.toml takes the version from the package; the wheel is named by it."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^dynamic = \["version"\]$', text, re.M)
    assert not re.search(r"^version\s*=", text, re.M)
    assert f'name = "{DISTRIBUTION}"' in text
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)


def test_the_wheel_is_named_and_licensed(wheel: Path) -> None:
    assert wheel.name.startswith(f"{DISTRIBUTION.replace('-', '_')}-{__version__}-")
    names = zipfile.ZipFile(wheel).namelist()
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert f"Name: {DISTRIBUTION}" in text and f"Version: {__version__}" in text
    assert "License-Expression: Apache-2.0" in text
    licence = next(n for n in names if n.endswith("/LICENSE"))
    assert "Apache License" in zipfile.ZipFile(wheel).read(licence).decode()


def _dependencies(where: Path) -> Path:
    """This environment's installed packages but this one: a folder of links to each
    entry of site-packages, leaving out this distribution (its editable install) and
    every .pth file."""
    where.mkdir()
    ours = Path(next(p for p in sys.path if p.endswith("site-packages")))
    own = DISTRIBUTION.replace("-", "_")
    for entry in ours.iterdir():
        if entry.suffix == ".pth" or entry.name.startswith((own, f"_{own}", "__editable__")):
            continue
        (where / entry.name).symlink_to(entry)
    return where


def _fresh_venv(where: Path, dependencies: Path) -> Path:
    """A virtual environment of its own, whose only link to this one is where it finds the
    dependencies (a .pth line), so that installing needs no network. It gets no pip of its
    own (ensurepip takes most of this test's time): this environment's pip installs into
    it with `--python`, as pip does for any interpreter."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(where)], check=True, timeout=120
    )
    python = where / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(site, "dependencies.pth").write_text(f"{dependencies}\n", encoding="utf-8")
    return python


def test_the_wheel_installs_by_its_name_in_a_fresh_venv(wheel: Path, tmp_path: Path) -> None:
    python = _fresh_venv(tmp_path / "venv", _dependencies(tmp_path / "dependencies"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    installed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-index",
            "--find-links",
            str(wheel.parent),
            DISTRIBUTION,
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert f"Successfully installed {DISTRIBUTION}-{__version__}" in installed.stdout
    command = tmp_path / "venv" / "bin" / "policyengine"
    done = subprocess.run(
        [str(command), "--version"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"policyengine {__version__}\n"
    where = subprocess.run(
        [str(python), "-c", "import policyengine as p; print(p.__version__); print(p.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    version, module = where.stdout.split()
    assert version == __version__
    assert Path(module).is_relative_to(tmp_path / "venv"), where.stdout


def test_wheel_carries_the_grammar_and_the_packs(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in SHIPPED if name not in names]
    assert not missing, f"not in {wheel.name}: {missing}"
    assert "policyengine/__main__.py" in names
    assert "policyengine/py.typed" in names  # type checkers read the library's hints
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert re.search(r"^policyengine = policyengine\.cli(\.main)?:main$", text, re.M)


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
