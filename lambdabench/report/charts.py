"""PNG charts of a sweep, drawn with matplotlib's Agg canvas from an `Analysis`.

Owns the chart files (stable names in `CHART_FILES`), their look (Okabe-Ito colour-blind-safe
palette, 2x DPI, units on every axis, memory sizes labelled) and their alt text. Every number
plotted comes from the analysis records; the raw per-invocation frame (`analysis.invocations`)
is used only for distributions, cold-start dots and the burst timeline. A chart with nothing to
show is not drawn: `draw_charts` returns it with `path=None` and the reason, which the HTML shows.

Figures are built with `matplotlib.figure.Figure` + `FigureCanvasAgg`, never pyplot, so no global
state is touched and the process's backend does not matter. Images are saved without tight
bounding boxes so each file is exactly its figure size x DPI (tests read the PNG header).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import Formatter, FuncFormatter, MaxNLocator, NullFormatter, NullLocator

from lambdabench.analysis.model import Analysis, ConfigPoint, ConfigSummary
from lambdabench.results import IN_STATISTICS

# matplotlib's default is 100 dots per inch; reports are read on high-density screens.
DPI = 200

# Okabe & Ito (2008), "Color Universal Design": distinguishable under every common colour-vision
# deficiency. Names used below so a chart's meaning never depends on a palette index.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
GREY = "#999999"

# Outcome colours shared by the distribution and burst charts (and the HTML legend).
STATUS_COLOURS = {
    "warm": OKABE_ITO["blue"],
    "cold": OKABE_ITO["vermillion"],
    "throttled": OKABE_ITO["orange"],
    "error": OKABE_ITO["black"],
    "no REPORT": GREY,
}

# memory_curve colours per series (architecture): duration p50, duration p95, cost.
SERIES_COLOURS = (
    (OKABE_ITO["blue"], OKABE_ITO["sky_blue"], OKABE_ITO["vermillion"]),
    (OKABE_ITO["bluish_green"], OKABE_ITO["bluish_green"], OKABE_ITO["reddish_purple"]),
    (OKABE_ITO["black"], OKABE_ITO["black"], OKABE_ITO["orange"]),
)

# Figure sizes in inches; the PNG is this x DPI pixels.
SIZES: dict[str, tuple[float, float]] = {
    "cost_vs_latency.png": (8.0, 5.0),
    "memory_curve.png": (8.0, 5.0),
    "latency_distribution.png": (9.0, 5.0),
    "cold_start.png": (8.0, 4.5),
    "burst_timeline.png": (9.0, 7.0),
    "timeout_heatmap.png": (10.0, 4.5),
    "memory_headroom.png": (7.0, 5.5),
}
CHART_FILES: tuple[str, ...] = tuple(SIZES)
# Drawn for adaptive sweeps only (a grid sweep's report lists exactly CHART_FILES).
SEARCH_CHART = "search_curve.png"
SIZES[SEARCH_CHART] = (10.0, 5.0)


@dataclass(frozen=True)
class Chart:
    """One chart of the report: drawn (path set) or skipped (reason set)."""

    file_name: str
    title: str
    alt: str  # descriptive alt text with the key numbers; for a skipped chart, the reason
    path: Path | None = None
    skipped_reason: str | None = None
    width_px: int = 0
    height_px: int = 0

    @property
    def drawn(self) -> bool:
        return self.path is not None


class _Skip(Exception):
    """Raised by a chart builder when there is nothing to draw; the message says why."""


# --- labels and formatting ---------------------------------------------------------------


@dataclass(frozen=True)
class _Vary:
    """Which config dimensions vary in this sweep: labels name only those."""

    timeout: bool
    arch: bool


def varying_dimensions(analysis: Analysis) -> _Vary:
    """Whether timeout and architecture vary across the sweep (planned configurations included)."""
    keys = [c.config for c in analysis.configs] + list(analysis.missing)
    return _Vary(
        timeout=len({k.timeout_s for k in keys}) > 1,
        arch=len({k.architecture for k in keys}) > 1,
    )


def config_label(key: ConfigPoint, vary: _Vary, sep: str = " ") -> str:
    parts = [f"{key.memory_mb} MB"]
    if vary.timeout:
        parts.append(f"{key.timeout_s} s")
    if vary.arch:
        parts.append(key.architecture)
    return sep.join(parts)


def fmt_ms(value: float) -> str:
    if value >= 10_000:
        return f"{value / 1000:.1f} s"
    if value >= 100:
        return f"{value:.0f} ms"
    if value >= 10:
        return f"{value:.1f} ms"
    return f"{value:.2f} ms"


def fmt_usd(value: float) -> str:
    if value >= 100:
        return f"${value:,.0f}"
    if value >= 1:
        return f"${value:.2f}"
    if value >= 0.01:
        return f"${value:.3f}"
    return f"${value:.4f}"


def _memory_axis(ax, memories: Iterable[int]) -> None:
    """A log2 memory x axis with one labelled tick per swept size (Lambda sizes double)."""
    ticks = sorted(set(memories))
    ax.set_xscale("log", base=2)
    axis = ax.xaxis
    axis.set_ticks(ticks)
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())
    axis.set_minor_locator(NullLocator())


class _UsdTicks(Formatter):
    """Dollar tick labels with one number of decimals per axis, enough to tell its ticks apart."""

    decimals = 2

    def set_locs(self, locs) -> None:
        super().set_locs(locs)
        steps = np.diff(sorted(v for v in locs if np.isfinite(v)))
        step = float(steps[steps > 0].min()) if (steps > 0).any() else 1.0
        needed = int(min(6, max(0, -math.floor(math.log10(step)))))
        # Cents under $100 ("$0.50", not "$0.5"); whole dollars above when the ticks allow it.
        big = max((abs(v) for v in locs if np.isfinite(v)), default=0.0) >= 100
        self.decimals = needed if big else max(2, needed)

    def __call__(self, value, pos=None) -> str:
        if value == 0:
            return "$0"
        return f"${value:,.{self.decimals}f}"


def _usd_axis(axis) -> None:
    if axis.get_scale() == "log":
        axis.set_major_formatter(FuncFormatter(lambda v, _: fmt_usd(v) if v > 0 else "$0"))
    else:
        axis.set_major_formatter(_UsdTicks())


def _min_relative_span(ax, values: list[float], span: float = 0.10) -> None:
    """Keep the y axis at least `span` of the values' mean tall: costs that differ by 0.5% must not
    fill the plot height and look like a tenfold difference."""
    low, high = min(values), max(values)
    middle = (low + high) / 2
    if middle > 0 and (high - low) < span * middle:
        ax.set_ylim(middle * (1 - span / 2) - (high - low) * 0.05, middle * (1 + span / 2) + (high - low) * 0.05)


def _new_figure(name: str) -> Figure:
    fig = Figure(figsize=SIZES[name], dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _style(ax) -> None:
    ax.grid(True, which="major", color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _ci_err(value: float, interval) -> tuple[float, float]:
    """Asymmetric error-bar lengths for `value` inside `interval` (zero where none)."""
    if interval is None:
        return (0.0, 0.0)
    return (max(value - interval.low, 0.0), max(interval.high - value, 0.0))


def _kept_samples(frame: pd.DataFrame) -> pd.DataFrame:
    """Samples the statistics use: ok, and in statistics by the records' rule."""
    if frame.empty:
        return frame
    return frame[frame["status"].eq("ok") & frame[IN_STATISTICS].astype(bool)]


# --- the charts ---------------------------------------------------------------------------


def _cost_vs_latency(analysis: Analysis, name: str, vary: _Vary) -> tuple[Figure, str]:
    points = [c for c in analysis.configs if c.p95_ms is not None and c.cost_per_million_usd is not None]
    if not points:
        raise _Skip("no configuration has both a p95 latency and a cost (no successful invocations)")
    fig = _new_figure(name)
    ax = fig.add_subplot()
    _style(ax)
    rec = analysis.recommendation.config if analysis.recommendation else None

    for c in points:
        y = c.cost_per_million_usd
        lo, hi = _ci_err(c.p95_ms, c.p95_ci)
        ylo, yhi = _ci_err(y, c.cost_per_million_ci)
        ax.errorbar(c.p95_ms, y, xerr=[[lo], [hi]], yerr=[[ylo], [yhi]] if c.cost_per_million_ci else None,
                    fmt="o", color=OKABE_ITO["blue"], ms=6, capsize=3, elinewidth=1.2, zorder=3)
        if c.p50_ms is not None:
            lo, hi = _ci_err(c.p50_ms, c.p50_ci)
            ax.errorbar(c.p50_ms, y, xerr=[[lo], [hi]], fmt="o", mfc="white", color=OKABE_ITO["sky_blue"],
                        ms=5, capsize=2, elinewidth=1.0, zorder=3)
            ax.plot([c.p50_ms, c.p95_ms], [y, y], color="#cccccc", lw=0.8, zorder=2)

    frontier = [analysis.config(k) for k in analysis.pareto]
    frontier = sorted((c for c in frontier if c is not None and c in points), key=lambda c: c.p95_ms)
    if len(frontier) >= 1:
        ax.plot([c.p95_ms for c in frontier], [c.cost_per_million_usd for c in frontier], "--",
                color=OKABE_ITO["bluish_green"], lw=1.5, zorder=2)

    rec_summary = analysis.config(rec) if rec else None
    if rec_summary is not None and rec_summary in points:
        # Drawn under the point (zorder) so the p95 marker and its interval stay visible.
        ax.plot(rec_summary.p95_ms, rec_summary.cost_per_million_usd, marker="*", ms=22,
                color=OKABE_ITO["orange"], mec="black", mew=0.8, ls="none", zorder=2.5)
    stand_in = analysis.original_measured_as
    orig_summary = analysis.config(stand_in) if stand_in else None
    if orig_summary is not None and orig_summary in points:
        ax.plot(orig_summary.p95_ms, orig_summary.cost_per_million_usd, marker="o", ms=15, mfc="none",
                mec=OKABE_ITO["reddish_purple"], mew=2.0, ls="none", zorder=4)

    xs = [c.p95_ms for c in points] + [c.p50_ms for c in points if c.p50_ms is not None]
    ys = [c.cost_per_million_usd for c in points]
    if min(xs) > 0 and max(xs) / min(xs) > 20:
        ax.set_xscale("log")
    if min(ys) > 0 and max(ys) / min(ys) > 20:
        ax.set_yscale("log")
    else:
        _min_relative_span(ax, ys + [c.cost_per_million_ci.low for c in points if c.cost_per_million_ci]
                           + [c.cost_per_million_ci.high for c in points if c.cost_per_million_ci])
    ax.set_xlabel("latency (ms) — filled: p95, hollow: p50; bars: 95% confidence interval")
    ax.set_ylabel("cost per 1M invocations (USD)" + (", vertical bars: 95% CI"
                                                     if any(c.cost_per_million_ci for c in points) else ""))
    _usd_axis(ax.yaxis)
    ax.set_title("Cost against latency per configuration", loc="left", fontsize=12)
    handles = [
        Line2D([], [], marker="o", color=OKABE_ITO["blue"], ls="none", label="p95 (95% CI)"),
        Line2D([], [], marker="o", mfc="white", color=OKABE_ITO["sky_blue"], ls="none", label="p50 (95% CI)"),
        Line2D([], [], ls="--", color=OKABE_ITO["bluish_green"], label="Pareto frontier (cost vs p95)"),
    ]
    if rec_summary is not None and rec_summary in points:
        handles.append(Line2D([], [], marker="*", ms=12, color=OKABE_ITO["orange"], mec="black", ls="none",
                              label=f"recommended: {config_label(rec, vary)}"))
    if orig_summary is not None and orig_summary in points:
        handles.append(Line2D([], [], marker="o", ms=10, mfc="none", mec=OKABE_ITO["reddish_purple"], mew=2,
                              ls="none", label=_current_label(analysis, vary)))
    elif analysis.original is not None:
        handles.append(Line2D([], [], ls="none", label=f"current ({analysis.original.label}): not measured"))
    ax.legend(handles=handles, fontsize=8, loc="best", framealpha=0.9)
    _place_labels(fig, ax, [(c.p95_ms, c.cost_per_million_usd, config_label(c.config, vary)) for c in points],
                  obstacles=[(c.p50_ms, c.cost_per_million_usd) for c in points if c.p50_ms is not None])

    cheapest = min(points, key=lambda c: c.cost_per_million_usd)
    fastest = min(points, key=lambda c: c.p95_ms)
    alt = (f"Scatter of cost per million invocations against p95 latency for {len(points)} configurations. "
           f"Cheapest: {config_label(cheapest.config, vary)} at {fmt_usd(cheapest.cost_per_million_usd)} "
           f"per million, p95 {fmt_ms(cheapest.p95_ms)}. Fastest p95: {config_label(fastest.config, vary)} at "
           f"{fmt_ms(fastest.p95_ms)}, {fmt_usd(fastest.cost_per_million_usd)} per million. "
           f"Pareto frontier: {', '.join(config_label(c.config, vary) for c in frontier) or 'none'}.")
    if rec_summary is not None and rec_summary in points:
        alt += f" Recommended: {config_label(rec, vary)} (star)."
    if orig_summary is not None and orig_summary in points:
        alt += f" Current configuration: {config_label(analysis.original, vary)} (ring)."
    return fig, alt


def _place_labels(fig: Figure, ax, labels: list[tuple[float, float, str]],
                  obstacles: list[tuple[float, float]] = (), fontsize: float = 8) -> None:
    """Label points without letting labels cover each other or the markers (greedy, no extra library).

    Lays the figure out once so data->pixel transforms are final, then tries a ring of offsets per
    label and keeps the first whose box overlaps nothing placed so far; a label pushed away from
    its point gets a thin leader line.
    """
    fig.canvas.draw()  # runs the constrained layout: transforms below are the ones saved
    to_px = ax.transData.transform
    scale = fig.dpi / 72.0
    area = ax.get_window_extent()
    marker_r = 5 * scale
    taken: list[tuple[float, float, float, float]] = []
    for x, y in [(lx, ly) for lx, ly, _ in labels] + list(obstacles):
        px, py = to_px((x, y))
        taken.append((px - marker_r, py - marker_r, px + marker_r, py + marker_r))

    def overlap(a, b) -> float:
        w = min(a[2], b[2]) - max(a[0], b[0])
        h = min(a[3], b[3]) - max(a[1], b[1])
        return w * h if w > 0 and h > 0 else 0.0

    # Candidate offsets in points (dx, dy of the label's lower-left corner), nearest first.
    ring = [(6, 4), (6, -13), (-1, 4), (-1, -13), (6, 16), (6, -25), (-1, 16), (-1, -25), (18, 28),
            (18, -37), (-1, 28), (-1, -37), (30, 40), (30, -49)]
    for x, y, text in sorted(labels, key=lambda item: (item[1], item[0])):
        px, py = to_px((x, y))
        width = len(text) * fontsize * 0.6 * scale
        height = fontsize * 1.25 * scale
        best, best_cost = None, None
        for dx, dy in ring:
            left = px + (dx * scale if dx >= 0 else -width - 6 * scale)
            bottom = py + dy * scale
            box = (left, bottom, left + width, bottom + height)
            cost = sum(overlap(box, t) for t in taken)
            if box[0] < area.x0 or box[2] > area.x1 or box[1] < area.y0 or box[3] > area.y1:
                cost += width * height  # outside the plot: as bad as covering one label
            if best_cost is None or cost < best_cost:
                best, best_cost = (box, dx, dy), cost
            if cost == 0:
                break
        box, dx, dy = best
        offset = ((box[0] - px) / scale, (box[1] - py) / scale)
        far = abs(dy) > 16
        text_artist = ax.annotate(
            text, (x, y), xytext=offset, textcoords="offset points", fontsize=fontsize, color="#333333",
            va="bottom", ha="left", zorder=5,
            arrowprops={"arrowstyle": "-", "color": "#999999", "lw": 0.6, "shrinkA": 0, "shrinkB": 4}
            if far else None,
        )
        text_artist.set_in_layout(False)
        taken.append(box)


def _curve_series(analysis: Analysis) -> dict[str, list[ConfigSummary | ConfigPoint]]:
    """One series per architecture; with several timeouts, the recommended one (else the largest)."""
    keys = [c.config for c in analysis.configs] + list(analysis.missing)
    series: dict[str, list] = {}
    for arch in sorted({k.architecture for k in keys}):
        arch_keys = [k for k in keys if k.architecture == arch]
        timeouts = sorted({k.timeout_s for k in arch_keys})
        rec = analysis.recommendation
        timeout = rec.config.timeout_s if rec and rec.config.timeout_s in timeouts else timeouts[-1]
        chosen = sorted((k for k in arch_keys if k.timeout_s == timeout), key=lambda k: k.memory_mb)
        series[arch] = [analysis.config(k) or k for k in chosen]
    return series


def _memory_curve(analysis: Analysis, name: str, vary: _Vary) -> tuple[Figure, str]:
    series = _curve_series(analysis)
    measured = [s for items in series.values() for s in items
                if isinstance(s, ConfigSummary) and s.p50_ms is not None]
    if not measured:
        raise _Skip("no configuration has a measured duration (no successful invocations)")
    fig = _new_figure(name)
    ax = fig.add_subplot()
    _style(ax)
    ax2 = ax.twinx()
    ax2.spines["top"].set_visible(False)
    markers = ["o", "s", "^", "D"]
    all_memories: list[int] = []
    missing_memories: list[int] = []
    handles = []
    for index, (arch, items) in enumerate(series.items()):
        marker = markers[index % len(markers)]
        # One colour set per architecture (Okabe-Ito); p95 is dashed in its p50's family.
        p50_c, p95_c, cost_c = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        suffix = f" ({arch})" if vary.arch else ""
        mem = np.array([(s.config if isinstance(s, ConfigSummary) else s).memory_mb for s in items], float)
        all_memories.extend(int(m) for m in mem)

        def col(get):
            # NaN (a gap in the line), never zero, where a configuration was not measured.
            out = []
            for s in items:
                v = get(s) if isinstance(s, ConfigSummary) else None
                out.append(np.nan if v is None else float(v))
            return np.array(out)

        p50 = col(lambda s: s.p50_ms)
        p95 = col(lambda s: s.p95_ms)
        lo = col(lambda s: s.p50_ci.low if s.p50_ci else s.p50_ms)
        hi = col(lambda s: s.p50_ci.high if s.p50_ci else s.p50_ms)
        cost = col(lambda s: s.cost_per_million_usd)
        missing_memories.extend(int(m) for m, v in zip(mem, p50) if np.isnan(v))
        ax.fill_between(mem, lo, hi, color=p50_c, alpha=0.18, lw=0)
        ax.plot(mem, p50, marker=marker, color=p50_c, lw=2, ms=5)
        ax.plot(mem, p95, marker=marker, color=p95_c, lw=1.5, ls="--", ms=4)
        ax2.plot(mem, cost, marker=marker, color=cost_c, lw=1.8, ls="-.", ms=5)
        handles += [
            Line2D([], [], color=p50_c, marker=marker, lw=2, label=f"duration p50{suffix}"),
            Patch(color=p50_c, alpha=0.18, label=f"p50 95% CI{suffix}"),
            Line2D([], [], color=p95_c, marker=marker, ls="--", label=f"duration p95{suffix}"),
            Line2D([], [], color=cost_c, marker=marker, ls="-.",
                   label=f"cost per 1M{suffix} (right axis)"),
        ]
    _memory_axis(ax, all_memories)
    ax.set_xlim(min(all_memories) / 1.15, max(all_memories) * 1.15)
    ax.set_ylim(bottom=0)
    # Cost from zero (honest proportions), with room above the line.
    ax2.set_ylim(bottom=0, top=max(s.cost_per_million_usd for s in measured
                                   if s.cost_per_million_usd is not None) * 1.15
                 if any(s.cost_per_million_usd is not None for s in measured) else None)
    for m in sorted(set(missing_memories)):
        ax.annotate("not\nmeasured", (m, 0), xytext=(0, 6), textcoords="offset points", ha="center",
                    va="bottom", fontsize=7, color=GREY)
    rec = analysis.recommendation
    if rec is not None:
        ax.axvline(rec.config.memory_mb, color=OKABE_ITO["orange"], lw=1.2, ls=":")
        handles.append(Line2D([], [], color=OKABE_ITO["orange"], ls=":",
                              label=f"recommended {rec.config.memory_mb} MB"))
    ax.set_xlabel("memory (MB)")
    latency_scenario = measured[0].latency_scenario
    ax.set_ylabel(f"{latency_scenario} duration (ms)")
    ax2.set_ylabel("cost per 1M invocations (USD)", color=OKABE_ITO["vermillion"])
    _usd_axis(ax2.yaxis)
    timeouts = sorted({(s.config if isinstance(s, ConfigSummary) else s).timeout_s
                       for items in series.values() for s in items})
    title = "Duration and cost by memory"
    if vary.timeout:
        title += f" (timeout {', '.join(str(t) for t in timeouts)} s)"
    ax.set_title(title, loc="left", fontsize=12)
    ax.legend(handles=handles, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), frameon=False,
              ncol=3)

    slowest = max(measured, key=lambda s: s.p50_ms)
    fastest = min(measured, key=lambda s: s.p50_ms)
    with_cost = [s for s in measured if s.cost_per_million_usd is not None]
    alt = (f"Line chart of {latency_scenario} duration and cost against memory size "
           f"({', '.join(str(m) for m in sorted(set(all_memories)))} MB). Median duration falls from "
           f"{fmt_ms(slowest.p50_ms)} at {slowest.config.memory_mb} MB to {fmt_ms(fastest.p50_ms)} at "
           f"{fastest.config.memory_mb} MB.")
    if with_cost:
        cheap = min(with_cost, key=lambda s: s.cost_per_million_usd)
        alt += (f" Cost per million is lowest at {cheap.config.memory_mb} MB "
                f"({fmt_usd(cheap.cost_per_million_usd)}).")
    if missing_memories:
        alt += f" Not measured: {', '.join(str(m) for m in sorted(set(missing_memories)))} MB."
    return fig, alt


# Scenario boxes of the distribution chart, in drawing order, with their colour and legend label.
DISTRIBUTION_SCENARIOS = (
    ("warm", STATUS_COLOURS["warm"], "warm scenario"),
    ("cold", STATUS_COLOURS["cold"], "cold scenario (Init excluded)"),
    ("burst", OKABE_ITO["bluish_green"], "burst (cold and warm starts)"),
)


def _latency_distribution(analysis: Analysis, name: str, vary: _Vary) -> tuple[Figure, str]:
    kept = _kept_samples(analysis.invocations)
    if kept.empty or kept["duration_ms"].isna().all():
        raise _Skip("no successful invocation has a REPORT duration")
    kept = kept[kept["duration_ms"].notna()]
    # Boxes per scenario, as the statistics are kept: the cold scenario's samples are cold and the
    # warm scenario's warm (mismatches are left out above); burst mixes both under contention.
    present = [item for item in DISTRIBUTION_SCENARIOS if (kept["scenario"] == item[0]).any()]
    group_vary = _Vary(timeout=False, arch=vary.arch)  # timeouts pooled: ok durations do not depend on them
    groups: list[tuple[str, dict[str, np.ndarray]]] = []
    for (memory, arch), frame in sorted(kept.groupby(["memory_mb", "architecture"]), key=lambda g: g[0]):
        samples = {scenario: frame.loc[frame["scenario"] == scenario, "duration_ms"].astype(float).to_numpy()
                   for scenario, _, _ in present}
        groups.append((config_label(ConfigPoint(int(memory), 0, arch), group_vary), samples))
    fig = _new_figure(name)
    ax = fig.add_subplot()
    _style(ax)
    width = 0.8 / max(1, len(present))
    labels, summary = [], []
    for i, (label, samples) in enumerate(groups):
        for j, (scenario, colour, _) in enumerate(present):
            values = samples[scenario]
            if len(values) == 0:
                continue
            position = i - 0.4 + width * (j + 0.5)
            box = ax.boxplot([values], positions=[position], widths=width * 0.85, patch_artist=True,
                             showfliers=True, whis=(5, 95), manage_ticks=False,
                             flierprops={"marker": ".", "markersize": 3, "markeredgecolor": colour},
                             medianprops={"color": "black", "lw": 1.4})
            for patch in box["boxes"]:
                patch.set_facecolor(colour)
                patch.set_alpha(0.75)
        labels.append("\n".join([label] + [f"{s} n={len(samples[s])}" for s, _, _ in present]))
        medians = [f"{s} median {fmt_ms(float(np.median(samples[s])))}" for s, _, _ in present if len(samples[s])]
        summary.append(f"{label}: " + ", ".join(medians))
    ax.set_xticks(range(len(groups)), labels, fontsize=8 if len(groups) <= 8 else 6)
    values = kept["duration_ms"].astype(float)
    if values.min() > 0 and values.max() / values.min() > 8:
        ax.set_yscale("log")  # memory sizes spread durations over decades: keep every box readable
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        # Label only 2x and 5x minor ticks: every minor tick labelled is a wall of numbers.
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if f"{v:g}"[0] in "25" else ""))
    ax.set_ylabel("REPORT Duration (ms), Init excluded")
    ax.set_xlabel("memory size" + (" (all timeouts pooled)" if vary.timeout else ""))
    ax.set_title("Duration distribution per memory size and scenario", loc="left", fontsize=12)
    ax.legend(handles=[Patch(color=colour, alpha=0.75, label=text) for _, colour, text in present],
              fontsize=8, loc="upper right", title="box: quartiles, whiskers: p5–p95", title_fontsize=7)
    counts = ", ".join(f"{int((kept['scenario'] == s).sum())} {s}" for s, _, _ in present)
    alt = (f"Box plots of REPORT Duration for {len(groups)} memory sizes, one box per scenario ({counts} samples; "
           f"warm-ups and state mismatches left out). " + "; ".join(summary) + ".")
    return fig, alt


def _cold_start(analysis: Analysis, name: str, vary: _Vary) -> tuple[Figure, str]:
    rows = []  # (config, scenario the distribution is from, distribution)
    for c in analysis.configs:
        # The cold scenario when it ran; else any scenario that saw cold starts (e.g. burst).
        found = [(name, s.init_duration_ms) for name, s in c.scenarios.items() if s.init_duration_ms is not None]
        found.sort(key=lambda item: item[0] != "cold")
        if found:
            rows.append((c.config, *found[0]))
    if not rows:
        raise _Skip("no cold start was measured (no invocation reported an Init Duration)")
    kept = _kept_samples(analysis.invocations)
    fig = _new_figure(name)
    ax = fig.add_subplot()
    _style(ax)
    rng = np.random.default_rng(7)  # fixed jitter: the same data draws the same picture
    for i, (key, scenario, dist) in enumerate(rows):
        lo, hi = _ci_err(dist.p50, dist.p50_ci)
        ax.bar(i, dist.p50, width=0.6, color=OKABE_ITO["sky_blue"], alpha=0.55, zorder=2)
        ax.errorbar(i, dist.p50, yerr=[[lo], [hi]], fmt="none", ecolor="black", capsize=4, zorder=4)
        ax.vlines(i + 0.36, dist.min, dist.max, color=GREY, lw=1.0, zorder=2)
        if not kept.empty:
            mine = kept[(kept["memory_mb"] == key.memory_mb) & (kept["timeout_s"] == key.timeout_s)
                        & (kept["architecture"] == key.architecture) & (kept["scenario"] == scenario)
                        & kept["init_duration_ms"].notna()]
            values = mine["init_duration_ms"].astype(float).to_numpy()
            ax.scatter(i + rng.uniform(-0.2, 0.2, len(values)), values, s=9, color=OKABE_ITO["vermillion"],
                       alpha=0.8, zorder=3, linewidths=0)
        top = max(dist.max, dist.p50_ci.high if dist.p50_ci else dist.p50)
        ax.annotate(f"{fmt_ms(dist.p50)}\nn={dist.n}", (i, top), xytext=(0, 3), textcoords="offset points",
                    ha="center", va="bottom", fontsize=7 if len(rows) <= 10 else 6, zorder=5)
    ax.set_xticks(range(len(rows)), [config_label(k, vary, "\n") for k, _, _ in rows],
                  fontsize=8 if len(rows) <= 10 else 6)
    ax.set_ylim(bottom=0, top=max(d.max for _, _, d in rows) * 1.3)
    ax.set_ylabel("Init Duration (ms)")
    ax.set_xlabel("configuration")
    ax.set_title("Cold start: Init Duration by memory size", loc="left", fontsize=12)
    ax.legend(handles=[Patch(color=OKABE_ITO["sky_blue"], alpha=0.55, label="median; black whisker: its 95% CI"),
                       Line2D([], [], marker="o", color=OKABE_ITO["vermillion"], ls="none", ms=4,
                              label="each cold start"),
                       Line2D([], [], color=GREY, label="min–max")], fontsize=8, loc="upper center",
              bbox_to_anchor=(0.5, -0.2 if vary.timeout or vary.arch else -0.14), frameon=False, ncol=3)
    alt = ("Bar chart of median Init Duration per configuration with each cold start as a dot: "
           + "; ".join(f"{config_label(k, vary)} median {fmt_ms(d.p50)} (n={d.n}, range {fmt_ms(d.min)}–"
                       f"{fmt_ms(d.max)})" for k, _, d in rows) + ".")
    return fig, alt


def _outcome(row) -> str:
    if row.status == "throttled":
        return "throttled"
    if row.status != "ok":
        return "error"
    if row.cold is True:
        return "cold"
    if row.cold is False:
        return "warm"
    return "no REPORT"


def _burst_timeline(analysis: Analysis, name: str, vary: _Vary) -> tuple[Figure, str]:
    frame = analysis.invocations
    if frame.empty or "scenario" not in frame or not (frame["scenario"] == "burst").any():
        raise _Skip("the sweep ran no burst scenario")
    burst = frame[frame["scenario"] == "burst"].copy()
    burst = burst[burst["started_at"].notna() & burst["client_ms"].notna()]
    if burst.empty:
        raise _Skip("no burst invocation has a start time and round trip")
    burst["start"] = pd.to_datetime(burst["started_at"], utc=True, format="ISO8601")
    burst["cold"] = burst["cold"].map(lambda v: v if isinstance(v, bool) else (None if pd.isna(v) else bool(v)))
    burst["outcome"] = [_outcome(r) for r in burst.itertuples()]
    keys = sorted({ConfigPoint(int(m), int(t), a) for m, t, a in
                   burst[["memory_mb", "timeout_s", "architecture"]].itertuples(index=False)})

    fig = _new_figure(name)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1.3])
    _style(top)
    _style(bottom)
    # Configurations in memory order get an ordered, colour-blind-safe ramp (cividis): dark is the
    # smallest; distinct from the outcome colours of the bars.
    ramp = matplotlib.colormaps["cividis"]
    concurrency_colours = [ramp(0.85 * i / max(1, len(keys) - 1)) for i in range(len(keys))]
    row = 0
    group_ticks, group_labels = [], []
    peaks = []
    span_s = 0.0
    for index, key in enumerate(keys):
        mine = burst[(burst["memory_mb"] == key.memory_mb) & (burst["timeout_s"] == key.timeout_s)
                     & (burst["architecture"] == key.architecture)].sort_values("start")
        t0 = mine["start"].min()
        start_s = ((mine["start"] - t0).dt.total_seconds()).to_numpy()
        length_s = mine["client_ms"].astype(float).to_numpy() / 1000.0
        rows = np.arange(row, row + len(mine))
        for outcome, colour in STATUS_COLOURS.items():
            sel = (mine["outcome"] == outcome).to_numpy()
            if not sel.any():
                continue
            top.barh(rows[sel], length_s[sel], left=start_s[sel], height=0.8, color=colour, lw=0)
            if outcome == "throttled":  # rejected at once: a bar would be invisible
                top.plot(start_s[sel], rows[sel], "x", color=colour, ms=4, mew=1.2)
        group_ticks.append(row + (len(mine) - 1) / 2)
        group_labels.append(config_label(key, vary, "\n"))
        if index:
            top.axhline(row - 0.5, color="#bbbbbb", lw=0.8)
        row += len(mine)
        span_s = max(span_s, float((start_s + length_s).max()))

        ran = mine["outcome"] != "throttled"  # a throttled invoke never ran
        edges = np.concatenate([start_s[ran.to_numpy()], (start_s + length_s)[ran.to_numpy()]])
        steps = np.concatenate([np.ones(ran.sum()), -np.ones(ran.sum())])
        order = np.lexsort((steps, edges))  # at equal times, ends before starts
        times = np.concatenate([[0.0], edges[order]])
        level = np.concatenate([[0.0], np.cumsum(steps[order])])
        peak = int(level.max()) if len(level) else 0
        peaks.append((key, peak, len(mine), int((mine["outcome"] == "throttled").sum()),
                      int((mine["outcome"] == "cold").sum())))
        bottom.step(times, level, where="post", color=concurrency_colours[index], lw=1.4, alpha=0.9,
                    label=f"{config_label(key, vary)} (peak {peak})")
    top.set_yticks(group_ticks, group_labels, fontsize=7 if len(keys) <= 8 else 6)
    for tick, colour in zip(top.get_yticklabels(), concurrency_colours):
        tick.set_color(colour)
    top.invert_yaxis()
    top.set_ylabel("invocations, grouped by configuration")
    top.set_title("Burst: each invocation from send to response", loc="left", fontsize=12)
    present = [o for o in STATUS_COLOURS if (burst["outcome"] == o).any()]
    top.legend(handles=[Patch(color=STATUS_COLOURS[o], label=o if o != "error" else "error / timeout / OOM")
                        for o in present], fontsize=7, loc="lower right", ncol=len(present))
    bottom.set_xlabel("seconds since the configuration's first burst invoke (s)")
    bottom.set_ylabel("in flight\n(invocations)")
    bottom.set_ylim(bottom=0)
    bottom.yaxis.set_major_locator(MaxNLocator(integer=True))  # invocations come in whole numbers
    bottom.set_xlim(left=0, right=span_s * 1.02 if span_s > 0 else 1)
    bottom.legend(fontsize=6 if len(keys) > 8 else 7, loc="upper left", bbox_to_anchor=(1.01, 1.05),
                  frameon=False, ncol=1 if len(keys) <= 8 else 2, title="in flight per configuration",
                  title_fontsize=7)
    counts = burst["outcome"].value_counts()
    alt = (f"Timeline of {len(burst)} burst invocations across {len(keys)} configurations, each a bar from send "
           f"to response: " + ", ".join(f"{int(counts[o])} {o}" for o in present) + ". "
           + "; ".join(f"{config_label(k, vary)}: peak {p} in flight, {c} cold, {t} throttled of {n}"
                       for k, p, n, t, c in peaks) + ".")
    return fig, alt


def _luminance(rgba) -> float:
    r, g, b = rgba[:3]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _timeout_heatmap(analysis: Analysis, name: str, vary: _Vary) -> tuple[Figure, str]:
    keys = [c.config for c in analysis.configs] + list(analysis.missing)
    timeouts = sorted({k.timeout_s for k in keys})
    if len(timeouts) < 2:
        raise _Skip(f"the sweep used a single timeout ({timeouts[0]} s)" if timeouts else "no configurations")
    columns = sorted({(k.memory_mb, k.architecture) for k in keys})
    col_vary = _Vary(timeout=False, arch=vary.arch)
    success = np.full((len(timeouts), len(columns)), np.nan)
    cost = np.full((len(timeouts), len(columns)), np.nan)
    notes: dict[tuple[int, int], str] = {}
    for c in analysis.configs:
        i = timeouts.index(c.config.timeout_s)
        j = columns.index((c.config.memory_mb, c.config.architecture))
        totals: dict[str, int] = {}
        for stats in c.scenarios.values():
            for status, n in stats.counts.items():
                totals[status] = totals.get(status, 0) + n
        ran = sum(n for s, n in totals.items() if s != "throttled")  # a throttle is not the config's failure
        if ran:
            success[i, j] = totals.get("ok", 0) / ran
        if c.cost_per_million_usd is not None:
            cost[i, j] = c.cost_per_million_usd
        failed = [f"{n} {s}" for s, n in totals.items() if s not in ("ok", "throttled") and n]
        notes[(i, j)] = ", ".join(failed)
    missing = {(timeouts.index(k.timeout_s), columns.index((k.memory_mb, k.architecture))) for k in analysis.missing}

    fig = _new_figure(name)
    left, right = fig.subplots(1, 2)
    for ax, data, title, cmap, fmt, vmin_vmax in (
        (left, success, "success rate (ok / invocations that ran)", "YlOrRd_r", lambda v: f"{v:.0%}", (0.0, 1.0)),
        (right, cost, "cost per 1M invocations (USD)", "Blues", fmt_usd, (None, None)),
    ):
        masked = np.ma.masked_invalid(data)
        # ColorBrewer sequential maps (colour-blind safe); failures and high cost are the dark cells.
        colour_map = matplotlib.colormaps[cmap].with_extremes(bad="#eeeeee")
        image = ax.imshow(masked, cmap=colour_map, aspect="auto", vmin=vmin_vmax[0], vmax=vmin_vmax[1])
        colourbar = fig.colorbar(image, ax=ax, shrink=0.85)
        if ax is right:
            _usd_axis(colourbar.ax.yaxis)
        else:
            colourbar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
        for i in range(len(timeouts)):
            for j in range(len(columns)):
                if np.isnan(data[i, j]):
                    text = "not\nmeasured" if (i, j) in missing else "no ok\nruns"
                    ax.text(j, i, text, ha="center", va="center", fontsize=7, color="#555555")
                    continue
                rgba = image.cmap(image.norm(data[i, j]))
                colour = "black" if _luminance(rgba) > 0.5 else "white"
                text = fmt(data[i, j])
                if ax is left and notes.get((i, j)):
                    text += "\n" + notes[(i, j)]
                ax.text(j, i, text, ha="center", va="center", fontsize=7, color=colour)
        ax.set_xticks(range(len(columns)), [config_label(ConfigPoint(m, 0, a), col_vary, "\n") for m, a in columns],
                      fontsize=7)
        ax.set_yticks(range(len(timeouts)), [f"{t} s" for t in timeouts], fontsize=8)
        ax.set_xlabel("memory (MB)")
        ax.set_ylabel("timeout (s)")
        ax.set_title(title, fontsize=10)
    fig.suptitle("Memory × timeout", x=0.01, ha="left", fontsize=12)
    worst = [(timeouts[i], columns[j][0], success[i, j]) for i in range(len(timeouts)) for j in range(len(columns))
             if not np.isnan(success[i, j]) and success[i, j] < 1]
    alt = (f"Two heat maps over {len(columns)} memory sizes and timeouts {', '.join(f'{t} s' for t in timeouts)}: "
           f"success rate and cost per million. ")
    if worst:
        alt += "Cells below 100% success: " + "; ".join(f"{m} MB / {t} s at {r:.0%}" for t, m, r in worst) + "."
    else:
        alt += "Every measured cell succeeded 100%."
    if missing:
        alt += f" {len(missing)} cells not measured."
    return fig, alt


def _memory_headroom(analysis: Analysis, name: str, vary: _Vary) -> tuple[Figure, str]:
    # Max Memory Used is a maximum, so the max over timeouts at one memory size is exact.
    used: dict[tuple[int, str], int] = {}
    ooms: dict[tuple[int, str], int] = {}
    for c in analysis.configs:
        group = (c.config.memory_mb, c.config.architecture)
        if c.max_memory_used_mb is not None:
            used[group] = max(used.get(group, 0), c.max_memory_used_mb)
        n_oom = sum(s.counts.get("oom", 0) for s in c.scenarios.values())
        if n_oom:
            ooms[group] = ooms.get(group, 0) + n_oom
    if not used and not ooms:
        raise _Skip("no invocation reported Max Memory Used")
    fig = _new_figure(name)
    ax = fig.add_subplot()
    _style(ax)
    groups = sorted(set(used) | set(ooms))
    memories = [m for m, _ in groups]
    lo, hi = min(memories), max(memories)
    line = np.array([lo / 1.3, hi * 1.3])
    ax.plot(line, line, color="black", lw=1.0, label="configured memory (the limit)")
    ax.fill_between(line, line * 0.8, line, color=OKABE_ITO["vermillion"], alpha=0.12, lw=0,
                    label="within 20% of the limit")
    arch_markers = {arch: m for arch, m in zip(sorted({a for _, a in groups}), ["o", "s", "^", "D"])}
    for (memory, arch) in groups:
        if (memory, arch) in used:
            value = used[(memory, arch)]
            share = value / memory
            colour = OKABE_ITO["vermillion"] if share >= 0.8 else OKABE_ITO["blue"]
            ax.plot(memory, value, marker=arch_markers[arch], color=colour, ms=7, ls="none", zorder=3)
            ax.annotate(f"{value} MB ({share:.0%})", (memory, value), xytext=(6, -3), textcoords="offset points",
                        fontsize=7)
        if (memory, arch) in ooms:
            ax.plot(memory, memory, marker="X", color=OKABE_ITO["black"], ms=10, ls="none", zorder=4)
            ax.annotate(f"{ooms[(memory, arch)]} OOM", (memory, memory), xytext=(-8, 6), textcoords="offset points",
                        fontsize=7, ha="right")
    _memory_axis(ax, memories)
    ax.set_yscale("log", base=2)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlim(lo / 1.3, hi * 1.3)
    low_used = min(list(used.values()) + [lo])
    ax.set_ylim(low_used / 1.5, hi * 1.3)
    ax.set_xlabel("configured memory (MB)")
    ax.set_ylabel("Max Memory Used (MB)")
    ax.set_title("Memory headroom: peak use against configured memory", loc="left", fontsize=12)
    handles, _ = ax.get_legend_handles_labels()
    handles.append(Line2D([], [], marker="o", color=OKABE_ITO["blue"], ls="none", label="max memory used"))
    if ooms:
        handles.append(Line2D([], [], marker="X", color="black", ls="none", ms=8, label="out of memory (OOM)"))
    if vary.arch:
        handles += [Line2D([], [], marker=m, color=GREY, ls="none", label=a) for a, m in arch_markers.items()]
    ax.legend(handles=handles, fontsize=8, loc="upper left")
    alt = ("Max Memory Used against configured memory: "
           + "; ".join(f"{m} MB{' ' + a if vary.arch else ''} used {used[(m, a)]} MB "
                       f"({used[(m, a)] / m:.0%})" for m, a in groups if (m, a) in used) + ".")
    if ooms:
        alt += " Out of memory at " + ", ".join(f"{m} MB ({n})" for (m, _), n in ooms.items()) + "."
    return fig, alt


BUILDERS: dict[str, tuple[str, Callable[[Analysis, str, _Vary], tuple[Figure, str]]]] = {
    "cost_vs_latency.png": ("Cost against latency", _cost_vs_latency),
    "memory_curve.png": ("Duration and cost by memory", _memory_curve),
    "latency_distribution.png": ("Duration distribution", _latency_distribution),
    "cold_start.png": ("Cold starts", _cold_start),
    "burst_timeline.png": ("Burst timeline", _burst_timeline),
    "timeout_heatmap.png": ("Memory × timeout", _timeout_heatmap),
    "memory_headroom.png": ("Memory headroom", _memory_headroom),
}


def _search_curve(analysis: Analysis, name: str, vary: _Vary) -> tuple[Figure, str]:
    """The adaptive search: fitted mean duration with its 95% band over the whole range, the
    measured warm samples of the search, each measured size numbered in the order measured."""
    s = analysis.search
    if s is None or s.curve is None:
        raise _Skip("no fitted model (the search did not finish, or fewer than two sizes were measured)")
    fig = _new_figure(name)
    ax = fig.add_subplot()
    _style(ax)
    mem = np.array(s.curve["memory_mb"], float)
    pred = np.array([np.nan if v is None else v for v in s.curve["predicted_ms"]], float)
    low = np.array([np.nan if v is None else v for v in s.curve["low_ms"]], float)
    high = np.array([np.nan if v is None else v for v in s.curve["high_ms"]], float)
    ax.fill_between(mem, low, high, color=OKABE_ITO["sky_blue"], alpha=0.35, linewidth=0, label="model 95% band")
    ax.plot(mem, pred, color=OKABE_ITO["blue"], linewidth=1.6,
            label="model mean" + (" (does NOT fit: more sizes measured)" if s.poor_fit else ""))
    frame = analysis.invocations
    kept = frame[(frame["search_phase"] == "search") & (frame["status"] == "ok") & frame["in_statistics"]]
    ax.scatter(kept["memory_mb"], kept["duration_ms"], s=10, color=OKABE_ITO["black"], alpha=0.6, zorder=3,
               label=f"measured warm samples ({len(kept)})")
    order: dict[int, int] = {}
    for step in s.steps:
        order.setdefault(step.memory_mb, step.index + 1)
    means = {p.memory_mb: p.measured_ms for p in s.at_measured}
    for m, i in order.items():
        y = means.get(m)
        if y is not None:
            ax.annotate(str(i), (m, y), textcoords="offset points", xytext=(4, 6), fontsize=7)
    if s.pick_mb is not None and s.pick_mb in means:
        ax.scatter([s.pick_mb], [means[s.pick_mb]], s=90, facecolors="none", edgecolors=OKABE_ITO["vermillion"],
                   linewidths=2, zorder=4, label=f"pick {s.pick_mb} MB")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("memory (MB, log scale; numbers: order measured)")
    ax.set_ylabel("warm duration (ms, log scale)")
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    alt = (f"Adaptive search over {s.candidates} sizes: model mean duration with its 95% band from "
           f"{int(mem[0])} to {int(mem[-1])} MB, {len(kept)} measured warm samples at {len(order)} sizes; "
           f"pick {s.pick_mb} MB.")
    return fig, alt


def draw_charts(analysis: Analysis, out_dir: Path) -> tuple[Chart, ...]:
    """Draw every chart the data allows into `out_dir`; return all of them, drawn or skipped.

    A chart file left over from an earlier render of the same folder is removed when the chart is
    skipped now, so the folder never shows a picture the report no longer stands behind.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    vary = varying_dimensions(analysis)
    charts = []
    builders = dict(BUILDERS)
    if analysis.search is not None:
        builders = {SEARCH_CHART: ("Adaptive search: model and measurements", _search_curve), **builders}
    for file_name, (title, build) in builders.items():
        path = out / file_name
        try:
            fig, alt = build(analysis, file_name, vary)
        except _Skip as skip:
            path.unlink(missing_ok=True)
            charts.append(Chart(file_name, title, alt=f"{title}: not drawn — {skip}", skipped_reason=str(skip)))
            continue
        fig.savefig(path, dpi=DPI, format="png", metadata={"Software": "lambdabench"})
        width, height = SIZES[file_name]
        charts.append(Chart(file_name, title, alt=alt, path=path, width_px=round(width * DPI),
                            height_px=round(height * DPI)))
    return tuple(charts)


def expected_size_px(file_name: str) -> tuple[int, int]:
    """Pixel size of a drawn chart: its figure size x DPI."""
    width, height = SIZES[file_name]
    return (round(width * DPI), round(height * DPI))


__all__ = ["CHART_FILES", "Chart", "DPI", "OKABE_ITO", "STATUS_COLOURS", "draw_charts", "expected_size_px",
           "config_label", "fmt_ms", "fmt_usd", "varying_dimensions"]


def _current_label(analysis: Analysis, vary) -> str:
    """Legend text for the original configuration, saying which measurement stands for it."""
    label = f"current: {config_label(analysis.original, vary)}"
    if analysis.original_measured_as != analysis.original:
        label = (f"current: {analysis.original.label} "
                 f"(measured as {analysis.original_measured_as.label})")
    return label
