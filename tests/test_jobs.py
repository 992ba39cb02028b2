"""Several snapshots evaluated apart — in worker processes (`--jobs`) or on a Dask cluster
(`--executor dask`) — give the report of one process, byte for byte, in every format."""

from __future__ import annotations

import copy
import json
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, run_cli, transcript
from syrupy.assertion import SnapshotAssertion

from policyengine.frontend.loader import bundled_policies, load
from policyengine.inputs import importers
from policyengine.outputs import Format
from policyengine.pipeline import wire
from policyengine.results import report

EXAMPLE = ROOT / "examples/ecs-account/snapshot.json"
OUTPUTS = [f.value for f in Format if f is not Format.TEXT]


def _variants() -> dict[str, dict[str, Any]]:
    """Accounts that differ from the example: resources removed, moved, retagged."""
    base = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    out: dict[str, dict[str, Any]] = {"a-example.json": base}
    fewer = copy.deepcopy(base)
    fewer["resources"] = [r for r in fewer["resources"] if r["kind"] not in ("disk", "snapshot")]
    out["b-no-disks.json"] = fewer
    moved = copy.deepcopy(base)
    for r in moved["resources"]:
        if r["kind"] == "disk":
            r["zone"] = "cn-hangzhou-h"  # every disk in one zone: zone findings change
    out["c-moved.json"] = moved
    tagged = copy.deepcopy(base)
    for r in tagged["resources"]:
        if r["kind"] == "instance":
            r["tags"] = {"owner": "web", "cost-center": "42", "env": "prod"}
    out["d-tagged.json"] = tagged
    half = copy.deepcopy(base)
    half["resources"] = half["resources"][::2]
    out["e-half.json"] = half
    return out


@pytest.fixture
def accounts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.chdir(tmp_path)
    names = []
    for name, doc in _variants().items():
        Path(name).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        names.append(name)
    return names


def _run(args: list[str], tag: str) -> tuple[int, str, str, dict[str, str]]:
    """Runs `evaluate` writing every other format too; the files' texts by format."""
    outputs = [f"--output={fmt}=out-{tag}.{fmt}" for fmt in OUTPUTS]
    code, out, err = run_cli(["evaluate", *args, *outputs])
    files = {fmt: Path(f"out-{tag}.{fmt}").read_text(encoding="utf-8") for fmt in OUTPUTS}
    return code, out, err, files


def _same(args: list[str], *apart: str) -> tuple[int, str]:
    serial = _run(args, "serial")
    parallel = _run([*args, *apart], "apart")
    assert parallel[0] == serial[0]
    assert parallel[1] == serial[1]
    assert parallel[2] == serial[2]
    for fmt in OUTPUTS:
        assert parallel[3][fmt] == serial[3][fmt], fmt
    return serial[0], serial[1]


def test_jobs_2_reports_what_one_process_reports(accounts: list[str]) -> None:
    code, out = _same(accounts, "--jobs", "2")
    assert code == 1
    assert "in 5 snapshots" in out
    for name in accounts:
        assert f"({name})" in out  # findings of every snapshot, in the order given


def test_jobs_keep_waivers_baselines_and_gates(accounts: list[str]) -> None:
    Path("waivers.yaml").write_text(
        "waivers:\n"
        "  - rule: ecs_locations.disk_zone\n"
        "    resource: d-bp16n7nazpipgv3zqhn8\n"
        "    reason: moving\n"
        "    owner: platform\n"
        "    expires: 2030-01-01\n"
        "  - rule: ecs_locations.no_such_rule\n"
        "    resource: '*'\n"
        "    reason: stale\n"
        "    owner: platform\n"
        "    expires: 2030-01-01\n"
        "  - rule: org_baseline.*\n"
        "    resource: i-bp1eww4n3oewyyayb68g\n"
        "    reason: expired\n"
        "    owner: platform\n"
        "    expires: 2020-01-01\n",
        encoding="utf-8",
    )
    code, _, _ = run_cli(["evaluate", accounts[0], "--write-baseline", "baseline.json"])
    assert code == 0
    common = ["--waivers", "waivers.yaml", "--today", "2026-01-01", "--baseline", "baseline.json"]
    code, out = _same([*accounts, *common, "--all", "--fail-on", "high"], "--jobs", "3")
    assert code == 1  # the expired waiver
    assert "waived" in out and "fixed since the baseline" not in out
    _same([*accounts, *common, "--no-fail-on-error", "--format", "json"], "-j", "2")


def test_jobs_read_every_kind_of_input(accounts: list[str]) -> None:
    inputs = [
        str(ROOT / "examples/aliyun-export"),
        str(ROOT / "examples/terraform/plan.json"),
        accounts[1],
        "-",
    ]
    stdin = EXAMPLE.read_text(encoding="utf-8")
    serial = run_cli(["evaluate", *inputs, "--verbose", "--format", "sarif"], stdin)
    parallel = run_cli(["evaluate", *inputs, "--verbose", "--format", "sarif", "-j", "2"], stdin)
    assert parallel == serial
    assert "read as a Terraform plan" in serial[2]


def test_an_invalid_snapshot_among_them_stops_the_run_as_in_one_process(
    accounts: list[str],
) -> None:
    Path("f-broken.json").write_text('{"resources": [{"kind": "disk"}]}\n', encoding="utf-8")
    Path("g-bad-zone.json").write_text(
        json.dumps({"resources": [{"kind": "instanse", "id": "i-1", "region": "r"}]}),
        encoding="utf-8",
    )
    args = [accounts[0], "f-broken.json", accounts[1], "g-bad-zone.json"]
    code, out = _same(args, "--jobs", "2")
    assert code == 3
    serial = run_cli(["evaluate", *args])
    assert "f-broken.json" in serial[2] and "g-bad-zone.json" in serial[2]
    assert "did you mean `instance`" in serial[2]
    assert serial == run_cli(["evaluate", *args, "--jobs", "2", "--format", "text"])


def test_a_missing_snapshot_is_the_same_usage_error(accounts: list[str]) -> None:
    args = ["evaluate", accounts[0], "nowhere.json", accounts[1]]
    serial = run_cli(args)
    assert serial[0] == 2
    assert run_cli([*args, "--jobs", "2"]) == serial


# ---------------------------------------------------------------- Dask


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address=":0",  # any free port: no clash with another cluster
    ) as cluster:
        yield str(cluster.scheduler_address)


def test_dask_reports_what_one_process_reports(accounts: list[str], scheduler: str) -> None:
    code, out = _same(accounts, "--executor", "dask", "--scheduler", scheduler)
    assert code == 1 and "in 5 snapshots" in out


def test_dask_stops_on_an_invalid_snapshot_as_one_process(
    accounts: list[str], scheduler: str
) -> None:
    Path("broken.json").write_text('{"resources": [\n', encoding="utf-8")
    args = ["evaluate", accounts[0], "broken.json", "--format", "json"]
    serial = run_cli(args)
    assert serial[0] == 3
    assert run_cli([*args, "--executor", "dask", "--scheduler", scheduler]) == serial


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed once the block ends: nothing listens


def test_executor_usage_errors(
    accounts: list[str], text_snapshot: SnapshotAssertion, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = accounts[0]
    port = _closed_port()
    runs = [
        ["evaluate", one, "--executor", "dask"],
        ["evaluate", one, "--scheduler", "tcp://127.0.0.1:8786"],
        ["evaluate", one, "--jobs", "0"],
        ["evaluate", one, accounts[1], "--jobs", "2", "--baseline-snapshot", one],
    ]
    text = "\n".join(transcript(args) for args in runs)
    unreachable = [
        "evaluate",
        one,
        "--executor",
        "dask",
        "--scheduler",
        f"tcp://127.0.0.1:{port}",
        "--scheduler-timeout",
        "0.5",
    ]
    code, out, err = run_cli(unreachable)
    assert code == 2 and not out
    assert f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port} within 0.5 s" in err
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    missing = ["evaluate", one, "--executor", "dask", "--scheduler", "tcp://127.0.0.1:8786"]
    assert run_cli(missing)[0] == 2
    text += "\n" + transcript(missing)
    assert text == text_snapshot


# ---------------------------------------------------------------- the wire


def test_a_part_decodes_to_the_same_report_and_keeps_no_data() -> None:
    loaded = load(bundled_policies(), (), None)
    read = importers.read(EXAMPLE, "auto", loaded.plan.model, importers.Options())
    part = report.evaluate_snapshot(
        loaded.plan, importers.to_store(read.snapshot, loaded.plan.model)
    )
    decoded = wire.decode(wire.encode(part, loaded.plan), loaded.plan)
    ours, theirs = report.assemble(loaded.plan, [part]), report.assemble(loaded.plan, [decoded])
    assert report.render_json(theirs, show_all=True) == report.render_json(ours, show_all=True)
    # References into the plan resolve to the receiver's own objects.
    assert {id(f.result.rule) for f in decoded.findings} <= {id(r) for r in loaded.plan.rules}
    traced = [f for f in decoded.findings if f.proof is not None]
    assert traced and all(f.proof is not None and f.proof.result is f.result for f in traced)
    with pytest.raises(RuntimeError, match="not kept"):
        decoded.findings[0].result.resource.data.get("id")
