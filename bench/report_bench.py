"""How long does writing the report take, and where does the time go?

Renders the report (`lambdabench.report.write_report`: 7 PNG charts + index.html) for a realistic
sweep built by tests/report_fixtures.py, and times each chart builder separately.

Baseline measured in the same run: one empty matplotlib figure of the same size saved as PNG at
the same 2x DPI. A chart costing a small multiple of that is spending its time in matplotlib's PNG
encoder, not in our code.

Run: .venv/bin/python bench/report_bench.py [--memories 6] [--timeouts 1] [--repeat 5]
Figures are medians of --repeat runs; the machine's load average is printed because a shared host
inflates them.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from lambdabench.report import charts, write_report
from lambdabench.report.html import render_index

ROOT = Path(__file__).resolve().parent.parent


def load_fixtures():
    spec = importlib.util.spec_from_file_location("report_fixtures", ROOT / "tests" / "report_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["report_fixtures"] = module
    spec.loader.exec_module(module)
    return module


def median_s(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memories", type=int, default=6, help="memory sizes in the sweep (max 8)")
    parser.add_argument("--timeouts", type=int, default=1, help="timeouts in the sweep (max 3)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    fixtures = load_fixtures()
    memories = (128, 256, 512, 1024, 1769, 3008, 5120, 10240)[: args.memories]
    timeouts = (3, 10, 30)[: args.timeouts]
    analysis = fixtures.build_analysis(fixtures.SweepSpec(memories=memories, timeouts=timeouts, warm=20,
                                                          burst_concurrency=10, reserved_concurrency=8))
    print(f"sweep: {len(analysis.configs)} configurations, {len(analysis.invocations)} invocations; "
          f"load average {os.getloadavg()[0]:.2f}; median of {args.repeat}")

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)

        def empty_figure(size=(8.0, 5.0)) -> None:
            fig = Figure(figsize=size, dpi=charts.DPI, layout="constrained")
            FigureCanvasAgg(fig)
            fig.add_subplot()
            fig.savefig(out / "empty.png", dpi=charts.DPI)

        baseline = median_s(empty_figure, args.repeat)
        print(f"baseline: empty 8x5 in figure saved at {charts.DPI} dpi: {baseline * 1000:.0f} ms")

        vary = charts.varying_dimensions(analysis)
        total_charts = 0.0
        for name, (_, build) in charts.BUILDERS.items():
            def one() -> None:
                fig, _ = build(analysis, name, vary)
                fig.savefig(out / name, dpi=charts.DPI)

            try:
                seconds = median_s(one, args.repeat)
            except charts._Skip as skip:
                print(f"  {name:26s} not drawn: {skip}")
                continue
            total_charts += seconds
            print(f"  {name:26s} {seconds * 1000:6.0f} ms  ({seconds / baseline:4.1f}x baseline)")
        drawn = charts.draw_charts(analysis, out)
        html_s = median_s(lambda: render_index(analysis, drawn), args.repeat)
        print(f"  {'index.html (render+embed)':26s} {html_s * 1000:6.0f} ms")
        full = median_s(lambda: write_report(analysis, out), args.repeat)
        print(f"write_report total: {full * 1000:.0f} ms ({full / baseline:.1f}x baseline; "
              f"sum of charts {total_charts * 1000:.0f} ms)")
        print(f"index.html size: {(out / 'index.html').stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
