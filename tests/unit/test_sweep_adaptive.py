"""The adaptive sweep's pure parts: finalists, what a grid would spend, records as samples."""

from __future__ import annotations

from pathlib import Path

from lambdabench.records import InvocationRecord
from lambdabench.scenario import load_scenario
from lambdabench.sweep.adaptive import MAX_FINALISTS, describe, finalists, grid_invocations, most_invocations, sample_of
from lambdabench.tuning.samples import Sample
from lambdabench.tuning.search import SearchResult

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def result(pick, sizes, *, floor=None, bad=()):
    samples = tuple(Sample(m, 10.0, 10, "ok") for m in sizes)
    return SearchResult(pick, True, 0.97, len(samples), (), None, floor, tuple(bad), samples)


def test_finalists_are_the_pick_and_its_neighbours_at_least_five_percent_away():
    assert finalists(result(621, [128, 282, 600, 620, 621, 622, 640, 700, 3008])) == (282, 621, 700)
    assert finalists(result(128, [128, 130, 256])) == (128, 256)
    assert finalists(result(3008, [128, 3000, 3008])) == (128, 3008)


def test_finalists_skip_infeasible_sizes_and_none_without_a_pick():
    assert finalists(result(1024, [256, 512, 1024, 2048], floor=256, bad=(2048,))) == (512, 1024)
    assert finalists(result(None, [128])) == ()


def test_grid_invocations_count_every_scenario_of_the_file_at_every_size():
    s = load_scenario(SCENARIOS / "adaptive.toml")
    # 5 cold + (30 warm + 1 warm-up) + 2 x 10 burst = 56 per size
    assert grid_invocations(s, 46) == {"sizes": 46, "warm": 46 * 31, "total": 46 * 56}


def test_the_most_an_adaptive_sweep_invokes_is_its_budget_and_every_scenario_at_three_finalists():
    s = load_scenario(SCENARIOS / "adaptive.toml")
    assert most_invocations(s) == s.sweep.budget_invocations + MAX_FINALISTS * 56 == 160 + 168
    assert "at most 160 invocations (the warm-ups after each change of size included)" in describe(s)
    assert describe(s).endswith("328 invocations at most in all")


def test_a_record_becomes_the_sample_the_search_reads():
    r = InvocationRecord.from_json({
        "invocation_id": "m512-t10-x86_64/search/0", "memory_mb": 512, "timeout_s": 10, "scenario": "warm",
        "status": "ok", "cold": False, "duration_ms": 12.4, "billed_duration_ms": 13, "max_memory_used_mb": 40})
    assert sample_of(r) == Sample(512, 12.4, 13, "ok", None, 40, False)
    oom = InvocationRecord.from_json({"invocation_id": "x", "memory_mb": 128, "timeout_s": 10, "scenario": "warm",
                                      "status": "oom", "duration_ms": 3.2})
    assert sample_of(oom) == Sample(128, 3.2, 4, "oom", None, None, None)


def test_the_aws_confirmation_of_an_adaptive_sweep_states_what_the_search_may_spend():
    from lambdabench.sweep.clients import TargetInfo
    from lambdabench.sweep.driver import Prepared, changes_summary
    from lambdabench.sweep.run import sweep_plan
    from lambdabench.sweep.snapshot import FunctionConfig, Snapshot

    s = load_scenario(SCENARIOS / "adaptive.toml")
    snapshot = Snapshot(target=TargetInfo(kind="aws", region="us-east-1", profile=None, endpoint_url=None),
                        function_name="f", function_arn="arn:aws:lambda:us-east-1:123456789012:function:f",
                        config=FunctionConfig(128, 3, "x86_64", (), 512))
    prepared = Prepared(snapshot=snapshot, function_name="f", log_format="Text", code_zip=None)
    lines = changes_summary(prepared, sweep_plan(s, "x86_64"), describe(s))
    assert lines[0] == ("lambdabench will run an adaptive search on function "
                        "arn:aws:lambda:us-east-1:123456789012:function:f in place (put back afterwards):")
    assert lines[1].startswith(f"  {describe(s)}; ") and "328 invocations at most in all" in lines[1]
