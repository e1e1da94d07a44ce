"""`lambdabench report` and `lambdabench compare` as a user runs them: real processes, exit codes, files."""

from __future__ import annotations

import csv
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "synthetic_results", Path(__file__).resolve().parent.parent / "synthetic_results.py"
)
synthetic = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(synthetic)


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lambdabench", *args], capture_output=True, text=True, timeout=120
    )


def test_report_recomputes_outputs_from_results_and_prints_the_summary(tmp_path):
    out = tmp_path / "sweep"
    synthetic.write_sweep(out, memory_mb=(128, 512, 1024), burst=(4, 1))
    proc = run("report", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "Recommendation (balanced):" in proc.stdout
    assert "128 MB / 10 s / x86_64" in proc.stdout
    for name in ("summary.csv", "report.json", "index.html"):
        assert (out / name).is_file()
        assert f"wrote {out / name}" in proc.stdout
    doc = json.loads((out / "report.json").read_text())
    assert doc["format_version"] == 1 and doc["missing"] == []
    assert [c["memory_mb"] for c in doc["configs"]] == [128, 512, 1024]
    assert len(list(csv.DictReader(open(out / "summary.csv")))) == 9
    assert "did not complete" not in proc.stderr


def test_report_of_a_partial_sweep_lists_what_is_missing(tmp_path):
    out = tmp_path / "partial"
    synthetic.write_sweep(out, memory_mb=(128, 256, 512), cold=2, warm=5, warmup=1, stop_after=10)
    proc = run("report", str(out), "--no-html")
    assert proc.returncode == 0, proc.stderr
    assert "did not complete" in proc.stderr
    assert "Missing (partial sweep): 256 MB / 10 s / x86_64, 512 MB / 10 s / x86_64" in proc.stdout
    doc = json.loads((out / "report.json").read_text())
    assert [m["memory_mb"] for m in doc["missing"]] == [256, 512]
    assert not (out / "index.html").exists()


def test_report_strategy_override_and_bad_input_exit_2_without_traceback(tmp_path):
    out = tmp_path / "sweep"
    synthetic.write_sweep(out, memory_mb=(128, 1024), cold=1, warm=5)
    proc = run("report", str(out), "--no-html", "--strategy", "speed")
    assert proc.returncode == 0 and "Recommendation (speed): 1024 MB" in proc.stdout
    proc = run("report", str(out), "--strategy", "slo")
    assert proc.returncode == 2
    assert "error: strategy 'slo' needs p95_slo_ms" in proc.stderr and "Traceback" not in proc.stderr
    proc = run("report", str(tmp_path / "nowhere"))
    assert proc.returncode == 2 and "no results file here" in proc.stderr and "Traceback" not in proc.stderr


def test_compare_exits_0_against_itself_and_1_when_the_function_does_twice_the_work(tmp_path):
    base, same, slow = tmp_path / "base", tmp_path / "same", tmp_path / "slow"
    synthetic.write_sweep(base, memory_mb=(256, 1024), cold=2, work_ms=150.0, seed=3)
    synthetic.write_sweep(same, memory_mb=(256, 1024), cold=2, work_ms=150.0, seed=3)
    synthetic.write_sweep(slow, memory_mb=(256, 1024), cold=2, work_ms=300.0, seed=4)
    ok = run("compare", str(base), str(same))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "OK: no significant regression" in ok.stdout and "bootstrap 95% interval" in ok.stdout
    bad = run("compare", str(base), str(slow), "--fail-on", "p95+10%,cost+5%")
    assert bad.returncode == 1
    assert "REGRESSION" in bad.stdout and "FAILED: 4 significant regression(s)" in bad.stdout
    md = run("compare", str(base), str(slow), "--markdown")
    assert md.returncode == 1 and md.stdout.startswith("| configuration |") and "**Result: FAILED**" in md.stdout


def test_compare_with_a_bad_fail_on_names_the_term_and_exits_2(tmp_path):
    base = tmp_path / "base"
    synthetic.write_sweep(base, memory_mb=(256,), cold=0, warm=5)
    proc = run("compare", str(base), str(base), "--fail-on", "p95+10%,latency+5%")
    assert proc.returncode == 2
    assert "unknown metric 'latency'" in proc.stderr and "METRIC+PERCENT" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_compare_of_sweeps_sharing_no_configuration_exits_2(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    synthetic.write_sweep(a, memory_mb=(128,), cold=0, warm=5)
    synthetic.write_sweep(b, memory_mb=(256,), cold=0, warm=5)
    proc = run("compare", str(a), str(b))
    assert proc.returncode == 2 and "share no measured configuration" in proc.stderr
