"""Monthly cost ([recommend] monthly_invocations, --per-month): the figures `report` and `sweep` give
per configuration are `lambdabench price --per-month`'s for the same inputs, and appear only when asked."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
CODE = TESTS / "data" / "sweep_tiny"

_spec = importlib.util.spec_from_file_location("synthetic_results", TESTS / "synthetic_results.py")
synthetic = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(synthetic)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lambdabench", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL, env={**os.environ})


def constant_sweep(out: Path) -> Path:
    # No noise: every warm invocation of a size bills the same whole ms, every cold one too, so
    # the analysis's inputs are what `lambdabench price` takes. Burst wave 0 starts cold: the
    # observed cold share is 2 of 36 (30 warm + 6 burst samples). 10240 MB x 5e9 reaches tier 2.
    synthetic.write_sweep(out, memory_mb=(128, 1024, 10240), sigma=0.0, cold=5, warm=30, burst=(2, 3),
                          target="aws", original_config={"memory_mb": 1024, "timeout_s": 10,
                                                         "architecture": "x86_64", "ephemeral_storage_mb": 512})
    return out


@pytest.mark.parametrize("invocations", [25_000_000, 5_000_000_000])
def test_report_per_month_equals_lambdabench_price_for_the_same_inputs(tmp_path, invocations):
    out = constant_sweep(tmp_path / "sweep")
    proc = run_cli("report", str(out), "--per-month", str(invocations), "--no-html")
    assert proc.returncode == 0, proc.stderr
    document = json.loads((out / "report.json").read_text())
    assert document["monthly_invocations"] == invocations
    tiers_seen = set()
    for config in document["configs"]:
        month = config["monthly"]
        assert month["invocations"] == invocations
        assert month["cold_share"] == pytest.approx(2 / 36) and month["cold_share"] == config["cold_share"]
        billed, cold_billed = month["billed_duration_ms"], month["cold_billed_duration_ms"]
        assert billed == int(billed) and cold_billed == int(cold_billed) and cold_billed > billed
        price = run_cli("price", "--memory", str(config["memory_mb"]), "--billed-ms", str(int(billed)),
                        "--arch", config["architecture"], "--per-month", str(invocations),
                        "--cold-share", repr(month["cold_share"]), "--cold-billed-ms", str(int(cold_billed)),
                        "--json")
        assert price.returncode == 0, price.stderr
        theirs = json.loads(price.stdout)["per_month"]
        for field in ("gb_s", "compute_usd", "request_usd", "storage_usd", "total_usd", "cold_share"):
            assert month[field] == theirs[field], field
        assert month["tiers"] == theirs["tiers"]
        tiers_seen.add(len(month["tiers"]))
    if invocations == 5_000_000_000:
        assert 2 in tiers_seen  # 10240 MB spills into tier 2: the tiers are applied, not tier 1 x N
    # At tier 1 the month is N x the blended cost per invocation, which is priced sample by sample.
    for config in document["configs"]:
        if len(config["monthly"]["tiers"]) == 1:
            assert config["monthly"]["total_usd"] == pytest.approx(
                invocations * config["blended_cost_per_million_usd"] / 1e6, rel=1e-9)


def test_recommendation_says_what_it_saves_per_month_against_the_current_configuration(tmp_path):
    out = constant_sweep(tmp_path / "sweep")
    proc = run_cli("report", str(out), "--per-month", "25000000", "--no-html", "--strategy", "cost")
    assert proc.returncode == 0, proc.stderr
    document = json.loads((out / "report.json").read_text())
    rec = document["recommendation"]
    months = {c["memory_mb"]: c["monthly"]["total_usd"] for c in document["configs"]}
    assert rec["memory_mb"] == min(months, key=months.get)
    assert rec["monthly"]["cost_usd"] == months[rec["memory_mb"]]
    (current,) = [d for d in rec["monthly"]["against"] if d["against"] == "current"]
    assert current["memory_mb"] == 1024 and current["monthly_cost_usd"] == months[1024]
    assert current["saved_usd"] == pytest.approx(months[1024] - months[rec["memory_mb"]], rel=1e-12)
    saved = f"${current['saved_usd']:,.2f}"
    assert f"it saves {saved} a month" in rec["monthly"]["note"]
    assert "against the current 1024 MB / 10 s / x86_64" in rec["monthly"]["note"]
    console = " ".join(proc.stdout.split())
    assert f"Per month: 25,000,000 invocations a month (5.6% cold starts) cost " \
           f"${months[rec['memory_mb']]:,.2f} at {rec['memory_mb']} MB / 10 s / x86_64: it saves" in console
    assert "$/month" in proc.stdout.splitlines()[2]  # the table's column
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert {float(r["monthly_cost_usd"]) for r in rows if r["memory_mb"] == "1024"} == {months[1024]}


def test_speed_pick_names_the_cheapest_alternative_and_what_it_gives_up(tmp_path):
    out = constant_sweep(tmp_path / "sweep")
    proc = run_cli("report", str(out), "--per-month", "25000000", "--no-html", "--strategy", "speed")
    assert proc.returncode == 0, proc.stderr
    rec = json.loads((out / "report.json").read_text())["recommendation"]
    assert rec["memory_mb"] == 10240
    kinds = [d["against"] for d in rec["monthly"]["against"]]
    assert kinds == ["current", "cheapest"]
    cheapest = rec["monthly"]["against"][1]
    assert cheapest["saved_usd"] < 0  # the pick costs more than the cheapest
    assert f"The cheapest candidate, {cheapest['memory_mb']} MB / 10 s / x86_64, would cost " \
           f"${-cheapest['saved_usd']:,.2f} less a month" in rec["monthly"]["note"]
    assert "at p95 " in rec["monthly"]["note"]


def test_without_per_month_no_monthly_field_column_or_line(tmp_path):
    out = constant_sweep(tmp_path / "sweep")
    proc = run_cli("report", str(out), "--no-html")
    assert proc.returncode == 0, proc.stderr
    text = (out / "report.json").read_text()
    assert "monthly" not in text
    assert "monthly" not in (out / "summary.csv").read_text()
    assert "per month" not in proc.stdout.lower() and "$/month" not in proc.stdout


@pytest.mark.parametrize("value, message", [
    ("0", "0 is not in the range x>=1"),
    ("1.5", "'1.5' is not a valid integer"),
])
def test_bad_per_month_is_exit_2(tmp_path, value, message):
    out = constant_sweep(tmp_path / "sweep")
    proc = run_cli("report", str(out), "--per-month", value)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_sweep_per_month_records_the_effective_scenario_and_prices_each_configuration(tmp_path):
    scenario = tmp_path / "monthly.toml"
    scenario.write_text(textwrap.dedent(f"""
        name = "monthly"
        [function]
        name = "lb-monthly"
        code = "{CODE.as_posix()}"
        [sweep]
        memory_mb = [128, 256]
        timeout_s = [10]
        [recommend]
        monthly_invocations = 1000
        [[scenario]]
        kind = "cold"
        invocations = 2
        [[scenario]]
        kind = "warm"
        invocations = 4
        """))
    out = tmp_path / "out"
    proc = run_cli("sweep", str(scenario), "--out", str(out), "--per-month", "7000000")
    assert proc.returncode == 0, proc.stderr
    header = json.loads((out / "results.jsonl").read_text().splitlines()[0])
    assert header["recommend"]["monthly_invocations"] == 7_000_000  # the flag overrides the file
    assert header["scenario"]["recommend"]["monthly_invocations"] == 7_000_000
    document = json.loads((out / "report.json").read_text())
    from lambdabench import pricing
    for config in document["configs"]:
        month = config["monthly"]
        again = pricing.monthly_cost(7_000_000, config["memory_mb"], month["billed_duration_ms"],
                                     cold_share=month["cold_share"],
                                     cold_billed_duration_ms=month["cold_billed_duration_ms"])
        assert month["total_usd"] == again.total_usd
        assert month["total_usd"] == pytest.approx(7 * config["blended_cost_per_million_usd"], rel=1e-9)
    assert "Per month: 7,000,000 invocations a month (0.0% cold starts) cost $" in " ".join(proc.stdout.split())
    assert 'id="monthly"' in (out / "index.html").read_text()
    assert "<th" in (out / "index.html").read_text() and ">per month<" in (out / "index.html").read_text()
