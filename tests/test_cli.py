"""The command line end to end: exit codes, stdin, formats, params, and what a user reads.

Every test runs in a fresh folder holding a small policy and snapshots, so the file names
in the output are short and stable. Transcripts (exit code, stdout, stderr) are syrupy
text snapshots: read the diff when one changes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli, transcript
from syrupy.assertion import SnapshotAssertion

import policyengine.cli
import policyengine.results.report

POLICY = """\
use alicloud.ecs

policy demo "Demo checks" {
  severity medium
  param allowed_regions: list of string = ["cn-hangzhou"]

  rule encrypted "Disks are encrypted" {
    for each disk require encrypted == true
    remediation "Snapshot the disk and create an encrypted disk from the snapshot."
  }

  rule approved_region "Instances live in approved regions" {
    for each instance require region in allowed_regions
    message "{this} is in region {region}, which is not approved"
  }

  rule disk_zone "A disk is attached only to instances in its zone" {
    severity high
    disk attach requires same zone
    remediation "Create the disk again in the instance's zone and attach the copy."
  }
}
"""

# A user's own file, with rules written exactly as the ECS documentation's table says them.
SENTENCES = """\
use alicloud.ecs

policy mine "My location rules" {
  severity high

  rule disk_zone {
    disk attach requires same zone
  }

  rule eni_region {
    eni bind requires same region
  }

  rule image_region {
    instance use image requires same region unless image.visibility == "public"
  }
}
"""

PARSE_ERROR = """\
use alicloud.ecs

policy broken {
  rule r {
    for each disk requires encrypted == true
  }
}
"""

CHECK_ERROR = """\
use alicloud.ecs

policy broken {
  rule r {
    for each disk require encryptd == true
  }

  rule s {
    dsik attach requires same zone
  }
}
"""

I1, I2 = "i-" + "1" * 20, "i-" + "2" * 20
D1, D2 = "d-" + "1" * 20, "d-" + "2" * 20


def instance(
    id_: str, zone: str = "cn-hangzhou-h", region: str = "cn-hangzhou", **attrs: Any
) -> dict[str, Any]:
    return {"kind": "instance", "id": id_, "region": region, "zone": zone, **attrs}


def disk(
    id_: str, zone: str = "cn-hangzhou-h", attached_to: str | None = None, **attrs: Any
) -> dict[str, Any]:
    """A disk as DescribeDisks reports it: attached to `attached_to`, or detached."""
    links: dict[str, Any] = {
        "instance_id": attached_to or "",
        "attachments": [{"instance_id": attached_to, "device": "/dev/xvdb"}] if attached_to else [],
    }
    return {"kind": "disk", "id": id_, "region": "cn-hangzhou", "zone": zone, **links, **attrs}


def account(*resources: dict[str, Any]) -> str:
    return json.dumps({"resources": list(resources)}, indent=1)


SNAPSHOTS = {
    # everything holds
    "clean.json": account(instance(I1), disk(D1, attached_to=I1, encrypted=True)),
    # only the medium rule fails
    "unencrypted.json": account(instance(I1), disk(D1, attached_to=I1, encrypted=False)),
    # the high rule fails: the disk is in zone i, its instance in zone h
    "crosszone.json": account(
        instance(I1),
        instance(I2, zone="cn-hangzhou-i"),
        disk(D1, zone="cn-hangzhou-i", attached_to=I1, encrypted=True),
        disk(D2, zone="cn-hangzhou-i", attached_to=I2, encrypted=True),
    ),
    # a disk attached to nothing: the sentence has no edge for it
    "detached.json": account(instance(I1), disk(D1, encrypted=True, status="Available")),
    # an instance whose region nobody knows: no region, no location table
    "noregion.json": account({"kind": "instance", "id": I1, "zone": "cn-hangzhou-h"}),
    # an instance outside the default allowed regions
    "shanghai.json": account(instance(I1, zone="cn-shanghai-b", region="cn-shanghai")),
    # for the user's sentences
    "locations.json": account(
        instance(I1, image_id="m-" + "1" * 20),
        instance(I2, image_id="ubuntu_22_04_x64_20G_alibase_20240101.vhd"),
        disk(D1, zone="cn-hangzhou-i", attached_to=I1),
        {"kind": "eni", "id": "eni-" + "1" * 20, "region": "cn-beijing", "instance_id": I1},
        {
            "kind": "image",
            "id": "m-" + "1" * 20,
            "region": "cn-shanghai",
            "image_owner_alias": "self",
            "visibility": "custom",
        },
        {
            "kind": "image",
            "id": "ubuntu_22_04_x64_20G_alibase_20240101.vhd",
            "region": "cn-beijing",
            "image_owner_alias": "system",
            "visibility": "public",
        },
    ),
    "broken.json": '{"resources": [\n  {"kind": "disk", "id": "d-1"\n]}\n',
    "unknown-kind.json": account({"kind": "dsk", "id": D1}),
}


@pytest.fixture(autouse=True)
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    (tmp_path / "rules.policy").write_text(POLICY, encoding="utf-8")
    (tmp_path / "mine.policy").write_text(SENTENCES, encoding="utf-8")
    (tmp_path / "parse-error.policy").write_text(PARSE_ERROR, encoding="utf-8")
    (tmp_path / "check-error.policy").write_text(CHECK_ERROR, encoding="utf-8")
    for name, text in SNAPSHOTS.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


# ---------------------------------------------------------------- exit codes


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["evaluate", "clean.json", "-p", "rules.policy"], 0),
        (["evaluate", "unencrypted.json", "-p", "rules.policy"], 1),
        (["evaluate", "crosszone.json", "-p", "rules.policy"], 1),
        (["explain", "clean.json", "-p", "rules.policy"], 0),
        (["explain", "crosszone.json", "-p", "rules.policy"], 1),
        # usage
        (["evaluate", "clean.json", "-p", "rules.policy", "--bogus"], 2),
        (["evaluate", "clean.json", "-p", "rules.policy", "--param", "nosuch=1"], 2),
        (["evaluate", "clean.json", "-p", "rules.policy", "--param", "allowed_regions"], 2),
        (["evaluate", "clean.json", "-p", "rules.policy", "--fail-on", "severe"], 2),
        (["evaluate", "clean.json", "-p", "nosuch.policy"], 2),
        (["evaluate", "nosuch.json", "-p", "rules.policy"], 2),
        (["evaluate", "-p", "rules.policy"], 2),  # no snapshot: never waits on a terminal
        (["explain", "clean.json", "-p", "rules.policy", "--rule", "encrpyted"], 2),
        (["explain", "clean.json", "-p", "rules.policy", "--resource", "i-nosuch"], 2),
        # invalid input
        (["evaluate", "clean.json", "-p", "parse-error.policy"], 3),
        (["evaluate", "clean.json", "-p", "check-error.policy"], 3),
        (["evaluate", "broken.json", "-p", "rules.policy"], 3),
        (["evaluate", "unknown-kind.json", "-p", "rules.policy"], 3),
        (["explain", "broken.json", "-p", "rules.policy"], 3),
    ],
)
def test_exit_codes(args: list[str], code: int) -> None:
    got, out, err = run_cli(args)
    assert got == code, (out, err)
    if code >= 2:
        assert err, "a usage or input error says why on stderr"


def test_usage_errors_say_what_is_wrong() -> None:
    _, _, err = run_cli(["evaluate", "clean.json", "-p", "rules.policy", "--param", "nosuch=1"])
    assert "no policy declares a param `nosuch`" in err
    _, _, err = run_cli(["explain", "clean.json", "-p", "rules.policy", "--rule", "encrpyted"])
    assert "no rule `encrpyted`" in err and "did you mean `encrypted`?" in err
    _, _, err = run_cli(["explain", "clean.json", "-p", "rules.policy", "--rule", "demo.encrpyted"])
    assert "did you mean `demo.encrypted`?" in err
    _, _, err = run_cli(["evaluate", "nosuch.json", "-p", "rules.policy"])
    assert "no such snapshot file: nosuch.json" in err


@pytest.mark.parametrize("traceback", [False, True], ids=["plain", "traceback-on-request"])
def test_internal_error_exits_4(
    traceback: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(policyengine.results.report, "build", crash)
    if traceback:
        monkeypatch.setenv("POLICYENGINE_TRACEBACK", "1")
    else:
        monkeypatch.delenv("POLICYENGINE_TRACEBACK", raising=False)
    monkeypatch.setattr(
        sys, "argv", ["policyengine", "evaluate", "clean.json", "-p", "rules.policy"]
    )
    with pytest.raises(SystemExit) as exited:
        policyengine.cli.main()
    assert exited.value.code == 4
    err = capsys.readouterr().err
    assert "internal error: this is a bug in policyengine" in err
    if traceback:
        assert "Traceback" in err and "RuntimeError: boom" in err
    else:
        assert "POLICYENGINE_TRACEBACK=1" in err
        assert "Traceback" not in err  # only on request


# ---------------------------------------------------------------- inputs and options


def test_snapshot_from_stdin() -> None:
    code, out, _ = run_cli(
        ["evaluate", "-", "-p", "rules.policy"], stdin=SNAPSHOTS["unencrypted.json"]
    )
    assert code == 1
    assert "FAIL    disk " + D1 in out
    code, out, _ = run_cli(
        ["evaluate", "-", "-p", "rules.policy", "-f", "json"], stdin=SNAPSHOTS["clean.json"]
    )
    assert code == 0
    assert json.loads(out)["summary"]["snapshots"] == ["<stdin>"]


def test_bad_snapshot_from_stdin_is_named_stdin() -> None:
    code, _, err = run_cli(["evaluate", "-", "-p", "rules.policy"], stdin="{")
    assert code == 3
    assert err.startswith("error: <stdin>: not valid JSON")


def test_several_snapshots_in_one_run() -> None:
    code, out, _ = run_cli(
        ["evaluate", "clean.json", "crosszone.json", "-p", "rules.policy", "-f", "json"]
    )
    assert code == 1
    report = json.loads(out)
    assert report["summary"]["snapshots"] == ["clean.json", "crosszone.json"]
    assert report["summary"]["resources"] == 6
    assert {r["snapshot"] for r in report["results"]} == {"crosszone.json"}
    code, out, _ = run_cli(["evaluate", "clean.json", "unencrypted.json", "-p", "rules.policy"])
    assert code == 1
    assert "in 2 snapshots" in out


def test_fail_on_sets_the_threshold() -> None:
    args = ["evaluate", "unencrypted.json", "-p", "rules.policy"]
    assert run_cli(args)[0] == 1
    assert run_cli([*args, "--fail-on", "medium"])[0] == 1
    code, out, _ = run_cli([*args, "--fail-on", "high"])
    assert code == 0
    assert "FAIL" in out  # still reported, but below the threshold
    assert "PASSED: no finding at or above severity high" in out
    # a high finding still fails the run at --fail-on high
    assert (
        run_cli(["evaluate", "crosszone.json", "-p", "rules.policy", "--fail-on", "high"])[0] == 1
    )


def test_all_lists_passes_and_skips() -> None:
    _, out, _ = run_cli(["evaluate", "clean.json", "-p", "rules.policy"])
    assert "PASS " not in out
    code, out, _ = run_cli(["evaluate", "clean.json", "-p", "rules.policy", "--all"])
    assert code == 0
    assert f"PASS    disk {D1}" in out and f"PASS    instance {I1}" in out
    _, out, _ = run_cli(["evaluate", "clean.json", "-p", "rules.policy", "--all", "-f", "json"])
    assert {r["outcome"] for r in json.loads(out)["results"]} == {"pass"}


@pytest.mark.parametrize(
    ("param", "code"),
    [
        ([], 1),
        (["--param", "allowed_regions=cn-hangzhou,cn-shanghai"], 0),
        (["--param", 'allowed_regions=["cn-shanghai"]'], 0),
        (["--param", "demo.allowed_regions=cn-shanghai"], 0),
        (["--param", "allowed_regions=cn-beijing"], 1),  # replaces the list, not extends it
    ],
)
def test_param_overrides_a_list_param(param: list[str], code: int) -> None:
    got, out, err = run_cli(["evaluate", "shanghai.json", "-p", "rules.policy", *param])
    assert got == code, (out, err)


def test_a_policy_folder_is_read_whole(workspace: Path) -> None:
    folder = workspace / "pack"
    folder.mkdir()
    (folder / "rules.policy").write_text(POLICY, encoding="utf-8")
    code, out, _ = run_cli(["evaluate", "crosszone.json", "-p", "pack", "-f", "json"])
    assert code == 1
    assert json.loads(out)["summary"]["rules"] == 3


# ---------------------------------------------------------------- JSON is always JSON


@pytest.mark.parametrize(
    ("args", "code", "error"),
    [
        (["evaluate", "clean.json", "-p", "rules.policy"], 0, None),
        (["evaluate", "crosszone.json", "-p", "rules.policy"], 1, None),
        (["evaluate", "clean.json", "-p", "rules.policy", "--param", "nosuch=1"], 2, "usage"),
        (["evaluate", "nosuch.json", "-p", "rules.policy"], 2, "usage"),
        (["evaluate", "clean.json", "-p", "nosuch.policy"], 2, "usage"),
        (["evaluate", "clean.json", "-p", "parse-error.policy"], 3, "invalid policy"),
        (["evaluate", "clean.json", "-p", "check-error.policy"], 3, "invalid policy"),
        (["evaluate", "broken.json", "-p", "rules.policy"], 3, "invalid snapshot"),
        (["evaluate", "unknown-kind.json", "-p", "rules.policy"], 3, "invalid snapshot"),
        (["explain", "crosszone.json", "-p", "rules.policy"], 1, None),
        (["explain", "clean.json", "-p", "rules.policy", "--rule", "encrpyted"], 2, "usage"),
        (["explain", "broken.json", "-p", "rules.policy"], 3, "invalid snapshot"),
        (["explain", "clean.json", "-p", "check-error.policy"], 3, "invalid policy"),
    ],
)
def test_json_output_is_one_document(args: list[str], code: int, error: str | None) -> None:
    got, out, _ = run_cli([*args, "--format", "json"])
    assert got == code
    document = json.loads(out)  # stdout is one JSON document, whatever happened
    assert document["version"] == 1
    assert document.get("error") == error
    if error == "invalid policy":
        assert all(d["code"].startswith("PE") for d in document["diagnostics"])
    if error == "invalid snapshot":
        assert all({"file", "pointer", "message"} <= set(p) for p in document["problems"])


@pytest.mark.parametrize("bad", [["--bogus"], ["--fail-on", "severe"]], ids=["option", "choice"])
def test_json_output_on_a_typer_usage_error(
    bad: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # typer finds these before any command runs, so only the console-script entry point
    # (`main`) can answer them as JSON: run it as the installed `policyengine` does
    argv = ["policyengine", "evaluate", "clean.json", "-p", "rules.policy", "-f", "json", *bad]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exited:
        policyengine.cli.main()
    assert exited.value.code == 2
    out, err = capsys.readouterr()
    document = json.loads(out)
    assert document["version"] == 1
    assert document["error"] == "usage"
    assert bad[-1] in document["message"]
    assert "Usage:" in err and bad[-1] in err  # the text on stderr as well


def test_json_report_counts() -> None:
    _, out, _ = run_cli(["evaluate", "crosszone.json", "-p", "rules.policy", "-f", "json"])
    summary = json.loads(out)["summary"]
    assert summary["outcomes"] == {"fail": 1, "error": 0, "pass": 5, "skipped": 0}
    assert summary["failed_by_severity"]["high"] == 1
    assert summary["verdict"] == "fail"


# ---------------------------------------------------------------- what a user reads


def test_text_report(text_snapshot: SnapshotAssertion) -> None:
    args = ["evaluate", "crosszone.json", "unencrypted.json", "shanghai.json", "-p", "rules.policy"]
    assert transcript(args) == text_snapshot


def test_text_report_all(text_snapshot: SnapshotAssertion) -> None:
    assert (
        transcript(["evaluate", "crosszone.json", "-p", "rules.policy", "--all"]) == text_snapshot
    )


def test_json_report(text_snapshot: SnapshotAssertion) -> None:
    args = ["evaluate", "crosszone.json", "shanghai.json", "-p", "rules.policy", "-f", "json"]
    assert transcript(args) == text_snapshot


def test_explain_a_fail(text_snapshot: SnapshotAssertion) -> None:
    assert transcript(["explain", "crosszone.json", "-p", "rules.policy"]) == text_snapshot


def test_explain_a_pass(text_snapshot: SnapshotAssertion) -> None:
    args = ["explain", "clean.json", "-p", "rules.policy", "--resource", D1]
    code, out, _ = run_cli(args)
    assert code == 0
    assert out.count("pass[PE502]") == 2
    assert transcript(args) == text_snapshot


def test_explain_a_subject_without_an_edge() -> None:
    code, out, err = run_cli(["explain", "detached.json", "-p", "rules.policy", "--resource", D1])
    assert code == 0, err
    assert f"skipped[PE503]: disk {D1}" in out
    assert "no `disk attach instance` edge" in out


def test_explain_a_rule_explains_its_violations_only() -> None:
    args = ["explain", "detached.json", "-p", "rules.policy", "--rule", "disk_zone"]
    code, out, err = run_cli(args)
    assert code == 0, err
    assert out == "nothing to explain: no rule `disk_zone` fails or errors on this snapshot\n"


def test_explain_markdown(text_snapshot: SnapshotAssertion) -> None:
    args = ["explain", "crosszone.json", "-p", "rules.policy", "--format", "markdown"]
    assert transcript(args) == text_snapshot


def test_explain_json(text_snapshot: SnapshotAssertion) -> None:
    args = ["explain", "crosszone.json", "-p", "rules.policy", "--rule", "disk_zone", "-f", "json"]
    code, out, _ = run_cli(args)
    explanations = json.loads(out)["explanations"]
    assert [e["outcome"] for e in explanations] == ["fail"]
    assert transcript(args) == text_snapshot


def test_check_error_on_stderr(text_snapshot: SnapshotAssertion) -> None:
    assert transcript(["evaluate", "clean.json", "-p", "check-error.policy"]) == text_snapshot


def test_parse_error_on_stderr(text_snapshot: SnapshotAssertion) -> None:
    assert transcript(["evaluate", "clean.json", "-p", "parse-error.policy"]) == text_snapshot


def test_invalid_snapshot_on_stderr(text_snapshot: SnapshotAssertion) -> None:
    assert (
        transcript(["evaluate", "broken.json", "unknown-kind.json", "-p", "rules.policy"])
        == text_snapshot
    )


def test_usage_error_on_stderr(text_snapshot: SnapshotAssertion) -> None:
    args = ["explain", "crosszone.json", "-p", "rules.policy", "--rule", "disk_zoen"]
    assert transcript(args) == text_snapshot


def test_an_error_is_reported_with_its_reason_not_the_failure_message() -> None:
    code, out, _ = run_cli(["evaluate", "noregion.json", "-p", "rules.policy"])
    assert code == 1
    assert f"ERROR   instance {I1}: `region` is missing" in out
    assert "region ?" not in out


# ---------------------------------------------------------------- a user's own sentences


def test_sentences_in_a_users_policy_use_the_bundled_model() -> None:
    code, out, err = run_cli(
        ["evaluate", "locations.json", "-p", "mine.policy", "--all", "-f", "json"]
    )
    assert code == 1, err
    got = {
        (r["rule"], r["resource"]["id"], (r["related"] or {}).get("id"), r["outcome"])
        for r in json.loads(out)["results"]
    }
    assert got == {
        ("mine.disk_zone", D1, I1, "fail"),  # zone i against zone h
        ("mine.eni_region", "eni-" + "1" * 20, I1, "fail"),  # cn-beijing against cn-hangzhou
        ("mine.image_region", I1, "m-" + "1" * 20, "fail"),  # a custom image of cn-shanghai
        # A public image exists in every region, whichever region lists it.
        ("mine.image_region", I2, "ubuntu_22_04_x64_20G_alibase_20240101.vhd", "pass"),
    }


def test_explain_a_cross_zone_disk_names_both_ends() -> None:
    code, out, _ = run_cli(
        ["explain", "locations.json", "-p", "mine.policy", "--rule", "disk_zone"]
    )
    assert code == 1
    assert f"disk {D1}" in out and "cn-hangzhou-i" in out  # the disk and its zone
    assert f"instance {I1}" in out and "cn-hangzhou-h" in out  # the instance and its zone
    assert "disk.instance_id" in out  # the attribute that links them
    assert "mine.policy:7:" in out and "disk attach requires same zone" in out  # the line
    assert "locations.json#/resources/2/zone" in out  # where in the data
