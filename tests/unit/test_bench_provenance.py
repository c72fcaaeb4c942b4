"""Benchmark results name the commit that produced them, and a dirty tree is refused."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from benchmarks import results


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # GIVEN a repository with benchmarks/RESULTS.md committed
    bench = tmp_path / "benchmarks"
    bench.mkdir()
    (bench / "RESULTS.md").write_text(results.HEADER)
    (tmp_path / "code.py").write_text("x = 1\n")
    for command in (["git", "init", "-q"], ["git", "add", "-A"],
                    ["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "c"]):
        subprocess.run(command, cwd=tmp_path, check=True)
    monkeypatch.setattr(results, "RESULTS", bench / "RESULTS.md")
    monkeypatch.delenv("SLUICE_BENCH_ALLOW_DIRTY", raising=False)
    return tmp_path


def test_a_section_names_its_commit_command_and_machine(repo: Path) -> None:
    head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=repo, capture_output=True, text=True,
                          check=True).stdout.strip()
    results.write_section("demo", "Demo", "python -m benchmarks.bench_demo", "| a | b |")
    text = results.RESULTS.read_text()
    assert f"Commit: `{head}`" in text and "Command: `python -m benchmarks.bench_demo`" in text
    assert "Machine: " in text
    # AND rewriting RESULTS.md itself does not make the tree dirty for the next benchmark
    results.write_section("other", "Other", "python -m benchmarks.bench_other", "| c |")
    assert text.count("Commit:") == 1 and results.RESULTS.read_text().count(f"Commit: `{head}`") == 2


def test_a_dirty_tree_is_refused_unless_explicitly_allowed(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "code.py").write_text("x = 2\n")
    with pytest.raises(results.DirtyTreeError, match=r"commit first: uncommitted changes in code\.py"):
        results.write_section("demo", "Demo", "cmd", "body")
    monkeypatch.setenv("SLUICE_BENCH_ALLOW_DIRTY", "1")
    results.write_section("demo", "Demo", "cmd", "body")
    assert "+uncommitted`" in results.RESULTS.read_text()
