"""Make `examples/aliyun-export/` the way a user makes an export: `policyengine collect`
against a local stand-in for the Alibaba Cloud endpoints (`tests/aliyun_fake.py`) that
serves the bundled example account (`examples/ecs-account/snapshot.json`) as the APIs'
own responses, built with the official SDKs' response models.

The stand-in pages every listing (two items a page, by PageNumber or NextToken), answers
DescribeImages per owner alias, DescribeSecurityGroupAttribute per group and
DescribeInstanceRamRole per role, holds a RAM ListRoles response the engine does not
read, throttles the first call, fails one call once, and denies DescribeInvocations in
cn-hangzhou: the export is what `collect` writes of all that, manifest included.

    python scripts/make_example_export.py           # rewrite examples/aliyun-export
    python scripts/make_example_export.py --check   # exit 1 if the committed one differs

The example's README.md is kept. The manifest's `captured_at` is the time the export was
made, so a check compares everything else.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "aliyun-export"
KEPT = ("README.md",)  # written by hand, beside what collect writes

sys.path.insert(0, str(ROOT / "tests"))
import aliyun_fake  # noqa: E402


def make(out: Path) -> str:
    """Runs `policyengine collect` into the new folder `out`; returns what it said."""
    env = {
        **os.environ,
        # The fake accepts any signature; the standard chain needs some credentials.
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "example-export-key",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "example-export-secret",
    }
    with aliyun_fake.example_fake() as fake:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "policyengine",
                "collect",
                "--out",
                str(out),
                "--endpoint",
                fake.url,
                "--no-progress",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise SystemExit(f"policyengine collect failed (exit {done.returncode}):\n{done.stderr}")
    return done.stderr


def files(root: Path) -> dict[str, object]:
    """Every file collect wrote, parsed; the manifest without the time it was made."""
    out: dict[str, object] = {}
    for path in sorted(root.rglob("*.json")):
        name = path.relative_to(root).as_posix()
        data = json.loads(path.read_text(encoding="utf-8"))
        if name == "manifest.json":
            data.pop("captured_at", None)
        out[name] = data
    return out


def differences(made: Path, committed: Path) -> list[str]:
    mine, theirs = files(made), files(committed)
    found = [f"{name}: not in the committed export" for name in sorted(set(mine) - set(theirs))]
    found += [f"{name}: collect no longer writes it" for name in sorted(set(theirs) - set(mine))]
    found += [
        f"{name}: differs" for name in sorted(set(mine) & set(theirs)) if mine[name] != theirs[name]
    ]
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the example is stale")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        made = Path(tmp) / "export"
        said = make(made)
        if args.check:
            stale = differences(made, EXAMPLE)
            for line in stale:
                print(f"examples/aliyun-export/{line}", file=sys.stderr)
            if stale:
                print("run: python scripts/make_example_export.py", file=sys.stderr)
            return 1 if stale else 0
        for kept in KEPT:
            if (EXAMPLE / kept).exists():
                shutil.copy(EXAMPLE / kept, made / kept)
        shutil.rmtree(EXAMPLE, ignore_errors=True)
        shutil.copytree(made, EXAMPLE)
    print(said, end="", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
