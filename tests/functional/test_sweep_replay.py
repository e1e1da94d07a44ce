"""The replay target and adaptive sweeps, end to end through run_sweep, the results file and the analysis.

Replay draws recorded rows, so no real time passes: a 10,000-invocation sweep, an adaptive search with
an interruption and a resume, and a replay of a finished sweep's own samples all run in seconds.
"""

from __future__ import annotations

import csv
import json
import shutil
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from lambdabench.analysis.analyze import analyze
from lambdabench.analysis.export import report_document
from lambdabench.errors import UsageError
from lambdabench.results import read_results
from lambdabench.scenario import ScenarioError, load_scenario
from lambdabench import scenario_flags
from lambdabench.report.outputs import write_outputs
from lambdabench.sweep.run import SweepOptions, run_sweep

INPUTS = Path(__file__).resolve().parents[1] / "golden" / "inputs"


def write(tmp_path: Path, body: str, name: str = "replay") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(f'name = "{name}"\n' + textwrap.dedent(body), encoding="utf-8")
    return path


def staircase_csv(path: Path, *, sizes=range(128, 3009, 64), cpu_ms=200.0, io_ms=5.0, cv=0.03, n=40,
                  oom_below: int | None = None, seed: int = 1) -> Path:
    """A CPU-bound curve (cpu_ms at one vCPU, share memory/1769 below it) with lognormal noise."""
    rng = np.random.default_rng(seed)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["memory_mb", "duration_ms", "status", "cold", "init_duration_ms"])
        for m in sizes:
            base = io_ms + cpu_ms * 1769 / min(m, 1769)
            for i in range(n):
                status = "oom" if oom_below is not None and m < oom_below else "ok"
                w.writerow([m, round(base * rng.lognormal(0, cv), 3), status, "false", ""])
            for i in range(4):
                w.writerow([m, round(base * rng.lognormal(0, cv), 3), "ok", "true", 150])
    return path


def sweep(path: Path, out: Path, **kw) -> None:
    run_sweep(load_scenario(path), SweepOptions(out_dir=out, **kw), confirm=lambda lines: None)


ADAPTIVE = """
    [target]
    kind = "replay"
    samples = "curve.csv"
    [sweep]
    search = "adaptive"
    memory_mb = { min = 128, max = 3008 }
    timeout_s = [10]
    budget_invocations = 120
    seed = 3
    [recommend]
    strategy = "cost"
    [[scenario]]
    kind = "cold"
    invocations = 2
    [[scenario]]
    kind = "warm"
    invocations = 10
    [[scenario]]
    kind = "burst"
    concurrency = 2
    waves = 2
    """


def test_a_replay_of_a_finished_sweeps_own_samples_recommends_what_that_sweep_recommended(tmp_path):
    recorded = shutil.copyfile(INPUTS / "demo.results.jsonl", tmp_path / "demo.results.jsonl")
    original = read_results(recorded)
    path = write(tmp_path, """
        [target]
        kind = "replay"
        samples = "demo.results.jsonl"
        [sweep]
        memory_mb = [128, 256, 512, 1024, 1769]
        timeout_s = [10]
        [recommend]
        strategy = "balanced"
        [[scenario]]
        kind = "cold"
        invocations = 3
        [[scenario]]
        kind = "warm"
        invocations = 30
        [[scenario]]
        kind = "burst"
        concurrency = 4
        waves = 1
        """)
    sweep(path, tmp_path / "out")
    replayed = read_results(tmp_path / "out")
    assert replayed.header["target"] == "replay"
    assert {r.report_source for r in replayed.records} == {"replay"}
    assert analyze(replayed).recommendation.config == analyze(original).recommendation.config
    # Cost from billed duration (the file's): every replayed record is priced.
    assert all(r.cost_usd and r.cost_usd > 0 for r in replayed.records)


def test_a_replay_sweep_is_seeded_by_the_sweep_seed(tmp_path):
    staircase_csv(tmp_path / "curve.csv", sizes=(128, 512))
    body = """
        [target]
        kind = "replay"
        samples = "curve.csv"
        [sweep]
        memory_mb = [128, 512]
        timeout_s = [10]
        seed = {seed}
        [[scenario]]
        kind = "warm"
        invocations = 5
        """
    durations = []
    for i, seed in enumerate((1, 1, 2)):
        sweep(write(tmp_path, body.format(seed=seed), name=f"s{i}"), tmp_path / f"o{i}")
        durations.append([r.duration_ms for r in read_results(tmp_path / f"o{i}").records])
    assert durations[0] == durations[1] != durations[2]


def test_a_ten_thousand_invocation_replay_sweep_takes_seconds(tmp_path):
    staircase_csv(tmp_path / "curve.csv", sizes=(128, 256, 512, 1024), n=50)
    path = write(tmp_path, """
        [target]
        kind = "replay"
        samples = "curve.csv"
        [sweep]
        memory_mb = [128, 256, 512, 1024]
        timeout_s = [10]
        [[scenario]]
        kind = "warm"
        invocations = 2498
        warmup = 2
        """)
    start = time.perf_counter()
    sweep(path, tmp_path / "out")
    elapsed = time.perf_counter() - start
    records = read_results(tmp_path / "out").records
    assert len(records) == 10_000
    print(f"10,000-invocation replay sweep: {elapsed:.2f} s")  # the figure; never a pass/fail on time


def test_a_grid_size_missing_from_the_samples_file_is_a_scenario_error_naming_the_sizes(tmp_path):
    staircase_csv(tmp_path / "curve.csv", sizes=(128, 512))
    path = write(tmp_path, """
        [target]
        kind = "replay"
        samples = "curve.csv"
        [sweep]
        memory_mb = [128, 1024]
        timeout_s = [10]
        [[scenario]]
        kind = "warm"
        invocations = 5
        """)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert err.value.key == "sweep.memory_mb[1]"
    assert err.value.problem == f"1024 MB is not in the samples file {tmp_path / 'curve.csv'}"
    assert err.value.fix == "use sizes the file has: 128, 512 MB"


def test_an_adaptive_replay_sweep_records_its_search_and_runs_every_scenario_at_the_finalists(tmp_path):
    staircase_csv(tmp_path / "curve.csv")
    path = write(tmp_path, ADAPTIVE)
    sweep(path, tmp_path / "out")
    results = read_results(tmp_path / "out")
    steps = [e for e in results.events if e["event"] == "search_step"]
    done = [e for e in results.events if e["event"] == "search_finished"]
    assert len(done) == 1 and steps
    finished = done[0]
    search = [r for r in results.records if r.search_phase == "search"]
    finals = [r for r in results.records if r.search_phase == "finalist"]
    # Every search sample names its step, and the step events add up to the search's measured samples.
    assert {r.search_step for r in search if not r.warmup} == {s["index"] for s in steps}
    assert sum(s["invocations"] for s in steps) == sum(1 for r in search if not r.warmup)
    # The budget pays for the warm-ups after each change of size too: the search counts every record.
    assert finished["invocations"] == len(search) <= 120
    # Cold and burst ran at the finalists only, and the pick is one of them.
    assert {r.memory_mb for r in results.records if r.scenario in ("cold", "burst")} == set(finished["finalists"])
    assert finished["pick_mb"] in finished["finalists"]
    assert all(r.search_phase for r in results.records)
    # On a curve where cost is flat below one vCPU and rises above it, the pick's true cost is within
    # the tolerance of the cheapest size in the data.
    analysis = analyze(results)
    assert analysis.recommendation.config.memory_mb in finished["finalists"]
    assert analysis.search.finished and analysis.search.curve is not None
    doc = report_document(analysis)
    assert doc["search"]["pick_mb"] == finished["pick_mb"]
    assert doc["search"]["grid"]["sizes"] == len(range(128, 3009, 64))
    assert analysis.search.total_invocations < doc["search"]["grid"]["total"]
    written = write_outputs(tmp_path / "out")
    assert "Adaptive search" in written.summary
    assert any(p.name == "index.html" for p in written.paths)


def test_an_interrupted_adaptive_sweep_resumes_to_the_same_search(tmp_path):
    staircase_csv(tmp_path / "curve.csv")
    path = write(tmp_path, ADAPTIVE)
    sweep(path, tmp_path / "whole")
    whole = read_results(tmp_path / "whole")

    calls = {"n": 0}

    def stop_after_some(done: int, total: int, label: str) -> None:
        calls["n"] += 1
        if calls["n"] == 25:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(load_scenario(path), SweepOptions(out_dir=tmp_path / "cut"), confirm=lambda lines: None,
                  progress=stop_after_some)
    partial = read_results(tmp_path / "cut")
    assert not any(e["event"] == "search_finished" for e in partial.events)
    assert analyze(partial).search is not None and not analyze(partial).search.finished
    sweep(path, tmp_path / "cut", resume_dir=tmp_path / "cut")
    resumed = read_results(tmp_path / "cut")

    def steps_of(results):
        return [(e["memory_mb"], e["invocations"], e["reason"]) for e in results.events if e["event"] == "search_step"]

    # The search re-ran from the recorded samples: the steps before the interruption are the same ones
    # (recorded once), and the uninterrupted run took them too (same seed, same draws up to there).
    before = steps_of(partial)
    assert before and steps_of(resumed)[:len(before)] == before == steps_of(whole)[:len(before)]
    assert sum(1 for e in resumed.events if e["event"] == "search_finished") == 1
    ids = [r.invocation_id for r in resumed.records if not r.warmup]
    assert len(ids) == len(set(ids))  # nothing measured twice
    # Every search sample recorded before the interruption is still the one the search used.
    done = next(e for e in resumed.events if e["event"] == "search_finished")
    # Warm-ups included; the resumed run warms the size it resumes at once more, which the search
    # (served what it had measured) does not count again.
    search = [r for r in resumed.records if r.search_phase == "search"]
    assert sum(1 for r in search if not r.warmup) < done["invocations"] <= len(search)


def test_an_oom_region_is_infeasible_and_never_picked(tmp_path):
    staircase_csv(tmp_path / "curve.csv", oom_below=640)
    sweep(write(tmp_path, ADAPTIVE), tmp_path / "out")
    results = read_results(tmp_path / "out")
    done = next(e for e in results.events if e["event"] == "search_finished")
    assert done["pick_mb"] >= 640 and done["infeasible_at_or_below_mb"] < 640
    assert analyze(results).recommendation.config.memory_mb >= 640


def test_search_options_are_checked_with_file_key_and_fix(tmp_path):
    staircase_csv(tmp_path / "curve.csv")
    cases = {
        "memory_mb = { min = 128, max = 3008 }\ntimeout_s = [10]":
            ("sweep.memory_mb", 'a range { min, max } needs search = "adaptive"'),
        'search = "adaptive"\nmemory_mb = { min = 512, max = 256 }\ntimeout_s = [10]':
            ("sweep.memory_mb.min", "min 512 MB is not below max 256 MB"),
        'search = "adaptive"\nmemory_mb = { min = 128, top = 256 }\ntimeout_s = [10]':
            ("sweep.memory_mb.top", "unknown key in the memory range"),
        "memory_mb = [128]\ntimeout_s = [10]\nbudget_invocations = 50":
            ("sweep.budget_invocations", 'applies to search = "adaptive" only'),
        'search = "adaptive"\nmemory_mb = [128, 256]\ntimeout_s = [10, 20]':
            ("sweep.timeout_s", "an adaptive search runs at one timeout"),
        'search = "adaptive"\nmemory_mb = [128, 256]\ntimeout_s = [10]\ntolerance = 0.9':
            ("sweep.tolerance", "0.9 is out of range"),
        'search = "fancy"\nmemory_mb = [128, 256]\ntimeout_s = [10]':
            ("sweep.search", '"fancy" is not one of grid, adaptive'),
    }
    for i, (sweep_body, (key, problem)) in enumerate(cases.items()):
        path = tmp_path / f"bad{i}.toml"
        path.write_text(f'[target]\nkind = "replay"\nsamples = "curve.csv"\n[sweep]\n{sweep_body}\n'
                        '[[scenario]]\nkind = "warm"\ninvocations = 3\n', encoding="utf-8")
        with pytest.raises(ScenarioError) as err:
            load_scenario(path)
        assert (err.value.key, err.value.problem) == (key, problem), path.read_text()
        assert err.value.fix
    no_warm = tmp_path / "nowarm.toml"
    no_warm.write_text('[target]\nkind = "replay"\nsamples = "curve.csv"\n[sweep]\nsearch = "adaptive"\n'
                       'memory_mb = [128, 256]\ntimeout_s = [10]\n[[scenario]]\nkind = "cold"\ninvocations = 3\n')
    with pytest.raises(ScenarioError) as err:
        load_scenario(no_warm)
    assert err.value.key == "[[scenario]]"
    # --search adaptive on a grid file is checked like the file saying it
    grid = tmp_path / "grid.toml"
    grid.write_text('[target]\nkind = "replay"\nsamples = "curve.csv"\n[sweep]\nmemory_mb = [128, 256]\n'
                    'timeout_s = [10]\n[[scenario]]\nkind = "warm"\ninvocations = 3\n')
    assert scenario_flags.load(grid, scenario_flags.ScenarioFlags(search="adaptive")).sweep.adaptive
    assert not load_scenario(grid).sweep.adaptive
    with pytest.raises(ScenarioError) as err:
        scenario_flags.load(grid, scenario_flags.ScenarioFlags(search="smart"))
    assert err.value.message.startswith("--search:"), err.value.message


def test_a_grid_scenarios_header_has_no_search_keys(tmp_path):
    staircase_csv(tmp_path / "curve.csv", sizes=(128, 256))
    path = write(tmp_path, """
        [target]
        kind = "replay"
        samples = "curve.csv"
        [sweep]
        memory_mb = [128, 256]
        timeout_s = [10]
        [[scenario]]
        kind = "warm"
        invocations = 3
        """)
    d = load_scenario(path).to_dict()
    assert set(d["sweep"]) == {"memory_mb", "timeout_s", "architectures", "payloads", "seed", "order"}
    assert d["target"]["samples"] == str(tmp_path / "curve.csv")
    assert json.dumps(d)
