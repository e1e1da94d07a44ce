"""Adaptive vs exhaustive on the local target: does the search find the cheapest size with few invocations?

Two sweeps of scenarios/adaptive.toml's function (the demo's CPU-bound hash, 16 MiB per invocation)
on the local emulator, in one run:
- baseline, "exhaustive": a grid over the same range, every 64 MB from 128 to 3008 MB (46 sizes;
  every MB would be 2,881 sizes x 56 invocations, hours on a 2-core machine; on the local emulator a
  CPU-bound curve moves < 1.5% per 64 MB below one vCPU, less than its noise), with the same
  [[scenario]] entries and strategy;
- adaptive: the scenario as written (search over every MB of 128-3008, budget and tolerance of the file).
Figures: the best size and its cost (warm, per million, request fee included) each finds, the
adaptive pick's cost as the exhaustive grid measured it at the nearest grid size, the ratio to the
grid's best (goal <= 1.05), invocations each used (goal: adaptive <= 35% of the grid's), wall time.

Run: .venv/bin/python bench/adaptive_local_bench.py [--step 64] [--scenario scenarios/adaptive.toml]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lambdabench.analysis.analyze import analyze  # noqa: E402
from lambdabench.results import read_results  # noqa: E402
from lambdabench.scenario import load_scenario  # noqa: E402
from lambdabench.sweep.run import SweepOptions, run_sweep  # noqa: E402


def warm_cost(analysis, memory_mb: int):
    """(cost per million, its 95% interval) of a measured size."""
    for c in analysis.configs:
        if c.config.memory_mb == memory_mb:
            return c.cost_per_million_usd, c.cost_per_million_ci
    return None, None


def ci(interval) -> str:
    return f"[{interval.low:.4f}-{interval.high:.4f}]" if interval is not None else "[no interval]"


def run(scenario, out: Path) -> tuple[float, object, int]:
    start = time.perf_counter()
    run_sweep(scenario, SweepOptions(out_dir=out), confirm=lambda lines: None)
    elapsed = time.perf_counter() - start
    results = read_results(out)
    return elapsed, analyze(results), len(results.records)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "adaptive.toml"))
    parser.add_argument("--step", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=1, help="run the pair this many times (noise on a shared host)")
    args = parser.parse_args()
    ratios = []
    for i in range(args.repeat):
        if args.repeat > 1:
            print(f"--- run {i + 1} of {args.repeat}")
        ratios.append(one_pair(args))
    if args.repeat > 1:
        own = sorted(r[0] for r in ratios)
        grid_view = sorted(r[1] for r in ratios)
        share = sorted(r[2] for r in ratios)
        print(f"=== {args.repeat} runs: pick/best (own samples) median {own[len(own) // 2]:.3f} worst {own[-1]:.3f}; "
              f"(grid's samples) median {grid_view[len(grid_view) // 2]:.3f} worst {grid_view[-1]:.3f}; "
              f"invocations median {share[len(share) // 2]:.1%} worst {share[-1]:.1%}")


def one_pair(args) -> tuple[float, float, float]:
    adaptive = load_scenario(args.scenario)
    lo, hi = adaptive.sweep.memory_mb[0], adaptive.sweep.memory_mb[-1]
    sizes = tuple(range(lo, hi + 1, args.step))
    if sizes[-1] != hi:
        sizes += (hi,)
    grid = dataclasses.replace(adaptive, sweep=dataclasses.replace(
        adaptive.sweep, search="grid", memory_mb=sizes, memory_range=None, budget_invocations=None))
    with tempfile.TemporaryDirectory() as tmp:
        g_time, g, g_n = run(grid, Path(tmp) / "grid")
        a_time, a, a_n = run(adaptive, Path(tmp) / "adaptive")
    g_best = min((c for c in g.configs if c.cost_per_million_usd is not None), key=lambda c: c.cost_per_million_usd)
    pick = a.recommendation.config.memory_mb
    pick_cost_own = a.recommendation.cost_per_million_usd
    nearest = min(sizes, key=lambda m: abs(m - pick))
    pick_cost_grid, pick_ci_grid = warm_cost(g, nearest)
    s = a.search
    print(f"function: {adaptive.function.code} payload {adaptive.sweep.payloads[0].body.decode()}, "
          f"strategy {adaptive.recommend.strategy}, range {lo}-{hi} MB")
    print(f"exhaustive grid (baseline): {len(sizes)} sizes every {args.step} MB, {g_n} invocations, {g_time:.1f} s; "
          f"best {g_best.config.memory_mb} MB at ${g_best.cost_per_million_usd:.4f}/1M")
    print(f"adaptive: {s.candidates} candidate sizes, {a_n} invocations ({s.search_invocations} search incl. "
          f"warm-ups, {s.finalist_invocations} at finalists {', '.join(map(str, s.finalists))} MB), {a_time:.1f} s; "
          f"{'decided' if s.decided else 'budget spent, undecided'} (confidence {s.confidence:.0%}); "
          f"pick {pick} MB at ${pick_cost_own:.4f}/1M (its own samples)")
    print(f"  sizes in the order measured: {', '.join(str(st.memory_mb) for st in s.steps)}")
    print(f"  model: {'does NOT fit' if s.poor_fit else 'fits'} ({s.fit})")
    best = g_best.cost_per_million_usd
    print(f"cost of the adaptive pick / grid best: {pick_cost_own / best:.3f} (own samples), "
          f"{pick_cost_grid / best:.3f} (grid's samples at {nearest} MB)   goal <= 1.05")
    print(f"  grid's 95% intervals: best {g_best.config.memory_mb} MB {ci(g_best.cost_per_million_ci)}, "
          f"{nearest} MB {ci(pick_ci_grid)} (the grid's best is the minimum of {len(sizes)} noisy estimates)")
    print(f"invocations adaptive / grid: {a_n}/{g_n} = {a_n / g_n:.1%}   goal <= 35%")
    print(f"wall time adaptive / grid: {a_time:.1f}/{g_time:.1f} s = {a_time / g_time:.1%}")
    return pick_cost_own / best, pick_cost_grid / best, a_n / g_n


if __name__ == "__main__":
    main()
