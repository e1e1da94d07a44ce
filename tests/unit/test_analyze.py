"""analyze(): exact statistics and costs on fixed results, exclusions, failures, warnings, outputs."""

from __future__ import annotations

import csv
import importlib.util
import json
import math
from pathlib import Path

import pytest

from lambdabench.analysis import analyze
from lambdabench.analysis.export import write_outputs
from lambdabench.analysis.model import ConfigPoint
from lambdabench.errors import UsageError
from lambdabench.records import InvocationRecord
from lambdabench.report.console import render_summary
from lambdabench.results import INVOCATION_FIELDS, ResultsWriter, read_results

_spec = importlib.util.spec_from_file_location(
    "synthetic_results", Path(__file__).resolve().parent.parent / "synthetic_results.py"
)
synthetic = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(synthetic)

PRICE_X86 = 0.0000166667  # us-east-1 x86_64 tier 1, USD per GB-s
REQUEST = 0.0000002


def expected_cost(memory_mb, billed_ms, price=PRICE_X86):
    return memory_mb / 1024 * billed_ms / 1000 * price + REQUEST


def header(**over):
    h = {
        "tool_version": "0.1.0",
        "scenario": {"name": "fixed"},
        "recommend": {"strategy": "cost", "balanced_weight": 0.5, "p95_slo_ms": None, "cold_share": None, "percentile": 95.0},
        "target": "aws",
        "endpoint_url": None,
        "region": "us-east-1",
        "function_name": "fixed",
        "function_arn": "arn:aws:lambda:us-east-1:123456789012:function:fixed",
        "emulator": None,
        "started_at": "2026-11-27T06:00:00.000000Z",
        "original_config": {"memory_mb": 128, "timeout_s": 3, "architecture": "x86_64", "environment": {}, "ephemeral_storage_mb": 512},
        "plan": {"configs": [{"memory_mb": 128, "timeout_s": 3, "architecture": "x86_64"}], "scenarios": [], "total_invocations": 0},
    }
    h.update(over)
    return h


def inv(i, scenario="warm", memory=128, status="ok", duration=None, billed=None, init=None, cold=False,
        warmup=False, mismatch=False, mem_used=60, cost="auto", timeout=3, arch="x86_64"):
    if cost == "auto":
        cost = None if billed is None else expected_cost(memory, billed)
    record = {k: None for k in INVOCATION_FIELDS}
    record.update(
        invocation_id=f"m{memory}/{scenario}/{i}", memory_mb=memory, timeout_s=timeout, architecture=arch,
        scenario=scenario, request_id=f"r{i}", status=status, cold=cold, warmup=warmup, state_mismatch=mismatch,
        duration_ms=duration, billed_duration_ms=billed, init_duration_ms=init, max_memory_used_mb=mem_used,
        client_ms=None if duration is None else duration + 1.0, cost_usd=cost,
        started_at="2026-11-27T06:00:01.000000Z",
    )
    return record


def write(tmp_path, records, completed=True, **header_over):
    path = tmp_path / "results.jsonl"
    with ResultsWriter(path, header(**header_over)) as w:
        for r in records:
            w.write_invocation(InvocationRecord.from_json(r))
        if completed:
            w.write_event("completed")
    return read_results(tmp_path)


def fixed_records():
    recs = [inv(100, warmup=True, duration=500.0, billed=500, mem_used=99)]  # warm-up: excluded
    recs.append(inv(101, duration=900.0, billed=900, mismatch=True, cold=True, init=100.0))  # mismatch: excluded
    for i, d in enumerate([10.0, 20.0, 30.0, 40.0]):
        recs.append(inv(i, duration=d, billed=int(d) + 1, mem_used=60 + i))
    recs.append(inv(200, scenario="cold", duration=50.0, billed=151, init=100.5, cold=True, mem_used=70))
    recs.append(inv(201, scenario="cold", duration=60.0, billed=181, init=120.5, cold=True, mem_used=71))
    return recs


def test_warm_statistics_are_exact_and_exclude_warmups_and_mismatches(tmp_path):
    a = analyze(write(tmp_path, fixed_records()))
    (c,) = a.configs
    warm = c.scenarios["warm"]
    assert warm.counts == {"ok": 4, "error": 0, "timeout": 0, "throttled": 0, "oom": 0}
    assert (warm.excluded_warmup, warm.excluded_mismatch) == (1, 1)
    d = warm.duration_ms
    assert (d.n, d.mean, d.p50, d.min, d.max) == (4, 25.0, 25.0, 10.0, 40.0)
    assert d.p95 == pytest.approx(38.5, abs=1e-12)
    assert d.std == pytest.approx(math.sqrt(500 / 3), abs=1e-12)
    assert warm.billed_duration_ms.mean == 26.0
    assert warm.client_ms.mean == 26.0
    assert warm.init_duration_ms is None
    assert warm.max_memory_used_mb == 63  # the warm-up's 99 MB is not a kept sample


def test_costs_equal_memory_times_billed_times_price_plus_request_fee(tmp_path):
    a = analyze(write(tmp_path, fixed_records()))
    warm = a.configs[0].scenarios["warm"]
    expected = sum(expected_cost(128, b) for b in (11, 21, 31, 41)) / 4
    assert warm.cost_per_invocation_usd == pytest.approx(expected, rel=1e-12)
    assert warm.cost_per_million_usd == pytest.approx(expected * 1e6, rel=1e-12)
    cold = a.configs[0].scenarios["cold"]
    # Billed Duration already includes init on a cold start; nothing is added on top.
    assert cold.cost_per_invocation_usd == pytest.approx((expected_cost(128, 151) + expected_cost(128, 181)) / 2, rel=1e-12)
    assert a.configs[0].cost_per_million_usd == warm.cost_per_million_usd
    assert not [w for w in a.warnings if w.kind == "cost_mismatch"]


def test_arm64_and_a_higher_priced_region_use_their_own_rates(tmp_path):
    recs = [inv(i, duration=99.0, billed=100, memory=1024, arch="arm64", cost=None) for i in range(3)]
    a = analyze(write(tmp_path, recs, region="af-south-1"))
    assert a.configs[0].cost_per_million_usd == pytest.approx((1 * 0.1 * 0.00001768 + REQUEST) * 1e6, rel=1e-12)


def test_init_statistics_come_from_cold_samples(tmp_path):
    cold = analyze(write(tmp_path, fixed_records())).configs[0].scenarios["cold"]
    assert cold.init_duration_ms.n == 2
    assert cold.init_duration_ms.mean == 110.5
    assert cold.max_memory_used_mb == 71


def test_blended_cost_mixes_cold_and_warm_at_the_chosen_share(tmp_path):
    a = analyze(write(tmp_path, fixed_records()), recommend={"cold_share": 0.25})
    c = a.configs[0]
    cold, warm = c.scenarios["cold"].cost_per_million_usd, c.scenarios["warm"].cost_per_million_usd
    assert c.cold_share == 0.25
    assert c.blended_cost_per_million_usd == pytest.approx(0.25 * cold + 0.75 * warm, rel=1e-12)


def test_observed_cold_share_counts_cold_starts_the_sweep_did_not_force(tmp_path):
    recs = fixed_records() + [
        inv(300, scenario="burst", duration=50.0, billed=151, init=100.0, cold=True),
        inv(301, scenario="burst", duration=10.0, billed=11),
    ]
    c = analyze(write(tmp_path, recs)).configs[0]
    # warm: 4 kept + 1 mismatched cold (a real cold start) ; burst: 1 cold of 2 -> 2 cold of 7
    assert c.cold_share == pytest.approx(2 / 7)


def test_failed_configuration_is_not_recommended_and_the_reason_is_shown(tmp_path):
    recs = [inv(i, duration=10.0, billed=11) for i in range(5)]
    recs += [inv(10 + i, memory=256, duration=5.0, billed=6) for i in range(3)]
    recs += [inv(20, memory=256, status="timeout", duration=3000.0, billed=3000),
             inv(21, memory=256, status="timeout", duration=3000.0, billed=3000),
             inv(22, memory=256, status="oom", duration=40.0, billed=40)]
    a = analyze(write(tmp_path, recs), recommend={"strategy": "speed"})
    bad = a.config(ConfigPoint(256, 3))
    assert not bad.recommendable
    assert bad.not_recommended_reason == "2 timeouts, 1 OOM"
    assert bad.timeouts_cut_off == 2
    assert a.recommendation.config == ConfigPoint(128, 3)
    assert [w.kind for w in a.warnings if w.config == ConfigPoint(256, 3)] == ["timeout_cut_off"]


def test_recommendation_fields_timeout_and_savings(tmp_path):
    recs = fixed_records() + [inv(50 + i, memory=256, duration=d, billed=int(d) + 1) for i, d in enumerate([5.0, 6.0, 7.0, 8.0])]
    recs.append(inv(60, memory=256, scenario="cold", duration=9.0, billed=1990, init=1980.0, cold=True))
    a = analyze(write(tmp_path, recs), recommend={"strategy": "speed"})
    r = a.recommendation
    assert r.config == ConfigPoint(256, 3) and r.strategy == "speed"
    assert r.timeout_s == 3  # slowest 9 + 1980 = 1989 ms x 1.5 = 2.98 s -> 3 s
    orig = a.config(ConfigPoint(128, 3)).cost_per_million_usd
    assert r.savings_per_million_usd == pytest.approx(orig - r.cost_per_million_usd, rel=1e-12)
    assert a.original == ConfigPoint(128, 3)


def test_savings_say_so_when_the_original_was_not_measured(tmp_path):
    a = analyze(write(tmp_path, fixed_records(), original_config={"memory_mb": 3008, "timeout_s": 3, "architecture": "x86_64"}))
    r = a.recommendation
    assert r.savings_per_million_usd is None and r.savings_fraction is None
    assert "3008 MB / 3 s / x86_64" in r.savings_note and "not measured" in r.savings_note


def test_original_at_another_timeout_is_priced_by_the_measurement_at_its_memory(tmp_path):
    a = analyze(write(tmp_path, fixed_records(), original_config={"memory_mb": 128, "timeout_s": 60, "architecture": "x86_64"}))
    assert a.original == ConfigPoint(128, 60)
    assert a.original_measured_as == ConfigPoint(128, 3)
    orig = a.config(ConfigPoint(128, 3)).cost_per_million_usd
    r = a.recommendation
    assert r.savings_per_million_usd == pytest.approx(orig - r.cost_per_million_usd, rel=1e-12)


def test_original_memory_not_swept_has_no_stand_in(tmp_path):
    a = analyze(write(tmp_path, fixed_records(), original_config={"memory_mb": 3008, "timeout_s": 3, "architecture": "x86_64"}))
    assert a.original_measured_as is None


def test_partial_sweep_lists_missing_configurations(tmp_path):
    path = synthetic.write_sweep(tmp_path, memory_mb=(128, 256, 512), cold=2, warm=4, warmup=1, stop_after=9)
    a = analyze(read_results(path))
    assert [c.config.memory_mb for c in a.configs] == [128, 256]
    assert [k.memory_mb for k in a.missing] == [256, 512]  # 256 has 2 cold + 1 warm-up + 0 of 4 warm
    assert any(w.kind == "partial" for w in a.warnings)


def test_local_target_warnings_for_cpu_mechanism_host_cores_and_emulator(tmp_path):
    emulator = {"cpu_mechanism": "duty-cycle", "host_cores": 2, "warnings": ["memory limit not enforced"]}
    path = synthetic.write_sweep(tmp_path, memory_mb=(1024, 3538, 4096), emulator=emulator, cold=1, warm=2)
    a = analyze(read_results(path))
    kinds = {w.kind: w for w in a.warnings}
    assert "duty-cycle" in kinds["cpu_mechanism"].message
    assert "4096 MB" in kinds["host_cores"].message and "3538 MB" not in kinds["host_cores"].message
    assert "3538 MB" in kinds["host_cores"].remedy  # 2 cores x 1769 MB
    assert kinds["emulator"].message == "memory limit not enforced"
    assert "warm invocations to >= 30" in kinds["too_few_samples"].remedy


def test_throttles_and_mismatches_are_warned_with_remedies(tmp_path):
    path = synthetic.write_sweep(tmp_path, memory_mb=(128,), burst=(10, 2), throttled={128: 3}, mismatches={128: 2})
    a = analyze(read_results(path))
    kinds = [w.kind for w in a.warnings]
    assert "throttles" in kinds and "state_mismatch" in kinds
    burst = a.configs[0].scenarios["burst"]
    assert burst.counts["throttled"] == 3 and burst.n_ok == 17


def test_unstable_results_are_warned(tmp_path):
    path = synthetic.write_sweep(tmp_path, memory_mb=(512,), sigma=0.4, warm=30, cold=0)
    a = analyze(read_results(path))
    unstable = [w for w in a.warnings if w.kind == "unstable"]
    assert unstable and "CV" in unstable[0].message and "warm invocations to >=" in unstable[0].remedy


def test_cost_usd_disagreeing_with_the_price_table_is_reported(tmp_path):
    recs = [inv(i, duration=10.0, billed=11, cost=1.0) for i in range(3)]
    a = analyze(write(tmp_path, recs))
    assert [w.kind for w in a.warnings if w.kind == "cost_mismatch"] == ["cost_mismatch"]
    assert a.configs[0].scenarios["warm"].cost_per_invocation_usd == pytest.approx(expected_cost(128, 11), rel=1e-12)


def test_bad_recommend_settings_are_usage_errors(tmp_path):
    results = write(tmp_path, fixed_records())
    with pytest.raises(UsageError, match="unknown recommend strategy 'fast'"):
        analyze(results, recommend={"strategy": "fast"})
    with pytest.raises(UsageError, match="needs p95_slo_ms"):
        analyze(results, recommend={"strategy": "slo"})
    with pytest.raises(UsageError, match="cold_share"):
        analyze(results, recommend={"cold_share": 1.5})


def test_slo_that_nothing_meets_gives_no_recommendation_and_says_why(tmp_path):
    a = analyze(write(tmp_path, fixed_records()), recommend={"strategy": "slo", "p95_slo_ms": 1.0})
    assert a.recommendation is None
    (w,) = [w for w in a.warnings if w.kind == "no_recommendation"]
    assert "1 ms SLO" in w.message and "p95_slo_ms" in w.remedy
    assert "Recommendation: none" in render_summary(a)


def test_empty_results_analyse_without_a_recommendation(tmp_path):
    a = analyze(write(tmp_path, [], completed=False))
    assert a.configs == () and a.recommendation is None
    assert [k.memory_mb for k in a.missing] == [128]


def test_outputs_summary_csv_and_report_json(tmp_path):
    path = synthetic.write_sweep(tmp_path / "sweep", memory_mb=(128, 256), burst=(4, 1))
    a = analyze(read_results(path))
    csv_path, json_path = write_outputs(a, tmp_path / "out")
    rows = list(csv.DictReader(open(csv_path)))
    assert [(r["memory_mb"], r["scenario"]) for r in rows] == [
        ("128", "cold"), ("128", "warm"), ("128", "burst"), ("256", "cold"), ("256", "warm"), ("256", "burst")]
    for column in ("duration_p50_ms", "duration_p95_ci_low_ms", "billed_duration_mean_ms", "client_p95_ms",
                   "init_duration_p50_ms", "cost_per_million_usd", "n_throttled", "excluded_warmup"):
        assert column in rows[0]
    assert float(rows[1]["cost_per_million_usd"]) == pytest.approx(a.configs[0].scenarios["warm"].cost_per_million_usd)
    doc = json.loads(json_path.read_text())
    assert doc["format_version"] == 1
    rec = doc["recommendation"]
    for key in ("memory_mb", "timeout_s", "strategy", "p95_ms", "cost_per_million_usd", "indistinguishable_from"):
        assert key in rec
    assert rec["memory_mb"] == a.recommendation.config.memory_mb
    assert [c["memory_mb"] for c in doc["configs"]] == [128, 256]
    assert doc["configs"][0]["scenarios"]["warm"]["duration_ms"]["p50_ci"]["level"] == 0.95
    assert "pareto" in doc and "missing" in doc and isinstance(doc["warnings"], list)


def test_configurations_with_the_same_speed_are_indistinguishable_and_the_cheaper_is_picked(tmp_path):
    # Above 1,769 MB a single-threaded handler gets no faster: 1769 and 3008 MB tie on speed.
    path = synthetic.write_sweep(tmp_path, memory_mb=(512, 1769, 3008), cold=1, recommend={"strategy": "speed"})
    a = analyze(read_results(path))
    r = a.recommendation
    assert r.config.memory_mb == 1769
    assert r.indistinguishable_from == (ConfigPoint(3008, 10),)
    assert r.confidence.startswith("Not decisive") and "3008 MB" in r.confidence
    assert ConfigPoint(1769, 10) in a.pareto


def test_chosen_percentile_ranks_speed_and_is_reported(tmp_path):
    path = synthetic.write_sweep(tmp_path, memory_mb=(256, 512), cold=1)
    a = analyze(read_results(path), recommend={"strategy": "speed", "percentile": 99})
    c = a.config(ConfigPoint(512, 10))
    warm = c.scenarios["warm"].duration_ms
    assert c.latency_percentile == 99 and c.latency_ms == warm.p99
    assert c.latency_ci.low <= warm.p99 <= c.latency_ci.high
    assert a.recommendation.latency_ms == warm.p99 and "p99" in a.recommendation.reason


def test_a_single_qualifying_configuration_says_so(tmp_path):
    recs = [inv(i, duration=10.0, billed=11) for i in range(30)]
    r = analyze(write(tmp_path, recs)).recommendation
    assert r.confidence == "Only this configuration qualified, so there was nothing to tell it apart from."


def test_a_region_without_usd_prices_leaves_costs_unknown_and_says_so(tmp_path):
    recs = [inv(i, duration=10.0, billed=11, cost=None) for i in range(5)]
    a = analyze(write(tmp_path, recs, region="cn-north-1"))
    warm = a.configs[0].scenarios["warm"]
    assert warm.cost_per_million_usd is None and warm.duration_ms.p50 == 10.0
    assert a.recommendation is None
    kinds = [w.kind for w in a.warnings]
    assert "unpriced" in kinds and "no_recommendation" in kinds
    assert "CNY" in next(w for w in a.warnings if w.kind == "unpriced").message


def test_invocations_without_a_report_line_are_counted_and_warned(tmp_path):
    recs = [inv(i, duration=None, billed=None, cost=None, mem_used=None) for i in range(3)]
    a = analyze(write(tmp_path, recs))
    c = a.configs[0]
    assert c.scenarios["warm"].n_ok == 3 and c.scenarios["warm"].duration_ms is None
    assert not c.recommendable and c.not_recommended_reason == "no REPORT line was read, so durations are unknown"
    (w,) = [w for w in a.warnings if w.kind == "missing_reports"]
    assert w.message.startswith("128 MB / 3 s / x86_64 warm: 3 ok invocations had no REPORT line")


def test_verbose_console_summary_has_a_block_per_configuration_in_one_unit(tmp_path):
    recs = [inv(i, duration=d, billed=int(d) + 1, timeout=30) for i, d in enumerate([9000.0, 12000.0, 15000.0])]
    recs += [inv(10 + i, memory=256, duration=d, billed=int(d) + 1, timeout=30) for i, d in enumerate([10.0, 20.0, 30.0])]
    text = render_summary(analyze(write(tmp_path, recs, original_config=None)), verbose=True)
    lines = text.splitlines()
    block = lines[lines.index("128 MB / 30 s / x86_64") + 1: lines.index("256 MB / 30 s / x86_64")]
    assert block[0] == "  warm   (3 ok)"
    assert block[1].startswith("    Duration (mean ± σ): 12.000 s ± 3.000 s  [")
    assert block[3] == "    Range (min … max):  9.000 … 15.000 s"
    assert " ms" not in "\n".join(block[1:5])
    assert "    Range (min … max):  10.0 … 30.0 ms" in lines
    assert "Recommendation (cost): 256 MB, timeout 1 s, x86_64" in lines


def test_a_recommendation_with_thin_memory_headroom_is_warned(tmp_path):
    recs = [inv(i, duration=10.0, billed=11, mem_used=120) for i in range(5)]
    a = analyze(write(tmp_path, recs))
    (w,) = [w for w in a.warnings if w.kind == "memory_headroom"]
    assert w.message == "the recommended 128 MB leaves little headroom: up to 120 MB was used (94%)"
    assert w.config == ConfigPoint(128, 3)


def test_blended_cost_without_a_cold_scenario_prices_cold_starts_seen_in_bursts(tmp_path):
    recs = [inv(i, duration=10.0, billed=11) for i in range(4)]
    recs += [inv(10, scenario="burst", duration=10.0, billed=111, init=100.0, cold=True),
             inv(11, scenario="burst", duration=10.0, billed=11)]
    c = analyze(write(tmp_path, recs), recommend={"cold_share": 0.1}).configs[0]
    assert c.blended_cost_per_million_usd == pytest.approx(
        (0.1 * expected_cost(128, 111) + 0.9 * expected_cost(128, 11)) * 1e6, rel=1e-12)


def test_cost_strategy_at_a_cold_share_ranks_blended_costs_with_intervals(tmp_path):
    # Below 1,769 MB a CPU-bound handler costs the same at any size: 128 and 256 MB tie.
    path = synthetic.write_sweep(tmp_path, memory_mb=(128, 256, 2048), cold=5, warm=30)
    a = analyze(read_results(path), recommend={"strategy": "cost", "cold_share": 0.05})
    r = a.recommendation
    c128 = a.config(ConfigPoint(128, 10))
    assert r.config == ConfigPoint(128, 10)
    assert r.cost_per_million_usd == c128.blended_cost_per_million_usd
    assert r.indistinguishable_from == (ConfigPoint(256, 10),)
    assert "at 5% cold starts" in r.reason


def two_config_plan(*memories):
    return {"configs": [{"memory_mb": m, "timeout_s": 3, "architecture": "x86_64"} for m in memories],
            "scenarios": [], "total_invocations": 0}


def test_a_configuration_without_the_ranking_scenario_is_not_ranked_on_another(tmp_path):
    # Partial sweep: 128 MB has warm data only, 1024 MB got only as far as its cold starts.
    # Its cold latency must not be ranked against 128 MB's warm latency.
    recs = [inv(i, duration=10.0, billed=11) for i in range(5)]
    recs += [inv(10 + i, memory=1024, scenario="cold", duration=5.0, billed=106, init=100.0, cold=True)
             for i in range(3)]
    a = analyze(write(tmp_path, recs, completed=False, plan=two_config_plan(128, 1024)),
                recommend={"strategy": "speed"})
    c1024 = a.config(ConfigPoint(1024, 3))
    assert [c.latency_scenario for c in a.configs] == ["warm", "warm"]
    assert not c1024.recommendable and c1024.not_recommended_reason == "no warm samples"
    assert c1024.p95_ms is None and c1024.cost_per_million_usd is None
    assert a.recommendation.config == ConfigPoint(128, 3)


def test_every_configuration_ranks_on_the_first_scenario_all_of_them_have(tmp_path):
    recs = [inv(i, duration=10.0, billed=11) for i in range(5)]
    recs += [inv(20 + i, scenario="cold", duration=60.0, billed=161, init=100.0, cold=True) for i in range(3)]
    recs += [inv(10 + i, memory=1024, scenario="cold", duration=5.0, billed=106, init=100.0, cold=True)
             for i in range(3)]
    a = analyze(write(tmp_path, recs, plan=two_config_plan(128, 1024)), recommend={"strategy": "speed"})
    c128, c1024 = a.configs
    assert (c128.latency_scenario, c1024.latency_scenario) == ("cold", "cold")
    assert c128.p95_ms == 60.0 and c1024.p95_ms == 5.0
    assert c128.cost_per_million_usd == pytest.approx(expected_cost(128, 161) * 1e6, rel=1e-12)
    assert a.recommendation.config == ConfigPoint(1024, 3)


def test_burst_ranking_latency_and_steady_cost_exclude_its_cold_wave(tmp_path):
    recs = []
    for m in (128, 256):
        recs += [inv(m + i, memory=m, scenario="burst", duration=50.0, billed=151, init=100.0, cold=True)
                 for i in range(2)]
    recs += [inv(200 + i, memory=128, scenario="burst", duration=d, billed=int(d) + 1)
             for i, d in enumerate([10.0, 20.0])]
    a = analyze(write(tmp_path, recs, plan=two_config_plan(128, 256)))
    c128, c256 = a.configs
    burst = c128.scenarios["burst"]
    assert burst.n_ok == 4 and burst.duration_ms.n == 4 and burst.duration_ms.max == 50.0  # all kept here
    assert c128.latency_scenario == "burst"
    assert (c128.p50_ms, c128.p95_ms) == (15.0, 19.5)
    assert c128.cost_per_million_usd == pytest.approx(
        (expected_cost(128, 11) + expected_cost(128, 21)) / 2 * 1e6, rel=1e-12)
    assert not c256.recommendable
    assert c256.not_recommended_reason == "no burst samples after excluding cold starts"
    assert a.recommendation.config == ConfigPoint(128, 3)


def test_at_a_cold_share_a_configuration_without_cold_samples_is_not_recommended(tmp_path):
    recs = [inv(i, duration=10.0, billed=11) for i in range(4)]
    recs.append(inv(9, scenario="cold", duration=50.0, billed=151, init=100.0, cold=True))
    recs += [inv(10 + i, memory=256, duration=5.0, billed=6) for i in range(4)]  # faster, never cold
    a = analyze(write(tmp_path, recs, plan=two_config_plan(128, 256)),
                recommend={"strategy": "speed", "cold_share": 0.1})
    c256 = a.config(ConfigPoint(256, 3))
    assert not c256.recommendable and c256.not_recommended_reason == "no cold samples to blend"
    assert c256.blended_cost_per_million_usd is None
    assert a.recommendation.config == ConfigPoint(128, 3)


def test_a_winner_without_a_cost_interval_is_not_called_clear(tmp_path):
    # Cold starts seen only in bursts: the blended cost has no interval.
    recs = []
    for m in (128, 256):
        recs += [inv(m + i, memory=m, duration=10.0, billed=11) for i in range(4)]
        recs += [inv(m + 10, memory=m, scenario="burst", duration=10.0, billed=111, init=100.0, cold=True),
                 inv(m + 11, memory=m, scenario="burst", duration=10.0, billed=11)]
    a = analyze(write(tmp_path, recs, plan=two_config_plan(128, 256)), recommend={"cold_share": 0.1})
    r = a.recommendation
    assert r.config == ConfigPoint(128, 3) and r.indistinguishable_from == ()
    assert not r.confidence.startswith("Clear")
    assert r.confidence.startswith("Interval unknown: the winner's cost interval is unknown (its cold-start cost")


TWO_CORES = {"cpu_mechanism": "cgroup-v2", "host_cores": 2, "warnings": []}


def test_host_limited_burst_samples_are_counted_and_kept_out_of_burst_statistics(tmp_path):
    # 4 x min(1, 1024/1769) = 2.3 vCPUs on 2 cores: limited; 4 x 512/1769 = 1.2: not.
    path = synthetic.write_sweep(tmp_path, memory_mb=(512, 1024), burst=(4, 2), emulator=TWO_CORES, cold=2, warm=5)
    a = analyze(read_results(path))
    small, big = (c.scenarios["burst"] for c in a.configs)
    assert (small.n_ok, small.excluded_host_limited) == (8, 0)
    assert (big.n_ok, big.excluded_host_limited, big.duration_ms) == (0, 8, None)
    warning = next(w for w in a.warnings if w.kind == "host_limited")
    assert warning.config == a.configs[1].config
    assert warning.message == (
        "1024 MB / 10 s / x86_64 burst: 8 samples ran in waves whose vCPU demand (concurrency x 0.58 vCPU per "
        "environment) exceeded this host's 2 cores; the host, not Lambda, shaped their durations, so they are "
        "left out of the burst statistics and the recommendation")
    assert warning.remedy == ("lower [[scenario]] burst concurrency to <= 3 for a local sweep at 1024 MB, "
                              "or sweep with --target aws")
    assert [w.kind for w in a.warnings].count("host_limited") == 1


def test_a_configuration_ranked_on_bursts_it_could_not_measure_is_not_recommended(tmp_path):
    path = synthetic.write_sweep(tmp_path, memory_mb=(512, 1769), burst=(4, 2), emulator=TWO_CORES, cold=0, warm=0)
    a = analyze(read_results(path))
    limited = a.config(ConfigPoint(1769, 10))
    assert limited.latency_scenario == "burst" and not limited.recommendable
    assert limited.not_recommended_reason == "its burst samples were host-limited"
    assert a.recommendation.config == ConfigPoint(512, 10)


def test_the_aws_target_is_never_host_limited(tmp_path):
    path = synthetic.write_sweep(tmp_path, memory_mb=(1769,), burst=(8, 1), target="aws", cold=0, warm=5)
    a = analyze(read_results(path))
    assert a.configs[0].scenarios["burst"].excluded_host_limited == 0
    assert a.configs[0].scenarios["burst"].n_ok == 8
    assert "host_limited" not in [w.kind for w in a.warnings]
