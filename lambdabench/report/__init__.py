"""Reports of a sweep: PNG charts and one self-contained `index.html` (console tables: `console`).

`write_report(analysis, out_dir)` is the one entry point the sweep and `lambdabench report` call.
It draws every chart the data allows into `out_dir` (stable file names, see `charts.CHART_FILES`),
renders `index.html` beside them with each PNG embedded as a data: URI, and returns the index
path. Everything shown comes from the `Analysis` records; nothing here recomputes a statistic.

matplotlib and jinja2 are imported only when a report is written, so importing this package
(e.g. for the console tables) stays cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lambdabench.analysis.model import Analysis

INDEX_FILE = "index.html"


def write_report(analysis: "Analysis", out_dir: Path) -> Path:
    """Write every chart and `index.html` into `out_dir` (created if needed); return the index path."""
    from lambdabench.report.charts import draw_charts
    from lambdabench.report.html import write_index

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    charts = draw_charts(analysis, out)
    return write_index(analysis, charts, out / INDEX_FILE)


__all__ = ["INDEX_FILE", "write_report"]
