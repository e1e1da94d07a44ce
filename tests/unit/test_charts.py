"""Charts: which are drawn, at what pixel size, what they say in alt text, and why one is skipped."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import numpy as np
import pytest

from lambdabench.analysis.model import ConfigPoint
from lambdabench.report import charts
from lambdabench.report.charts import CHART_FILES, DPI, draw_charts, expected_size_px, fmt_ms, fmt_usd

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which the PNG spec puts first."""
    data = path.read_bytes()[:24]
    assert data[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def full(report_fixtures):
    spec = report_fixtures.SweepSpec(timeouts=(1, 10), burst_concurrency=10, reserved_concurrency=8,
                                     missing=(ConfigPoint(3008, 10),))
    return report_fixtures.build_analysis(spec)


@pytest.fixture(scope="module")
def full_charts(full, tmp_path_factory):
    out = tmp_path_factory.mktemp("charts")
    return out, {c.file_name: c for c in draw_charts(full, out)}


def test_every_chart_is_drawn_at_figure_size_times_2x_dpi(full_charts):
    out, drawn = full_charts
    assert DPI == 200  # matplotlib's default 100 dpi, doubled for dense screens
    assert set(drawn) == set(CHART_FILES)
    for name in CHART_FILES:
        chart = drawn[name]
        assert chart.drawn, f"{name} skipped: {chart.skipped_reason}"
        assert chart.path == out / name
        width_in, height_in = charts.SIZES[name]
        assert png_size(chart.path) == (round(width_in * 200), round(height_in * 200)) == expected_size_px(name)
        assert (chart.width_px, chart.height_px) == expected_size_px(name)


def test_chart_file_names_are_stable():
    assert CHART_FILES == ("cost_vs_latency.png", "memory_curve.png", "latency_distribution.png",
                           "cold_start.png", "burst_timeline.png", "timeout_heatmap.png", "memory_headroom.png")


def test_cost_vs_latency_alt_names_cheapest_fastest_recommended_and_current(full, full_charts):
    alt = full_charts[1]["cost_vs_latency.png"].alt
    points = [c for c in full.configs if c.p95_ms is not None and c.cost_per_million_usd is not None]
    cheapest = min(points, key=lambda c: c.cost_per_million_usd)
    rec = full.recommendation.config
    assert f"for {len(points)} configurations" in alt
    assert (f"Cheapest: {cheapest.config.memory_mb} MB {cheapest.config.timeout_s} s at "
            f"{fmt_usd(cheapest.cost_per_million_usd)} per million") in alt
    assert f"Recommended: {rec.memory_mb} MB {rec.timeout_s} s (star)." in alt
    assert "Current configuration: 128 MB 3 s" not in alt  # 128 MB / 3 s was not part of this sweep


def test_burst_timeline_counts_throttles_and_peak_concurrency(full_charts):
    alt = full_charts[1]["burst_timeline.png"].alt
    # 10 concurrent invokes x 2 waves against a reserved concurrency of 8: 2 throttled per wave.
    assert "512 MB 10 s: peak 8 in flight, 8 cold, 4 throttled of 20" in alt
    assert "Timeline of 220 burst invocations across 11 configurations" in alt


def test_timeout_heatmap_reports_the_cells_that_failed(full, full_charts):
    alt = full_charts[1]["timeout_heatmap.png"].alt
    assert "timeouts 1 s, 10 s" in alt
    assert "128 MB / 1 s at 0%" in alt  # ~2 s of CPU at 128 MB cannot finish in 1 s
    assert "1 cells not measured" in alt


def test_memory_curve_leaves_a_gap_for_a_missing_configuration(report_fixtures):
    full = report_fixtures.build_analysis(report_fixtures.SweepSpec(warm=6, missing=(ConfigPoint(3008, 10),)))
    fig, alt = charts.BUILDERS["memory_curve.png"][1](full, "memory_curve.png", charts.varying_dimensions(full))
    ax = fig.axes[0]
    p50_line = next(line for line in ax.get_lines() if line.get_linestyle() == "-" and len(line.get_xdata()) == 6)
    x = list(p50_line.get_xdata())
    y = p50_line.get_ydata()
    assert x == [128, 256, 512, 1024, 1769, 3008]
    assert math.isnan(y[x.index(3008)])  # not measured: a gap, never zero
    expected = [full.config(ConfigPoint(m, 10)).p50_ms for m in x[:-1]]
    assert np.allclose(y[:-1], expected)
    assert alt.endswith("Not measured: 3008 MB.")


def test_single_timeout_sweep_skips_the_heatmap_and_says_why(report_fixtures, tmp_path):
    analysis = report_fixtures.build_analysis(report_fixtures.SweepSpec(burst_concurrency=4))
    drawn = {c.file_name: c for c in draw_charts(analysis, tmp_path)}
    heatmap = drawn["timeout_heatmap.png"]
    assert not heatmap.drawn
    assert heatmap.skipped_reason == "the sweep used a single timeout (10 s)"
    assert not (tmp_path / "timeout_heatmap.png").exists()
    assert all(drawn[n].drawn for n in CHART_FILES if n != "timeout_heatmap.png")


def test_no_burst_and_no_cold_samples_skip_those_charts(report_fixtures, tmp_path):
    analysis = report_fixtures.build_analysis(report_fixtures.SweepSpec(cold=0, burst_concurrency=0))
    drawn = {c.file_name: c for c in draw_charts(analysis, tmp_path)}
    assert drawn["burst_timeline.png"].skipped_reason == "the sweep ran no burst scenario"
    assert drawn["cold_start.png"].skipped_reason == (
        "no cold start was measured (no invocation reported an Init Duration)")
    assert drawn["memory_curve.png"].drawn and drawn["cost_vs_latency.png"].drawn


def test_a_chart_skipped_on_re_render_removes_its_stale_file(report_fixtures, tmp_path):
    with_burst = report_fixtures.build_analysis(report_fixtures.SweepSpec(burst_concurrency=4))
    draw_charts(with_burst, tmp_path)
    assert (tmp_path / "burst_timeline.png").exists()
    without = report_fixtures.build_analysis(report_fixtures.SweepSpec(burst_concurrency=0))
    draw_charts(without, tmp_path)
    assert not (tmp_path / "burst_timeline.png").exists()


def test_everything_failed_draws_only_the_burst_timeline(report_fixtures, tmp_path):
    analysis = report_fixtures.build_analysis(
        report_fixtures.SweepSpec(memories=(128, 256), cold=2, warm=3, burst_concurrency=3, fail_everything=True))
    drawn = {c.file_name: c for c in draw_charts(analysis, tmp_path)}
    assert [n for n in CHART_FILES if drawn[n].drawn] == ["burst_timeline.png"]
    assert drawn["cost_vs_latency.png"].skipped_reason == (
        "no configuration has both a p95 latency and a cost (no successful invocations)")
    assert drawn["latency_distribution.png"].skipped_reason == "no successful invocation has a REPORT duration"
    assert "12 error" in drawn["burst_timeline.png"].alt


def test_out_of_memory_is_marked_on_the_headroom_chart(report_fixtures, tmp_path):
    analysis = report_fixtures.build_analysis(
        report_fixtures.SweepSpec(memories=(128, 256, 512), cold=2, warm=5, need_memory_mb=200))
    chart = {c.file_name: c for c in draw_charts(analysis, tmp_path)}["memory_headroom.png"]
    assert chart.drawn
    # 128 MB runs out of memory on all 2 cold + 5 warm; 256 MB peaks at 200-203 MB.
    assert "Out of memory at 128 MB (7)." in chart.alt
    used_256 = analysis.config(ConfigPoint(256, 10)).max_memory_used_mb
    assert f"256 MB used {used_256} MB ({used_256 / 256:.0%})" in chart.alt


def test_same_analysis_draws_identical_files(report_fixtures, tmp_path):
    analysis = report_fixtures.build_analysis(report_fixtures.SweepSpec(memories=(128, 1024), warm=5))
    draw_charts(analysis, tmp_path / "a")
    draw_charts(analysis, tmp_path / "b")
    for name in ("cost_vs_latency.png", "cold_start.png"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


@pytest.mark.parametrize(("value", "text"), [(2040.4, "2040 ms"), (151.2, "151 ms"), (12.345, "12.3 ms"),
                                             (0.5, "0.50 ms"), (12_500, "12.5 s")])
def test_durations_are_formatted_with_their_unit(value, text):
    assert fmt_ms(value) == text


@pytest.mark.parametrize(("value", "text"), [(4.5912, "$4.59"), (0.2, "$0.200"), (0.0021, "$0.0021"),
                                             (1234.5, "$1,234")])
def test_costs_are_formatted_in_dollars(value, text):
    assert fmt_usd(value) == text


def test_distribution_has_one_box_per_scenario_without_warmups(report_fixtures, tmp_path):
    analysis = report_fixtures.build_analysis(
        report_fixtures.SweepSpec(memories=(128, 1024), cold=3, warm=6, burst_concurrency=4, burst_waves=1))
    chart = {c.file_name: c for c in draw_charts(analysis, tmp_path)}["latency_distribution.png"]
    # 6 warm per size (the warm-up is recorded but left out), 3 cold, one burst wave of 4.
    assert "one box per scenario (12 warm, 6 cold, 8 burst samples" in chart.alt
    assert "128 MB: warm median " in chart.alt


def test_dollar_axes_show_cents(report_fixtures):
    import re

    analysis = report_fixtures.build_analysis(report_fixtures.SweepSpec(memories=(128, 512, 1769), warm=5))
    fig, _ = charts.BUILDERS["memory_curve.png"][1](analysis, "memory_curve.png",
                                                    charts.varying_dimensions(analysis))
    fig.canvas.draw()
    cost_axis = fig.axes[1]
    labels = [t.get_text() for t in cost_axis.get_yticklabels() if t.get_text()]
    assert labels and all(re.fullmatch(r"\$0|\$\d+\.\d\d", text) for text in labels), labels
