"""Replay: parsing sample files (CSV and results.jsonl), seeded draws, clear errors on bad input."""

import json

import pytest

from lambdabench.errors import UsageError
from lambdabench.tuning.replay import ReplaySource, load_samples
from lambdabench.tuning.samples import Sample
from lambdabench.tuning.search import SearchConfig, search


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_csv_with_only_required_columns_bills_the_ceiling_of_duration(tmp_path):
    p = _write(tmp_path, "s.csv", "memory_mb,duration_ms\n128,10.2\n256,5.0\n")
    assert load_samples(p) == [Sample(128, 10.2, 11), Sample(256, 5.0, 5)]


def test_csv_optional_columns_are_read(tmp_path):
    p = _write(tmp_path, "s.csv", "memory_mb,duration_ms,billed_duration_ms,init_duration_ms,max_memory_used_mb,status,cold\n"
                                  "512,10.2,12,150.5,70,ok,true\n512,,3000,,,timeout,0\n")
    assert load_samples(p) == [Sample(512, 10.2, 12, "ok", 150.5, 70, True),
                               Sample(512, 3000.0, 3000, "timeout", None, None, False)]


def test_results_jsonl_skips_header_events_and_samples_the_analysis_never_counts(tmp_path):
    lines = [
        {"type": "header", "format_version": 1},
        {"type": "event", "event": "configured"},
        {"type": "invocation", "memory_mb": 128, "timeout_s": 10, "duration_ms": 20.5, "billed_duration_ms": 21, "status": "ok",
         "cold": False, "warmup": False, "init_duration_ms": None, "max_memory_used_mb": 60},
        {"type": "invocation", "memory_mb": 128, "timeout_s": 10, "duration_ms": 99.0, "billed_duration_ms": 99, "status": "ok",
         "cold": False, "warmup": True},
        {"type": "invocation", "memory_mb": 128, "timeout_s": 10, "duration_ms": None, "billed_duration_ms": None,
         "status": "throttled", "cold": None},
        {"type": "invocation", "memory_mb": 128, "timeout_s": 10, "duration_ms": 300.0, "billed_duration_ms": 451.0, "status": "ok",
         "cold": True, "warmup": False, "state_mismatch": True},
        {"type": "invocation", "memory_mb": 128, "timeout_s": 10, "duration_ms": 9.0, "billed_duration_ms": 9.0, "status": "ok",
         "cold": False, "warmup": False, "host_limited": True},
    ]
    p = _write(tmp_path, "results.jsonl", "\n".join(json.dumps(x) for x in lines) + '\n{"type": "invo')
    assert load_samples(p) == [Sample(128, 20.5, 21, "ok", None, 60, False)]


@pytest.mark.parametrize("text, fragment", [
    ("memory,duration_ms\n128,1\n", "line 1: header lacks memory_mb"),
    ("memory_mb,duration_ms\n128,fast\n", "line 2: duration_ms 'fast' is not a number"),
    ("memory_mb,duration_ms\n128,1\n64,1\n", "line 3: memory_mb 64 is outside Lambda's range"),
    ("memory_mb,duration_ms\n128.5,1\n", "line 2: memory_mb '128.5' is not a whole number"),
    ("memory_mb,duration_ms,status\n128,1,crashed\n", "line 2: status 'crashed' is not one of"),
    ("memory_mb,duration_ms,cold\n128,1,maybe\n", "line 2: cold 'maybe' is not true or false"),
    ("memory_mb,duration_ms\n128,-4\n", "line 2: duration_ms '-4' is not a finite number >= 0"),
    ("memory_mb,duration_ms\n", "no rows after the header"),
])
def test_bad_csv_names_file_line_and_fix(tmp_path, text, fragment):
    p = _write(tmp_path, "bad.csv", text)
    with pytest.raises(UsageError) as err:
        load_samples(p)
    assert str(p) in err.value.message
    assert fragment in err.value.message
    assert err.value.hint


def test_bad_jsonl_line_is_named(tmp_path):
    p = _write(tmp_path, "results.jsonl", '{"type": "header"}\nnot json\n{"type": "invocation"}\n')
    with pytest.raises(UsageError, match=r"results.jsonl, line 2: not JSON"):
        load_samples(p)


def test_missing_file_says_so(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        load_samples(tmp_path / "nope.csv")


def test_draws_are_seeded_and_only_from_that_size():
    samples = [Sample(128, float(i), i) for i in range(1, 50)] + [Sample(256, 500.0, 500)]
    a = ReplaySource.from_samples(samples, seed=3).measure(128, 10)
    b = ReplaySource.from_samples(samples, seed=3).measure(128, 10)
    assert a == b
    assert all(s.memory_mb == 128 for s in a)
    assert len(set(a)) > 1


def test_a_size_not_in_the_file_is_an_error_naming_the_sizes_available():
    src = ReplaySource.from_samples([Sample(128, 1.0, 1), Sample(512, 1.0, 1)])
    with pytest.raises(UsageError) as err:
        src.measure(256, 1)
    assert err.value.hint == "sizes available: 128, 512"


def test_replaying_a_sweep_recommends_the_cheapest_size_it_measured(tmp_path):
    rows = ["memory_mb,duration_ms"]
    # sleep-bound: every size takes ~100 ms, so the smallest is cheapest
    for m in (128, 256, 512, 1024):
        rows += [f"{m},{100 + i % 3}" for i in range(20)]
    src = ReplaySource.from_file(_write(tmp_path, "s.csv", "\n".join(rows) + "\n"), seed=1)
    res = search(src.measure, SearchConfig(src.sizes_mb, 40, seed=1))
    assert res.pick_mb == 128
    assert res.decided


def _synthetic():
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parent.parent / "synthetic_results.py"
    spec = importlib.util.spec_from_file_location("synthetic_results_tuning", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cold_samples_are_left_out_of_a_warm_replay():
    src = ReplaySource.from_samples([Sample(128, 900.0, 900, cold=True), Sample(128, 10.0, 10, cold=False)], seed=0)
    assert src.measure(128, 5) == [Sample(128, 10.0, 10, cold=False)] * 5


@pytest.mark.parametrize("strategy", ["cost", "speed"])
def test_replay_of_a_finished_sweep_recommends_what_that_sweep_recommended(tmp_path, strategy):
    from lambdabench.analysis.analyze import analyze
    from lambdabench.results import read_results
    from lambdabench.tuning.search import Objective

    path = _synthetic().write_sweep(tmp_path, memory_mb=(128, 256, 512, 1024, 2048), warm=30, seed=4)
    rec = analyze(read_results(path), recommend={"strategy": strategy}).recommendation
    allowed = {rec.config.memory_mb} | {k.memory_mb for k in rec.indistinguishable_from}
    src = ReplaySource.from_file(path, seed=4)
    res = search(src.measure, SearchConfig(src.sizes_mb, 100, seed=4), Objective(strategy))
    # The sweep's pick, or one the sweep itself cannot tell from it, and within the tolerance of it
    # on the sweep's own warm samples.
    assert res.pick_mb in allowed
    warm = [x for x in load_samples(path) if x.cold is False]

    def mean_score(m):
        rows = [x for x in warm if x.memory_mb == m]
        key = (lambda x: m * x.billed_duration_ms) if strategy == "cost" else (lambda x: x.duration_ms)
        return sum(map(key, rows)) / len(rows)
    assert mean_score(res.pick_mb) <= mean_score(rec.config.memory_mb) * 1.02
