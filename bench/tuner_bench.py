"""Tuner benchmark (issue 13): Power Tuning's procedure vs lambdabench's grid vs the adaptive search.

Curves, 20 seeds each:
- the dsc summary (195 sizes): a two-piece lognormal matching each size's median, p5 and p95;
- each Power Tuning run in unfaasener_powertuning.csv (one execution of Power Tuning over its
  sizes, each an average of 10-20 invocations): a lognormal with 5% CV around each of its averages
  (their spread is not published). This is the issue's "each Power Tuning run" and the goals are
  judged on it, with dsc and the synthetic shapes, in the first section;
- four synthetic shapes: the CFS staircase at a random arrival phase times 3% lognormal noise (a
  memory floor with OOM below it, a flat sleep-bound curve, multi-threaded gains past 1769 MB, a
  short function on the staircase where 1 ms billing matters);
- a second, harder section: all runs of one function merged into one curve. Runs days apart
  disagree by 20-50% at the same size (a bimodal function lands each run in one mode or the other),
  so a merged size measured by several runs is a mixture of modes, and the cheapest size is often
  one run's luck beside sizes other runs measured: a size no method finds without measuring it.

Methods, side by side on the same pools:
- power-tuning: sizes 128,256,512,1024,1536,3008 (each mapped to the nearest size the curve has;
  every size when a curve has no more than six), num=50, mean of the billed durations after
  trimming 20% each end (its discardTopBottom default), cost = ceil(trimmed mean) x memory x rate
  (no request fee), cheapest first with ties to the faster, balanced = w*cost/maxCost +
  (1-w)*duration/maxDuration over its sizes, w=0.5 (its executor.js, utils.js and analyzer.js). A
  failed invocation ends that size (its execution fails; the bench models re-running without it).
- grid: the same sizes and num, mean cost from each sample's billed duration plus the request fee.
- adaptive: lambdabench.tuning.search over every size the curve has, budget 60 (20% of 300).
Regret = true score of the pick / true score of the best size in the data - 1, where true = the
mean over that size's whole pool of samples (cost with request fee; balanced normalised by the
maxima over every size). Replay draws rows from those pools (lambdabench.tuning.replay).

Run: .venv/bin/python bench/tuner_bench.py [--seeds 20] [--curves dsc,pt09r2] [--sections per-run,merged]
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from lambdabench import pricing
from lambdabench.tuning import model as mdl
from lambdabench.tuning.replay import ReplaySource
from lambdabench.tuning.samples import OK, OOM, Sample
from lambdabench.tuning.search import DEFAULT_CONFIDENCE, DEFAULT_TOLERANCE, Objective, SearchConfig, search

CURVES = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "curves"
PT_SIZES = (128, 256, 512, 1024, 1536, 3008)
PT_NUM = 50
BUDGET = 60
POOL = 2000
PRICE = pricing.duration_price_gb_s()
W = 0.5


def _samples(memory_mb: int, durations: np.ndarray, status: str = OK) -> list[Sample]:
    return [Sample(memory_mb, float(d), int(math.ceil(d)), status) for d in durations]


def dsc_curve(rng: np.random.Generator) -> dict[int, list[Sample]]:
    pools = {}
    with open(CURVES / "dsc_cpu_overallocation_aws_summary.csv") as fh:
        for r in csv.DictReader(fh):
            m, med = int(r["memory_mb"]), float(r["median_ms"])
            lo = math.log(med / float(r["p5_ms"])) / 1.645
            hi = math.log(float(r["p95_ms"]) / med) / 1.645
            z = rng.standard_normal(POOL)
            pools[m] = _samples(m, med * np.exp(np.where(z < 0, lo, hi) * z))
    return pools


def run_spread_note(sizes: dict[int, list[float]]) -> str:
    """What a curve gathered from many Power Tuning runs can tell: how much runs at the same size
    disagree, and how far the cheapest size (by the mean of its runs) sits below its neighbours.
    A best size many times the run-to-run spread below its neighbours, from one run, is a size
    no method finds without measuring that very size."""
    mem = np.array(sorted(sizes))
    mean = np.array([np.mean(sizes[m]) for m in mem])
    cvs = [np.std(sizes[m], ddof=1) / np.mean(sizes[m]) for m in mem if len(sizes[m]) > 1]
    b = int(np.argmin(mem * mean))
    near = [j for j in np.argsort(np.abs(np.log(mem / mem[b]))) if j != b][:4]
    return (f"data: runs at the same size differ by {np.median(cvs) * 100:.0f}% (median CV over the "
            f"{len(cvs)} sizes run more than once); cheapest {mem[b]} MB from {len(sizes[mem[b]])} run(s), "
            f"{mean[b] / np.median(mean[near]) * 100 - 100:+.0f}% vs its 4 nearest sizes")


def _powertuning_runs() -> dict[str, dict[str, dict[int, float]]]:
    """{function path: {run: {memory_mb: average duration ms}}} in the file's order."""
    runs: dict[str, dict[str, dict[int, float]]] = defaultdict(lambda: defaultdict(dict))
    with open(CURVES / "unfaasener_powertuning.csv") as fh:
        for r in csv.DictReader(fh):
            runs[r["path"]][r["run"]][int(r["memory_mb"])] = float(r["avg_duration_ms"])
    return runs


def _function_name(i: int, path: str) -> str:
    parts = Path(path).parts
    return (f"pt{i:02d}:{parts[-2].replace('ImageProcessing', 'Img').replace('RegressionTuning', 'Reg')}"
            f"/{parts[-3]}")


def _around(averages: list[float], rng: np.random.Generator) -> np.ndarray:
    """POOL samples, an equal share lognormal with 5% CV around each average."""
    sigma = math.sqrt(math.log(1 + 0.05 ** 2))
    each = POOL // len(averages)
    return np.concatenate([a * np.exp(sigma * rng.standard_normal(each) - sigma ** 2 / 2) for a in averages])


def powertuning_run_curves(data: dict[str, dict[str, dict[int, float]]],
                           rng: np.random.Generator) -> dict[str, dict[int, list[Sample]]]:
    """One curve per Power Tuning run: its sizes, samples around each of its averages."""
    out = {}
    for i, (path, runs) in enumerate(data.items(), start=1):
        fn = _function_name(i, path)
        for run, sizes in runs.items():
            name = fn.replace(":", f"r{run}:", 1)
            out[name] = {m: _samples(m, _around([avg], rng)) for m, avg in sizes.items()}
    return out


def powertuning_merged_curves(data: dict[str, dict[str, dict[int, float]]], rng: np.random.Generator,
                              notes: dict[str, str] | None = None) -> dict[str, dict[int, list[Sample]]]:
    """One curve per function, every run merged: a size several runs measured draws from each
    run's average in equal shares (a mixture of the modes the runs landed in)."""
    out = {}
    for i, (path, runs) in enumerate(data.items(), start=1):
        sizes: dict[int, list[float]] = defaultdict(list)
        for run in runs.values():
            for m, avg in run.items():
                sizes[m].append(avg)
        name = _function_name(i, path)
        if notes is not None:
            notes[name] = run_spread_note(sizes)
        out[name] = {m: _samples(m, _around(avgs, rng)) for m, avgs in sizes.items()}
    return out


def synthetic(rng: np.random.Generator, io_ms: float, cpu_ms: float, parallel: float = 0.0,
              floor_mb: int | None = None, sizes=None) -> dict[int, list[Sample]]:
    sizes = sizes or sorted(set(range(128, 3009, 16)) | set(PT_SIZES))
    pools = {}
    for m in sizes:
        if floor_mb is not None and m < floor_mb:
            pools[m] = [Sample(m, 50.0, 50, OOM)]
            continue
        phase = rng.random(POOL) * 20.0
        if m < 1769:
            cpu = mdl.staircase_ms(np.full(POOL, cpu_ms), m, phase)
        else:
            cpu = np.full(POOL, mdl.CurveParams(0.0, cpu_ms, parallel).duration_ms([m])[0])
        d = (io_ms + cpu) * np.exp(0.03 * rng.standard_normal(POOL))
        pools[m] = _samples(m, d)
    return pools


def truth(pools: dict[int, list[Sample]]):
    mem, cost, dur = [], [], []
    for m in sorted(pools):
        ok = [s for s in pools[m] if s.ok]
        if not ok:
            continue
        mem.append(m)
        cost.append(float(np.mean(mdl.cost_usd(m, np.array([s.billed_duration_ms for s in ok]), PRICE))))
        dur.append(float(np.mean([s.duration_ms for s in ok])))
    mem, cost, dur = np.array(mem), np.array(cost), np.array(dur)
    balanced = W * cost / cost.max() + (1 - W) * dur / dur.max()
    return {"mem": mem, "cost": cost, "balanced": balanced}


def regret(t, strategy: str, pick: int | None) -> float:
    scores = t[strategy]
    if pick is None or pick not in set(t["mem"].tolist()):
        return float("inf")
    return float(scores[list(t["mem"]).index(pick)] / scores.min() - 1)


def pt_sizes(pools) -> list[int]:
    # Each default size maps to the nearest size the curve has that no other default took, so
    # Power Tuning always gets its six sizes and 300 invocations (every size, when there are fewer).
    have = [int(m) for m in sorted(pools)]
    if len(have) <= len(PT_SIZES):
        return have
    taken: list[int] = []
    for s in PT_SIZES:
        free = [m for m in have if m not in taken]
        taken.append(min(free, key=lambda m: (abs(m - s), m)))
    return sorted(taken)


def run_fixed(pools, src: ReplaySource, sizes, strategy: str, flavour: str) -> tuple[int | None, int]:
    rows = []
    used = 0
    for m in sizes:
        got = src.measure(m, PT_NUM)
        failed = [i for i, s in enumerate(got) if not s.ok]
        if failed:
            # Power Tuning's executor stops at the first failed invocation (and its execution
            # fails: a user re-runs without that size, which is what dropping it models); the
            # grid records every invocation and leaves the size out of the pick.
            used += failed[0] + 1 if flavour == "pt" else len(got)
            continue
        used += len(got)
        ok = list(got)
        if flavour == "pt":
            # Power Tuning reads Billed Duration from each invocation's log, takes the mean of
            # the durations left after discarding 20% at each end (discardTopBottom = 0.2;
            # parseInt(n * 0.2) values), and prices ceil(that mean) x memory, no request fee.
            b = np.sort([s.billed_duration_ms for s in ok])
            k = int(len(b) * 0.2)
            mean = float(b[k:len(b) - k].mean())
            cost = math.ceil(mean) * PRICE * (m / 1024) / 1000
        else:
            mean = float(np.mean([s.duration_ms for s in ok]))
            cost = float(np.mean(mdl.cost_usd(m, np.array([s.billed_duration_ms for s in ok]), PRICE)))
        rows.append((m, cost, mean))
    if not rows:
        return None, used
    if strategy == "cost":
        return min(rows, key=lambda r: (r[1], r[2]))[0], used
    mc, md = max(r[1] for r in rows), max(r[2] for r in rows)
    return min(rows, key=lambda r: W * r[1] / mc + (1 - W) * r[2] / md)[0], used


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--curves", default="", help="comma-separated substrings of curve names to keep")
    ap.add_argument("--sections", default="per-run,merged", help="per-run, merged or both")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(20261202)
    curves = {"dsc": dsc_curve(rng)}
    powertuning = _powertuning_runs()
    curves.update(powertuning_run_curves(powertuning, rng))
    curves["syn:memory-floor-512"] = synthetic(rng, 20.0, 400.0, floor_mb=512)
    curves["syn:flat-sleep"] = synthetic(rng, 200.0, 2.0)
    curves["syn:multithread-p0.9"] = synthetic(rng, 10.0, 3000.0, parallel=0.9)
    curves["syn:short-staircase"] = synthetic(rng, 0.3, 3.0, sizes=sorted(set(range(128, 3009, 8)) | set(PT_SIZES)))
    notes: dict[str, str] = {}
    sections = {
        "per-run": ("Per run: dsc, each Power Tuning run, the synthetic shapes (the issue's curves)", curves),
        "merged": ("Merged: every run of one function in one curve (mixtures of modes; harder than the data "
                   "supports)", powertuning_merged_curves(powertuning, rng, notes)),
    }
    started = time.time()
    for key in args.sections.split(","):
        if key not in sections:
            ap.error(f"--sections: unknown section {key!r}; use per-run, merged or both")
        title, chosen = sections[key]
        if args.curves:
            keep = args.curves.split(",")
            chosen = {k: v for k, v in chosen.items() if any(x in k for x in keep)}
        if chosen:
            print(f"\n== {title}\n")
            run_section(chosen, args.seeds, notes)
    print(f"\ndone in {time.time() - started:.0f} s", file=sys.stderr)
    return 0


def run_section(curves: dict[str, dict[int, list[Sample]]], seeds: int, notes: dict[str, str]) -> None:
    results = defaultdict(list)  # (strategy, method) -> [(curve, regret, invocations)]
    adaptive_runs = defaultdict(list)  # strategy -> [(regret, curve, seed, pick, best, invocations, sizes, decided)]
    print(f"{'curve':44s} {'strategy':8s} {'PT med/max':>14s} {'grid med/max':>14s} "
          f"{'adaptive med/max':>17s} {'adapt inv med/max':>17s} {'decided':>7s}")
    for name, pools in curves.items():
        t = truth(pools)
        sizes = pt_sizes(pools)
        for strategy in ("cost", "balanced"):
            per = defaultdict(list)
            decided = 0
            for seed in range(seeds):
                for flavour in ("pt", "grid"):
                    src = ReplaySource(pools, np.random.default_rng([seed, 1]))
                    pick, used = run_fixed(pools, src, sizes, strategy, flavour)
                    per[flavour].append((regret(t, strategy, pick), used))
                src = ReplaySource(pools, np.random.default_rng([seed, 2]))
                res = search(src.measure, SearchConfig(tuple(sorted(pools)), BUDGET, seed=seed),
                             Objective(strategy, W, price_gb_s=PRICE))
                per["adaptive"].append((regret(t, strategy, res.pick_mb), res.invocations))
                decided += res.decided
                adaptive_runs[strategy].append((per["adaptive"][-1][0], name, seed, res.pick_mb,
                                                int(t["mem"][np.argmin(t[strategy])]), res.invocations,
                                                len({st.memory_mb for st in res.steps}), res.decided))
            for method, rows in per.items():
                results[(strategy, method)] += [(name, r, u) for r, u in rows]

            def mm(rows):
                r = np.array([x[0] for x in rows])
                return f"{np.median(r) * 100:5.1f}%/{r.max() * 100:5.1f}%"
            inv = np.array([u for _, u in per["adaptive"]])
            print(f"{name[:44]:44s} {strategy:8s} {mm(per['pt']):>14s} {mm(per['grid']):>14s} "
                  f"{mm(per['adaptive']):>17s} {int(np.median(inv)):>8d}/{inv.max():<8d} {decided:>4d}/{seeds}")
        if name in notes:
            print(f"{'':44s} {notes[name]}")
        if name == "dsc":
            t_pt = min(t["cost"][list(t["mem"]).index(m)] for m in sizes) / t["cost"].min() - 1
            print(f"{'':44s} dsc: best Power Tuning can reach with its sizes {sizes}: "
                  f"+{t_pt * 100:.1f}% cost; best size in the data {int(t['mem'][np.argmin(t['cost'])])} MB")

    print("\nTotals over every curve and seed (regret: median / p90 / worst; invocations median)")
    for strategy in ("cost", "balanced"):
        for method in ("pt", "grid", "adaptive"):
            rows = results[(strategy, method)]
            r = np.array([x[1] for x in rows])
            u = np.array([x[2] for x in rows])
            print(f"  {strategy:8s} {method:9s} regret {np.median(r) * 100:5.2f}% / {np.percentile(r, 90) * 100:5.2f}% / "
                  f"{r.max() * 100:6.2f}%   within 10%: {np.mean(r <= 0.10) * 100:5.1f}% of runs   "
                  f"invocations {int(np.median(u))} (n={len(rows)})")
    tol = DEFAULT_TOLERANCE
    print(f"\nCalibration: a decided search claims its pick within {tol:.0%} of the best at "
          f"{DEFAULT_CONFIDENCE:.0%} confidence")
    for strategy in ("cost", "balanced"):
        dec = np.array([r for r, *_, d in adaptive_runs[strategy] if d])
        share = len(dec) / max(len(adaptive_runs[strategy]), 1)
        held = f"{np.mean(dec <= tol + 1e-12) * 100:5.1f}%" if len(dec) else "  n/a"
        print(f"  {strategy:8s} decided in {share * 100:5.1f}% of runs; of those, within {tol:.0%}: {held}")
    for strategy in ("cost", "balanced"):
        print(f"\nWorst adaptive runs, {strategy}: regret, curve, seed, pick / best size, invocations, sizes measured, decided")
        for r, name, seed, pick, best, used, n_sizes, dec in sorted(adaptive_runs[strategy], reverse=True)[:6]:
            print(f"  {r * 100:6.1f}%  {name:40s} seed {seed:2d}  {pick} / {best} MB  {used:3d} inv  {n_sizes:2d} sizes  "
                  f"{'decided' if dec else 'budget spent'}")
    print(f"\n{len(curves)} curves x {seeds} seeds")


if __name__ == "__main__":
    raise SystemExit(main())
