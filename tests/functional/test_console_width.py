"""The default console summary fits a screen: 100 columns, and the demo's whole sweep output in 40 lines.

The sweep prints, besides the summary, about six lines of its own on stderr (completion, restore, the
written files and the output folder), so the summary of the recorded demo sweep gets 32 of the 40.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from lambdabench.analysis.analyze import analyze
from lambdabench.report.console import WIDTH, render_summary
from lambdabench.results import read_results

INPUTS = Path(__file__).resolve().parents[1] / "golden" / "inputs"


def _demo_analysis(tmp_path: Path):
    shutil.copyfile(INPUTS / "demo.results.jsonl", tmp_path / "results.jsonl")
    return analyze(read_results(tmp_path / "results.jsonl"))


def test_the_compact_demo_summary_fits_100_columns_and_32_lines(tmp_path):
    lines = render_summary(_demo_analysis(tmp_path)).splitlines()
    assert WIDTH == 100
    assert [line for line in lines if len(line) > 100] == []
    assert len(lines) == 30


def test_the_compact_summary_has_one_table_row_per_configuration_and_one_line_per_warning_kind(tmp_path):
    analysis = _demo_analysis(tmp_path)
    lines = render_summary(analysis).splitlines()
    rows = [line for line in lines if line.lstrip().split(" ", 1)[0].isdigit() and " MB " in line[:8]]
    assert [row.split()[0] for row in rows] == [str(c.config.memory_mb) for c in analysis.configs]
    kinds = [line.split("]", 1)[0].strip() + "]" for line in lines if line.startswith("  [")]
    assert kinds == ["[unstable]", "[host_limited]", "[too_few_samples]"]
    assert len(analysis.warnings) == 12


def test_verbose_keeps_the_per_scenario_blocks_and_every_warning(tmp_path):
    analysis = _demo_analysis(tmp_path)
    text = render_summary(analysis, verbose=True)
    assert text.count("  warm   (10 ok; excluded 2 warm-up)") == 5
    assert text.count("      fix: ") == 12
    assert "warm   (" not in render_summary(analysis)


def test_the_monthly_column_and_sentence_still_fit_100_columns(tmp_path):
    shutil.copyfile(INPUTS / "demo.results.jsonl", tmp_path / "results.jsonl")
    analysis = analyze(read_results(tmp_path / "results.jsonl"), recommend={"monthly_invocations": 2_500_000_000})
    lines = render_summary(analysis).splitlines()
    assert [line for line in lines if len(line) > 100] == []
    assert "$/month" in lines[2] and "$3,691" in lines[3]  # 128 MB's month, in whole dollars
    assert len(lines) <= 30 + 2  # the per-month sentence adds at most two lines
