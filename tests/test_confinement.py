"""Files are confined: whatever a policy, a test file or a policy folder names is read only
when it resolves to a regular file inside the working directory, a path given on the
command line or the bundled packs. Each way in is tried with a file that holds a secret:
the run refuses it with a clear error, never blocks, and never prints the secret."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

SECRET = "s3cr3t-do-not-print"
EXAMPLE = ROOT / "examples" / "ecs-account" / "snapshot.json"
CASE = "cases:\n  - {name: x, rule: p.r, resources: [], expect: [{resource: d, outcome: pass}]}\n"
POLICY = "use alicloud.ecs\n\npolicy p {\n  rule r {\n    for each disk require encrypted\n  }\n}\n"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout under review (the working directory) and, beside it, a file it must
    not reach; the process environment holds the secret too (for /proc/self/environ)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(f"password={SECRET}\n", encoding="utf-8")
    checkout = tmp_path / "checkout"
    (checkout / "pack").mkdir(parents=True)
    (checkout / "pack" / "p.policy").write_text(POLICY, encoding="utf-8")
    shutil.copy(EXAMPLE, checkout / "snapshot.json")
    monkeypatch.setenv("POLICYENGINE_TEST_SECRET", SECRET)
    monkeypatch.chdir(checkout)
    return checkout


def _refused(args: list[str], code: int = 3) -> str:
    got, out, err = run_cli(args)
    assert SECRET not in out + err
    assert "refused" in out + err, out + err
    assert got == code, (got, out, err)
    return out + err


@pytest.mark.parametrize("target", ["/proc/self/environ", "outside/secret.txt"])
def test_a_policy_symlink_in_a_folder_is_refused(repo: Path, target: str) -> None:
    (repo / "pack" / "leak.policy").symlink_to(repo.parent / target)
    for command in (["check", "pack"], ["evaluate", "--policy", "pack", "snapshot.json"]):
        message = _refused(command, code=2)
        assert "leak.policy" in message and "not read" in message


def test_a_model_symlink_a_policy_uses_is_refused(repo: Path) -> None:
    (repo / "pack" / "leak.model").symlink_to("/proc/self/environ")
    (repo / "pack" / "p.policy").write_text("use leak\n" + POLICY, encoding="utf-8")
    policy = "pack/p.policy"
    for command in (["check", policy], ["evaluate", "--policy", policy, "snapshot.json"]):
        message = _refused(command)
        assert "model `leak` is refused" in message


def test_a_model_symlink_out_of_the_checkout_is_refused(repo: Path) -> None:
    (repo / "pack" / "leak.model").symlink_to(repo.parent / "outside" / "secret.txt")
    (repo / "pack" / "p.policy").write_text("use leak\n" + POLICY, encoding="utf-8")
    message = _refused(["check", "--format", "sarif", "pack/p.policy"])
    assert "outside the working directory" in message


def test_a_waivers_symlink_in_a_policy_folder_is_refused(repo: Path) -> None:
    (repo / "pack" / "waivers.yaml").symlink_to(repo.parent / "outside" / "secret.txt")
    message = _refused(["evaluate", "--policy", "pack", "snapshot.json"])
    assert "waivers.yaml" in message


@pytest.mark.parametrize("named", ["/proc/self/environ", "../../outside/secret.txt", "../.env"])
def test_a_test_file_cannot_name_a_file_that_is_not_a_policy(repo: Path, named: str) -> None:
    (repo / ".env").write_text(f"TOKEN={SECRET}\n", encoding="utf-8")
    assert (repo / "pack" / named).exists()
    (repo / "pack" / "p.test.yaml").write_text(f"policies: [{named!r}]\n" + CASE, encoding="utf-8")
    got, out, err = run_cli(["test", "pack"])
    assert SECRET not in out + err
    assert got == 3 and "p.test.yaml:/policies/0" in err


def test_a_test_file_snapshot_symlink_to_proc_is_refused(repo: Path) -> None:
    (repo / "pack" / "s.json").symlink_to("/proc/self/environ")
    (repo / "pack" / "p.test.yaml").write_text(
        CASE.replace("resources: []", "snapshot: s.json"), encoding="utf-8"
    )
    message = _refused(["test", "pack"])
    assert "p.test.yaml:/cases/0/snapshot" in message


def test_an_export_symlink_to_dev_zero_is_refused_at_once(repo: Path) -> None:
    Path("zero.json").symlink_to("/dev/zero")
    message = _refused(["evaluate", "zero.json"])
    assert "not a regular file" in message


def test_a_symlink_out_of_an_export_folder_is_refused(repo: Path) -> None:
    shutil.copytree(ROOT / "examples" / "aliyun-export", "export")
    Path("export/cn-hangzhou/zero.json").symlink_to("/dev/zero")
    message = _refused(["evaluate", "export"])
    assert "zero.json" in message


def test_a_fifo_is_refused_without_blocking(repo: Path) -> None:
    os.mkfifo(repo / "pack" / "fifo.policy")
    os.mkfifo(repo / "fifo.json")
    _refused(["check", "pack"], code=2)
    assert "a FIFO" in _refused(["evaluate", "fifo.json"])
    assert "a FIFO" in _refused(["evaluate", "--waivers", "fifo.json", "snapshot.json"])


def test_a_file_is_read_no_further_than_its_limit(tmp_path: Path) -> None:
    """The size is checked on the opened file and reading stops past the limit, so a
    file that grows after the check cannot take the memory."""
    from policyengine.core import files

    path = tmp_path / "big.json"
    path.write_bytes(b"x" * 100)
    with pytest.raises(files.TooLarge) as raised:
        files.read_bytes(path, 99)
    assert raised.value.size == 100
    with path.open("rb") as stream:
        with pytest.raises(files.TooLarge) as streamed:
            files.read_stream(stream, 10)
    assert streamed.value.size == 11
    assert files.read_bytes(path, 100) == b"x" * 100
    # Read whole in one read of its size, or into a buffer of its size: the same bytes,
    # and the same limit.
    for read in (files.read_whole, files.read_buffer):
        with pytest.raises(files.TooLarge):
            read(path, 99)
        assert read(path, 100) == b"x" * 100


def test_a_file_read_whole_is_its_bytes_and_refused_as_any(tmp_path: Path) -> None:
    from policyengine.core import files

    path = tmp_path / "s.json"
    for data in (b"", b"{}", bytes(range(256)) * 5000):
        path.write_bytes(data)
        assert files.read_whole(path, 1 << 30) == data
    os.mkfifo(tmp_path / "fifo.json")
    with pytest.raises(files.Refused):
        files.read_whole(tmp_path / "fifo.json", 100)
    with pytest.raises(FileNotFoundError):
        files.read_whole(tmp_path / "missing.json", 100)
