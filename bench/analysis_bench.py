"""How long does analysing a sweep take, and what do the confidence intervals cost?

Writes a synthetic sweep (10 memory sizes x 10 cold + 200 warm + 4 x 50 burst = 4,120
invocations) to a temporary folder, then times, median of 5 runs each:
  baseline  read_results + a pandas groupby of p50/p95/mean per configuration x scenario
            (what a tool without intervals does)
  analyze   read_results + lambdabench.analysis.analyze (every Distribution with bootstrap
            intervals, costs, strategies, warnings)
and prints both medians and their ratio. Never part of the test run's pass/fail.

    .venv/bin/python bench/analysis_bench.py
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lambdabench.analysis import analyze  # noqa: E402
from lambdabench.results import read_results  # noqa: E402

_spec = importlib.util.spec_from_file_location("synthetic_results", ROOT / "tests" / "synthetic_results.py")
synthetic = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(synthetic)

MEMORY_MB = (128, 256, 512, 768, 1024, 1536, 1769, 2048, 3008, 4096)
RUNS = 5


def baseline(folder: Path) -> None:
    frame = read_results(folder).invocations
    ok = frame[(frame["status"] == "ok") & (~frame["warmup"].astype(bool))]
    ok.groupby(["memory_mb", "scenario"])["duration_ms"].agg(
        p50=lambda s: s.quantile(0.5), p95=lambda s: s.quantile(0.95), mean="mean"
    )


def full(folder: Path) -> None:
    analyze(read_results(folder))


def median_s(fn, folder: Path) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn(folder)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        synthetic.write_sweep(folder, memory_mb=MEMORY_MB, cold=10, warm=200, burst=(50, 4))
        n = len(read_results(folder).invocations)
        base = median_s(baseline, folder)
        ours = median_s(full, folder)
    print(f"sweep: {len(MEMORY_MB)} configurations, {n} invocation records; median of {RUNS} runs")
    print(f"baseline (pandas p50/p95/mean, no intervals): {base * 1000:8.1f} ms")
    print(f"analyze  (intervals, costs, strategies):      {ours * 1000:8.1f} ms")
    print(f"ratio analyze / baseline: {ours / base:.1f}x  ({ours / n * 1e6:.0f} us per invocation record)")


if __name__ == "__main__":
    main()
