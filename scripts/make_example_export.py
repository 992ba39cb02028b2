"""Make `examples/aliyun-export/` the way a user makes an export: `policyengine collect`
against a local stand-in for the Alibaba Cloud endpoints (`tests/aliyun_fake.py`) that
serves the bundled example account (`examples/ecs-account/snapshot.json`) as the APIs'
own responses, built with the official SDKs' response models.

The stand-in pages every listing (two items a page, by PageNumber or NextToken), answers
DescribeImages per owner alias, DescribeSecurityGroupAttribute per group and
DescribeInstanceRamRole per role, throttles the first call, fails one call once, and
denies DescribeInvocations in cn-hangzhou: the export is what `collect` writes of all
that, manifest included.

Beside it, `global/` gets what a person's own export often holds too: the response of an
API the engine does not read, RAM's `ListPolicies` (the call `aliyun ram ListPolicies
--PolicyType Custom --MaxItems 1000` makes, asked of the same stand-in), with that
command line in the manifest. `collect` itself calls only APIs the engine reads.

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

from policyengine.collect.calls import Paging, Product, Query  # noqa: E402
from policyengine.collect.sdk import Retry, Sdk  # noqa: E402

# A call `collect` does not make, whose response the engine does not read: the account's
# own RAM policies, as `aliyun ram ListPolicies` lists them.
UNREAD = Query(Product.RAM, "ListPolicies", None, Paging.MARKER, (("PolicyType", "Custom"),))
CREDENTIALS = {
    # The fake accepts any signature; the standard chain needs some credentials.
    "ALIBABA_CLOUD_ACCESS_KEY_ID": "example-export-key",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "example-export-secret",
}


def make(out: Path) -> str:
    """Runs `policyengine collect` into the new folder `out`; returns what it said."""
    env = {**os.environ, **CREDENTIALS}
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
            raise SystemExit(
                f"policyengine collect failed (exit {done.returncode}):\n{done.stderr}"
            )
        add_unread(out, fake.url)
    return done.stderr


def add_unread(out: Path, endpoint: str) -> None:
    """Adds `UNREAD`'s response to the export, as a person adds the output of an `aliyun`
    command to a folder `collect` wrote: the file, and its command line in the manifest."""
    saved = {name: os.environ.get(name) for name in CREDENTIALS}
    os.environ.update(CREDENTIALS)
    try:
        paging = {"MaxItems": 1000}
        body = Retry().run(
            lambda: Sdk(endpoint).call(UNREAD.product, UNREAD.api, None, UNREAD.request(paging))
        )
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    if body.get("IsTruncated") is not False:
        raise SystemExit(f"{UNREAD.api}: expected one page, got {body}")
    name = UNREAD.file(1)
    (out / name).write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    manifest_path = out / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["files"] = dict(sorted({**manifest["files"], name: UNREAD.command(paging)}.items()))
    manifest_path.write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def files(root: Path) -> dict[str, object]:
    """Every file of the export, parsed; the manifest without the time it was made."""
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
