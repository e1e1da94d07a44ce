"""Adaptive vs exhaustive on the local target: does the search find the cheapest size with few invocations?

Two sweeps of scenarios/adaptive.toml's function (the demo's CPU-bound hash, 16 MiB per invocation)
on the local emulator, in one run:
- baseline, "exhaustive": a grid over the same range, every 64 MB from 128 to 3008 MB (46 sizes;
  every MB would be 2,881 sizes x 56 invocations, hours on a 2-core machine; on the local emulator a
  CPU-bound curve moves < 1.5% per 64 MB below one vCPU, less than its noise), with the same
  [[scenario]] entries and strategy;
- adaptive: the scenario as written (search over every MB of 128-3008, budget and tolerance of the file).
Then a confirmation phase, because the grid's "best" is the minimum of 46 noisy estimates (25-30%
noise per sample on a loaded host), so its own cost is biased low (winner's curse) and comparing the
adaptive pick with it is decided by noise: on one fresh emulator the grid's best size and the
adaptive pick are each published as a version (configured once) and warmed, then measured in
alternating blocks (grid, adaptive, grid, adaptive, ...; same payload) until each has `--confirm`
warm samples. A block is back-to-back invocations of one version, its first one discarded: a
sandbox that sat idle for more than one 20 ms CFS period (while the other version ran) starts with
unthrottled quota, so an invocation right after idle runs near one vCPU's speed (measured: 448 MB
bills ~15 ms when alternated one by one, ~37 ms back to back); one-by-one alternation would measure
that burst regime for both sizes, not the back-to-back warm regime the sweeps measured. The ratio of
the mean warm costs (adaptive / grid) comes with the 95% bootstrap interval of
lambdabench.analysis.stats.ratio_interval, which resamples the two samples independently. A third
arm, the grid's best size again as a second version (its own sandbox), is an A/A control: its ratio
to the first should be 1 within its interval, whose width is the resolution of the confirmation.
Blocks rotate (grid, again, adaptive / again, adaptive, grid / ...), so none always follows another.
Figures: the best size and its cost (warm, per million, request fee included) each finds; the old
ratios (the pick's cost by its own samples and by the grid's at the nearest grid size, over the
grid's best); the confirmed ratio and its interval (goal: estimate <= 1.05); invocations each sweep
used (goal: adaptive <= 35% of the grid's, the confirmation counted in neither); wall time.

Run: nice .venv/bin/python bench/adaptive_local_bench.py [--step 64] [--confirm 240] [--repeat 3]
     [--scenario scenarios/adaptive.toml]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lambdabench.analysis.analyze import analyze  # noqa: E402
from lambdabench.analysis.stats import ratio_interval  # noqa: E402
from lambdabench.logs import decode_log_result, parse_report  # noqa: E402
from lambdabench.pricing import invocation_cost  # noqa: E402
from lambdabench.results import read_results  # noqa: E402
from lambdabench.scenario import load_scenario  # noqa: E402
from lambdabench.sweep.clients import call  # noqa: E402
from lambdabench.sweep.local import local_function  # noqa: E402
from lambdabench.sweep.run import SweepOptions, run_sweep  # noqa: E402
from lambdabench.sweep.snapshot import update_configuration  # noqa: E402

# Invocations per version before the confirmation's samples: the first is cold, the second warms the
# handler's own caches; neither is a sample.
CONFIRM_WARMUPS = 2
# Warm samples per block of the confirmation; each block starts with one discarded invocation (see the
# module docstring: the first invocation after idle runs on unthrottled CPU quota).
CONFIRM_BLOCK = 5


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


@dataclasses.dataclass
class Confirmation:
    costs: dict[str, list[float]]  # arm -> warm cost per invocation (USD), in the order taken
    left_out: dict[str, int]  # arm -> invocations not a clean warm sample (cold, error, no REPORT)
    seconds: float


def _publish(clients, name: str, scenario, arm: str, memory_mb: int) -> str:
    """Configure $LATEST at `memory_mb` (the scenario's timeout and storage) and publish it as a version.

    The arm's name goes into an environment variable, so two arms of one size are two versions (and
    two sandboxes): PublishVersion of an unchanged $LATEST would return the same version."""
    spec = scenario.function
    update_configuration(clients, name, memory_mb=memory_mb, timeout_s=scenario.sweep.timeout_s[0],
                         environment={**spec.environment, "BENCH_ARM": arm.replace(" ", "_")},
                         ephemeral_storage_mb=spec.ephemeral_storage_mb, wait_delay_s=0.05)
    version = call(clients.control.publish_version, FunctionName=name, function=name, action="publishing a version")
    return version["Version"]


def _warm_cost(clients, name: str, version: str, body: bytes, scenario, memory_mb: int) -> float | None:
    """One invocation's cost (USD, from its Billed Duration), or None when it was no clean warm sample."""
    response = clients.invoke.invoke(FunctionName=name, Qualifier=version, InvocationType="RequestResponse",
                                     LogType="Tail", Payload=body)
    response["Payload"].read()
    report = parse_report(decode_log_result(response.get("LogResult", "")))
    if (response.get("FunctionError") or report is None or report.cold or report.status != "success"
            or report.billed_duration_ms is None or report.memory_size_mb != memory_mb):
        return None
    return invocation_cost(memory_mb, report.billed_duration_ms, architecture=scenario.function.architecture,
                           region=scenario.target.region or "us-east-1",
                           storage_mb=scenario.function.ephemeral_storage_mb).total_usd


def confirm(scenario, arms: dict[str, int], samples: int) -> Confirmation:
    """Fresh warm samples of each arm (name -> memory size) in alternating blocks on one emulator.

    Each round runs one block per arm; the order of the arms rotates from round to round, so no arm
    always follows the same other one (see the module docstring for the blocks)."""
    body = scenario.sweep.payloads[0].body
    start = time.perf_counter()
    with local_function(scenario) as local:
        clients, name = local.clients, local.function_name
        versions = {arm: _publish(clients, name, scenario, arm, m) for arm, m in arms.items()}
        for arm, version in versions.items():
            for _ in range(CONFIRM_WARMUPS):
                _warm_cost(clients, name, version, body, scenario, arms[arm])
        costs: dict[str, list[float]] = {arm: [] for arm in arms}
        left_out = {arm: 0 for arm in arms}
        order = list(arms)
        for round_ in range(-(-samples // CONFIRM_BLOCK)):
            shift = round_ % len(order)
            for arm in order[shift:] + order[:shift]:
                m, version = arms[arm], versions[arm]
                _warm_cost(clients, name, version, body, scenario, m)  # after idle: not a sample
                for _ in range(CONFIRM_BLOCK):
                    cost = _warm_cost(clients, name, version, body, scenario, m)
                    if cost is None:
                        left_out[arm] += 1
                    else:
                        costs[arm].append(cost)
    return Confirmation(costs=costs, left_out=left_out, seconds=time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "adaptive.toml"))
    parser.add_argument("--step", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=1, help="run the pair this many times (noise on a shared host)")
    # 240: with 60 samples an A/A control's 95% interval is about +-5% here, as wide as the goal's margin.
    parser.add_argument("--confirm", type=int, default=240, help="fresh warm samples per arm in the confirmation")
    args = parser.parse_args()
    ratios = []
    for i in range(args.repeat):
        if args.repeat > 1:
            print(f"--- run {i + 1} of {args.repeat}")
        ratios.append(one_pair(args))
    if args.repeat > 1:
        own, grid_view, share, confirmed, upper = ([r[k] for r in ratios] for k in range(5))
        print(f"=== {args.repeat} runs: confirmed adaptive/grid (fresh samples, rotating blocks) median {median(confirmed):.3f} "
              f"worst {max(confirmed):.3f} (all: {', '.join(f'{r[3]:.3f}' for r in ratios)}), 95% upper bound "
              f"median {median(upper):.3f} worst {max(upper):.3f}   goal <= 1.05")
        print(f"    A/A control (grid's best vs itself): {', '.join(f'{r[5]:.3f}' for r in ratios)}")
        print(f"    old: pick/best (own samples) median {median(own):.3f} worst {max(own):.3f}; "
              f"(grid's samples) median {median(grid_view):.3f} worst {max(grid_view):.3f}; "
              f"invocations median {median(share):.1%} worst {max(share):.1%}")


def one_pair(args) -> tuple[float, float, float, float, float, float]:
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

    grid_mb = g_best.config.memory_mb
    c = confirm(adaptive, {"grid": grid_mb, "grid again": grid_mb, "adaptive": pick}, args.confirm)
    ratio, interval = ratio_interval(c.costs["grid"], c.costs["adaptive"], "mean")
    null, null_interval = ratio_interval(c.costs["grid"], c.costs["grid again"], "mean")
    per_million = {arm: 1e6 * sum(v) / len(v) for arm, v in c.costs.items()}
    left = ", ".join(f"{arm} {n}" for arm, n in c.left_out.items() if n) or "none"
    print(f"confirmation ({c.seconds:.1f} s, fresh emulator, rotating blocks of 1 discarded + {CONFIRM_BLOCK}): "
          f"grid's best {grid_mb} MB ${per_million['grid']:.4f}/1M (n={len(c.costs['grid'])}), adaptive pick "
          f"{pick} MB ${per_million['adaptive']:.4f}/1M (n={len(c.costs['adaptive'])}); left out (cold/error): {left}")
    print(f"  the grid's best re-measured / as the grid measured it: {per_million['grid'] / best:.3f} "
          f"(above 1: the winner's curse); the adaptive pick's: {per_million['adaptive'] / pick_cost_own:.3f}")
    print(f"  A/A control, {grid_mb} MB as a second version / the first: {null:.3f}, 95% CI "
          f"[{null_interval.low:.3f}-{null_interval.high:.3f}] (should hold 1; its width is the resolution)")
    print(f"CONFIRMED cost adaptive / grid: {ratio:.3f}, 95% CI [{interval.low:.3f}-{interval.high:.3f}]   "
          f"goal: estimate <= 1.05 ({'met' if ratio <= 1.05 else 'NOT met'}; upper bound "
          f"{'<=' if interval.high <= 1.05 else '>'} 1.05)")
    return pick_cost_own / best, pick_cost_grid / best, a_n / g_n, ratio, interval.high, null


if __name__ == "__main__":
    main()
