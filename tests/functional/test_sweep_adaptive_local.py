"""An adaptive sweep on the local target: the search's invocations go through the emulator for real,
through the same driver as a grid sweep, and `report` and `compare` read the result."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lambdabench.analysis.analyze import analyze
from lambdabench.results import read_results

ROOT = Path(__file__).resolve().parents[2]
CODE = Path(__file__).resolve().parents[1] / "data" / "sweep_tiny"

pytestmark = pytest.mark.slow


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lambdabench", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=240, stdin=subprocess.DEVNULL, env={**os.environ})


def test_an_adaptive_local_sweep_measures_through_the_emulator_and_reports(tmp_path):
    path = tmp_path / "adaptive-local.toml"
    path.write_text(textwrap.dedent(f"""
        name = "adaptive-local"
        [function]
        code = "{CODE.as_posix()}"
        [sweep]
        memory_mb = [128, 256, 512, 1024]
        timeout_s = [10]
        budget_invocations = 16
        [recommend]
        strategy = "cost"
        [[scenario]]
        kind = "cold"
        invocations = 1
        [[scenario]]
        kind = "warm"
        invocations = 4
        warmup = 1
        """))
    out = tmp_path / "out"
    result = run_cli("sweep", str(path), "--search", "adaptive", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "Adaptive search" in result.stdout
    results = read_results(out)
    assert results.header["target"] == "local"
    assert results.header["scenario"]["sweep"]["search"] == "adaptive"
    search = [r for r in results.records if r.search_phase == "search" and not r.warmup]
    assert 0 < len(search) <= 16
    assert all(r.report_source in ("tail", "logs") and r.cold is False for r in search)
    done = next(e for e in results.events if e["event"] == "search_finished")
    assert {r.memory_mb for r in results.records if r.scenario == "cold"} == set(done["finalists"])
    assert analyze(results).recommendation.config.memory_mb in done["finalists"]
    report = run_cli("report", str(out))
    assert report.returncode == 0, report.stderr
    assert (out / "search_curve.png").exists() or "search_curve" in (out / "index.html").read_text()
    compare = run_cli("compare", str(out), str(out))
    assert compare.returncode == 0, compare.stderr
