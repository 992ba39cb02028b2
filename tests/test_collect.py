"""`policyengine collect` against a local fake of the Alibaba Cloud endpoints that serves
the bundled example account (`examples/ecs-account/snapshot.json`) as API responses:
paged by PageNumber and by NextToken, the first call throttled, one call failing with a
500 once, DescribeInvocations denied in cn-hangzhou. Collect then evaluate gives the
account's findings, the denied API's rules as `error` naming it, and nothing else."""

from __future__ import annotations

import functools
import importlib.util
import json
import shutil
import sys
import urllib.request
from pathlib import Path
from types import ModuleType

import pytest
from conftest import EXPORT_DENIED, ROOT, assert_the_example_accounts_findings, run_cli

pytest.importorskip("alibabacloud_tea_openapi")
pytest.importorskip("alibabacloud_ram20150501")

import aliyun_fake  # noqa: E402

import policyengine.collect as collector  # noqa: E402
from policyengine.collect import Options, Retry, collect  # noqa: E402
from policyengine.inputs.importers.aliyun.apis import APIS  # noqa: E402

SECRET = "collect-test-secret-never-written"


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "collect-test-key")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)


# The first run the docs show (docs/collect.md, README): the module's export is made by
# its first command, as written, in a new folder.
FIRST_RUN = ["policyengine collect --out export/", "policyengine evaluate export/"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, aliyun_fake.Fake]:
    folder = tmp_path_factory.mktemp("collect")
    mp = pytest.MonkeyPatch()
    mp.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "collect-test-key")
    mp.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
    mp.chdir(folder)
    # The fake throttles the first call and fails one once: both are retried, after a
    # pause that is the user's half second only in a real account.
    mp.setattr(collector, "Retry", functools.partial(Retry, backoff=0.001))
    try:
        with aliyun_fake.example_fake() as fake:
            args = FIRST_RUN[0].split()[1:] + ["--endpoint", fake.url, "--no-progress"]
            code, _, err = run_cli(args)
    finally:
        mp.undo()
    assert code == 0, err
    assert EXPORT_DENIED in err
    return folder / "export", fake


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.json"))


def test_the_export_has_the_layout_the_importer_reads(
    exported: tuple[Path, aliyun_fake.Fake],
) -> None:
    out, _ = exported
    files = _files(out)
    for name in (
        "manifest.json",
        "global/ListRoles.json",  # RAM: account-wide
        "global/GetRole.EcsLogShipperRole.json",  # each role's trust policy
        "cn-hangzhou/DescribeImages.self.json",  # two image queries
        "cn-hangzhou/DescribeImages.system.json",
        "cn-hangzhou/DescribeDisks.page2.json",  # PageNumber pages
        "cn-hangzhou/DescribeInstances.page2.json",  # NextToken pages
        "cn-hangzhou/DescribeInstanceRamRole.EcsLogShipperRole.json",  # per role
        "cn-hangzhou/DescribeSecurityGroupAttribute.sg-bp13lqntew0x2siuzfug.json",  # per group
        "cn-shanghai/DescribeCommands.ACS-ECS-InstallPackage-linux_sh.json",  # a public command
    ):
        assert name in files, name
    assert not any(f.startswith("cn-hangzhou/DescribeInvocations") for f in files)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["account"] == "1498765432101234"
    assert set(manifest["files"]) == set(files) - {"manifest.json"}
    assert manifest["files"]["cn-hangzhou/DescribeDisks.page2.json"] == (
        "aliyun ecs DescribeDisks --RegionId cn-hangzhou --PageNumber 2 --PageSize 50"
    )
    assert [(f["api"], f["region"], f["code"]) for f in manifest["failed"]] == [
        ("DescribeInvocations", "cn-hangzhou", "Forbidden.RAM")
    ]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_example_export", ROOT / "scripts" / "make_example_export.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_example_export"] = module
    spec.loader.exec_module(module)
    return module


def test_the_example_export_is_what_collect_makes(
    exported: tuple[Path, aliyun_fake.Fake], tmp_path: Path
) -> None:
    """`examples/aliyun-export/` is this export (made as scripts/make_example_export.py
    makes it: `collect` against the same stand-in), with the response the script adds."""
    script = _script()
    made = tmp_path / "export"
    shutil.copytree(exported[0], made)
    with aliyun_fake.example_fake() as fake:
        fake.throttle_next = False  # as on the stand-in collect has just called
        script.add_unread(made, fake.url)
    stale = script.differences(made, ROOT / "examples" / "aliyun-export")
    assert not stale, f"{stale}: run python scripts/make_example_export.py"


def test_credentials_are_never_written(exported: tuple[Path, aliyun_fake.Fake]) -> None:
    out, _ = exported
    for path in out.rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert SECRET not in text and "collect-test-key" not in text, path


def test_throttling_and_a_server_error_are_retried(
    exported: tuple[Path, aliyun_fake.Fake],
) -> None:
    _, fake = exported
    actions = [action for _, action, _ in fake.calls]
    assert actions[:2] == ["DescribeRegions", "DescribeRegions"]  # throttled, then again
    shanghai_disks = [
        p for _, a, p in fake.calls if a == "DescribeDisks" and p.get("RegionId") == "cn-shanghai"
    ]
    assert len(shanghai_disks) == 3  # a 500, then two pages
    assert fake.fail_once is None and not fake.throttle_next


def test_collect_calls_only_apis_the_engine_reads(
    exported: tuple[Path, aliyun_fake.Fake],
) -> None:
    # A call whose response the engine does not read costs a permission and a note on
    # every run: the fake answers ListPolicies, and collect does not ask.
    _, fake = exported
    called = {action for _, action, _ in fake.calls}
    assert called - {"DescribeRegions"} <= set(APIS), called - set(APIS)
    assert "ListPolicies" not in called


def test_collect_then_evaluate_gives_the_example_findings(
    exported: tuple[Path, aliyun_fake.Fake],
) -> None:
    out, _ = exported
    code, text, _ = run_cli(["evaluate", str(out), "--format", "json"])
    assert code == 1
    doc = json.loads(text)
    # The one field of the example account that no export can hold.
    assert aliyun_fake.DROPPED == {
        ("DescribeInstancesResponseBodyInstancesInstance", "launch_template_id")
    }
    assert_the_example_accounts_findings(doc)
    assert doc["not_read"] == []  # ListRoles and GetRole are read: the roles' trust


def test_the_fake_answers_get_as_it_answers_post() -> None:
    with aliyun_fake.example_fake() as fake:
        fake.throttle_next = False
        query = "Action=DescribeZones&RegionId=cn-shanghai&Signature=anything"
        with urllib.request.urlopen(f"{fake.url}/?{query}") as got:
            body = json.loads(got.read())
        request = urllib.request.Request(fake.url, data=query.encode(), method="POST")
        with urllib.request.urlopen(request) as posted:
            again = json.loads(posted.read())
    zones = [z["ZoneId"] for z in body["Zones"]["Zone"]]
    assert zones == ["cn-shanghai-e", "cn-shanghai-f", "cn-shanghai-g", "cn-shanghai-l"]
    assert again["Zones"] == body["Zones"]


def test_a_call_that_keeps_failing_is_bounded_and_recorded(tmp_path: Path) -> None:
    with aliyun_fake.example_fake() as fake:
        fake.deny = {}
        fake.always = {("DescribeKeyPairs", "cn-shanghai"): (503, "ServiceUnavailable")}
        summary = collect(
            Options(
                tmp_path / "out",
                ("cn-shanghai",),
                fake.url,
                retry=Retry(attempts=3, backoff=0.001),
            )
        )
    assert [(f.api, f.region, f.code) for f in summary.failed] == [
        ("DescribeKeyPairs", "cn-shanghai", "ServiceUnavailable")
    ]
    tries = [a for _, a, p in fake.calls if a == "DescribeKeyPairs"]
    assert len(tries) == 3


def test_collect_refuses_a_folder_that_holds_files(tmp_path: Path) -> None:
    (tmp_path / "old.json").write_text("{}")
    code, _, err = run_cli(["collect", "--out", str(tmp_path), "--endpoint", "http://127.0.0.1:9"])
    assert code == 2
    assert "is not empty" in err


def test_the_docs_first_run_runs(
    exported: tuple[Path, aliyun_fake.Fake], monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = (ROOT / "docs" / "collect.md").read_text()
    readme = (ROOT / "README.md").read_text()
    for line in FIRST_RUN:
        assert f"$ {line}\n" in doc and f"{line}\n" in readme
    out, _ = exported  # made by the first line, as written
    assert out.name == "export" and (out / "manifest.json").is_file()
    monkeypatch.chdir(out.parent)
    code, said, _ = run_cli(FIRST_RUN[1].split()[1:])
    assert code == 1  # the example account's findings
    assert EXPORT_DENIED in said


GOVERNANCE = ROOT / "tests" / "fixtures" / "aliyun-governance"
GOVERNANCE_RULES = ROOT / "tests" / "fixtures" / "aliyun-governance-rules"


def _decided(folder: Path) -> set[tuple[str, str, str]]:
    code, out, err = run_cli(
        ["evaluate", str(folder), "--policy", str(GOVERNANCE_RULES), "--all", "--format", "json"]
    )
    assert out, err
    return {
        (r["rule"], r["resource"]["id"], r["outcome"])
        for r in json.loads(out)["results"]
        if r["outcome"] != "skipped"
    }


def test_collect_reads_the_governance_apis(tmp_path: Path) -> None:
    """The governance export served by the fake: collect asks for each automatic snapshot
    policy, the key of each encrypted disk, the renewal of each subscription instance and
    each role's trust policy, and the export it writes gives the same outcomes."""
    from policyengine.frontend.loader import bundled_policies, load
    from policyengine.inputs import importers

    m = load(bundled_policies()).plan.model
    document = importers.read(GOVERNANCE, "aliyun", m, importers.Options()).converted.document
    resources = [{k: v for k, v in r.items() if k != "source"} for r in document["resources"]]
    before = set(aliyun_fake.DROPPED)
    try:
        account = aliyun_fake.Account.of({"resources": resources})
        with aliyun_fake.Fake(account, throttle_first=False) as fake:
            summary = collect(
                Options(tmp_path / "out", ("cn-hangzhou",), fake.url, retry=Retry(attempts=2))
            )
        assert aliyun_fake.DROPPED == before  # every attribute is a field of a response
    finally:
        aliyun_fake.DROPPED.clear()
        aliyun_fake.DROPPED.update(before)
    assert summary.failed == ()
    out = tmp_path / "out"
    files = _files(out)
    key = "key-hzz65f0d6c1a8mxe4l1wv"
    for name in (
        "cn-hangzhou/DescribeAutoSnapshotPolicyEx.json",
        f"cn-hangzhou/DescribeKey.{key}.json",
        "cn-hangzhou/DescribeInstanceAutoRenewAttribute.json",
        "global/ListRoles.json",
        "global/GetRole.AuditFromPartner.json",
        "global/GetRole.EcsLogShipperRole.json",
    ):
        assert name in files, name
    commands = json.loads((out / "manifest.json").read_text())["files"]
    assert commands[f"cn-hangzhou/DescribeKey.{key}.json"] == (
        f"aliyun kms DescribeKey --RegionId cn-hangzhou --KeyId {key}"
    )
    assert commands["cn-hangzhou/DescribeInstanceAutoRenewAttribute.json"] == (
        "aliyun ecs DescribeInstanceAutoRenewAttribute --RegionId cn-hangzhou "
        "--InstanceId i-bp1g6zv0ce8oghu7k2zq --PageNumber 1 --PageSize 50"
    )
    assert _decided(out) == _decided(GOVERNANCE)
