"""Everything a finished (or partial) sweep folder gets written from its results.jsonl.

`write_outputs` is the one path `lambdabench sweep` (at its end) and `lambdabench report` share:
read the results, analyse them, write summary.csv and report.json, optionally the HTML report,
and render the console summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from lambdabench.analysis import analyze
from lambdabench.analysis.export import write_outputs as write_tables
from lambdabench.analysis.model import Analysis
from lambdabench.report import write_report
from lambdabench.report.console import render_summary
from lambdabench.results import Results, read_results


@dataclass(frozen=True)
class Written:
    results: Results
    analysis: Analysis
    summary: str          # the console summary
    paths: list[Path]     # every file written, in the order written

    @property
    def completed(self) -> bool:
        return any(e.get("event") == "completed" for e in self.results.events)


def write_outputs(results_path: Path | str, *, recommend: Mapping[str, Any] | None = None,
                  html: bool = True, verbose: bool = False) -> Written:
    """Analyse the sweep in `results_path` (its folder or its results.jsonl) and write its outputs there."""
    results = read_results(results_path)
    folder = results.path.parent
    analysis = analyze(results, recommend=dict(recommend or {}))
    paths = [Path(p) for p in write_tables(analysis, folder)]
    if html:
        paths.append(Path(write_report(analysis, folder)))
    return Written(results, analysis, render_summary(analysis, verbose=verbose), paths)


__all__ = ["Written", "write_outputs"]
