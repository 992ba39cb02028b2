"""`policyengine docs`: the pages in docs/policies/ are what the bundled packs generate
today; a change to a pack without regenerating them fails here."""

from __future__ import annotations

from pathlib import Path

from conftest import ROOT, run_cli

DOCS = ROOT / "docs" / "policies"


def test_docs_of_the_bundled_packs_are_current(tmp_path: Path) -> None:
    code, _, err = run_cli(["docs", "--out", str(tmp_path)])
    assert code == 0, err
    generated = {p.name: p.read_text(encoding="utf-8") for p in tmp_path.glob("*.md")}
    committed = {p.name: p.read_text(encoding="utf-8") for p in DOCS.glob("*.md")}
    assert (
        generated.keys()
        == committed.keys()
        == {"baseline.md", "cost.md", "ecs-locations.md", "governance.md", "security-groups.md"}
    )
    for name, text in generated.items():
        assert committed[name] == text, (
            f"docs/policies/{name} is stale: run `policyengine docs` and commit the result"
        )


def test_a_page_lists_what_a_rule_reads_and_follows() -> None:
    page = (DOCS / "ecs-locations.md").read_text(encoding="utf-8")
    section = page[page.index('<a id="disk_zone">') : page.index('<a id="snapshot_region">')]
    assert "- **Reads:** `disk.zone`, `instance.zone`" in section
    assert "- **Follows:** `disk attach instance (via disk.instance_id, " in section
    assert "```\ndisk attach requires same zone\n```" in section


def test_a_page_describes_each_rule_as_explain_does() -> None:
    """One description per rule: the page's section is `explain --rule --format markdown`
    under a heading one level up."""
    page = (DOCS / "security-groups.md").read_text(encoding="utf-8")
    code, out, _ = run_cli(
        ["explain", "--rule", "security_groups.no_risky_ports", "--format", "markdown"]
    )
    assert code == 0
    assert out.startswith("### `security_groups.no_risky_ports`")
    assert out.rstrip("\n")[1:] in page
    assert "`security_group.rules[*].port_range`" in out  # through the quantifier's `r`


def test_docs_of_a_policy_that_does_not_check(tmp_path: Path) -> None:
    bad = tmp_path / "bad.policy"
    bad.write_text(
        "use alicloud.ecs\npolicy p {\n  rule r {\n    for each dsik require x\n  }\n}\n"
    )
    code, _, err = run_cli(["docs", str(bad), "--out", str(tmp_path / "out")])
    assert code == 3
    assert "unknown kind `dsik`" in err
    assert not (tmp_path / "out").exists()
