"""What an adaptive sweep's search did, read back from its results file (None for a grid sweep).

The search records itself as it goes (sweep/adaptive.py): one `search_step` event per step (size,
invocations, reason, the model's prediction before measuring), one `search_finished` event (pick,
decided, confidence, the fitted curve and its 95% band over the whole range, prediction against
measurement at every measured size, finalists, what a grid over the same range would have spent),
and records tagged `search_phase` "search" or "finalist". This module only reads them; the counts of
invocations come from the records themselves, so they are true also for a partial sweep.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lambdabench.records import InvocationRecord


@dataclass(frozen=True)
class SearchStep:
    index: int
    memory_mb: int
    invocations: int
    reason: str
    predicted_ms: float | None
    predicted_low_ms: float | None
    predicted_high_ms: float | None
    measured_ms: float | None
    statuses: dict[str, int]


@dataclass(frozen=True)
class FitPoint:
    memory_mb: int
    n: int
    measured_ms: float | None
    predicted_ms: float | None
    low_ms: float | None
    high_ms: float | None

    @property
    def error(self) -> float | None:
        """Relative error of the prediction (predicted / measured - 1)."""
        if self.predicted_ms is None or not self.measured_ms:
            return None
        return self.predicted_ms / self.measured_ms - 1


@dataclass(frozen=True)
class SearchSummary:
    finished: bool
    pick_mb: int | None
    decided: bool
    confidence: float | None
    tolerance: float | None
    budget_invocations: int | None
    candidates: int | None
    range_mb: tuple[int, int] | None
    poor_fit: bool
    fit: dict[str, Any] | None
    curve: dict[str, list] | None  # memory_mb, predicted_ms, low_ms, high_ms
    at_measured: tuple[FitPoint, ...]
    steps: tuple[SearchStep, ...]
    finalists: tuple[int, ...]
    search_invocations: int      # records of the search phase (warm-ups included)
    finalist_invocations: int
    grid: dict[str, int] | None  # sizes, warm, total: a grid sweep over the same candidates

    @property
    def total_invocations(self) -> int:
        return self.search_invocations + self.finalist_invocations

    @property
    def share_of_grid(self) -> float | None:
        if not self.grid or not self.grid.get("total"):
            return None
        return self.total_invocations / self.grid["total"]

    def to_json(self) -> dict[str, Any]:
        return {
            "finished": self.finished, "pick_mb": self.pick_mb, "decided": self.decided,
            "confidence": self.confidence, "tolerance": self.tolerance,
            "budget_invocations": self.budget_invocations, "candidates": self.candidates,
            "range_mb": list(self.range_mb) if self.range_mb else None, "poor_fit": self.poor_fit,
            "fit": self.fit, "curve": self.curve,
            "at_measured": [p.__dict__ | {"error": p.error} for p in self.at_measured],
            "steps": [s.__dict__ for s in self.steps], "finalists": list(self.finalists),
            "search_invocations": self.search_invocations, "finalist_invocations": self.finalist_invocations,
            "grid": self.grid, "share_of_grid": self.share_of_grid,
        }


def is_adaptive(header: dict[str, Any]) -> bool:
    sweep = (header.get("scenario") or {}).get("sweep") or {}
    return sweep.get("search") == "adaptive"


def search_summary(header: dict[str, Any], events: list[dict[str, Any]],
                   records: tuple[InvocationRecord, ...]) -> SearchSummary | None:
    if not is_adaptive(header):
        return None
    steps = tuple(
        SearchStep(int(e.get("index", i)), int(e["memory_mb"]), int(e.get("invocations") or 0),
                   str(e.get("reason") or ""), e.get("predicted_ms"), e.get("predicted_low_ms"),
                   e.get("predicted_high_ms"), e.get("measured_ms"), dict(e.get("statuses") or {}))
        for i, e in enumerate(e for e in events if e.get("event") == "search_step" and "memory_mb" in e))
    done = next((e for e in reversed(events) if e.get("event") == "search_finished"), None)
    phases = [r.search_phase for r in records]
    d = done or {}
    lo, hi = d.get("candidates_min_mb"), d.get("candidates_max_mb")
    return SearchSummary(
        finished=done is not None, pick_mb=d.get("pick_mb"), decided=bool(d.get("decided")),
        confidence=d.get("confidence"), tolerance=d.get("tolerance"),
        budget_invocations=d.get("budget_invocations"), candidates=d.get("candidates"),
        range_mb=(int(lo), int(hi)) if lo is not None and hi is not None else None,
        poor_fit=bool(d.get("poor_fit")), fit=d.get("fit"), curve=d.get("curve"),
        at_measured=tuple(FitPoint(int(p["memory_mb"]), int(p.get("n") or 0), p.get("measured_ms"),
                                   p.get("predicted_ms"), p.get("low_ms"), p.get("high_ms"))
                          for p in d.get("at_measured") or []),
        steps=steps, finalists=tuple(int(m) for m in d.get("finalists") or []),
        search_invocations=phases.count("search"), finalist_invocations=phases.count("finalist"),
        grid=d.get("grid"),
    )


def fit_sentence(summary: SearchSummary) -> str:
    """One sentence on whether the model describes the measurements."""
    fit = summary.fit
    if fit is None:
        return "No model was fitted (fewer than two feasible sizes measured)."
    if summary.poor_fit:
        return (f"The model does NOT fit these measurements (residuals beyond their noise: chi2 {fit['chi2']:.1f} "
                f"on {fit['dof']} dof, misfit {fit['misfit']:.0%}); the search fell back to measuring more sizes "
                "and picked a measured size, not a predicted one.")
    return (f"The model fits (chi2 {fit['chi2']:.1f} on {fit['dof']} dof): {fit['cpu_ms']:.1f} ms of CPU at one "
            f"vCPU, {fit['io_ms']:.1f} ms that does not scale, parallel fraction {fit['parallel_fraction']:.1f}.")


def outcome_sentence(summary: SearchSummary) -> str:
    if not summary.finished:
        return f"The search did not finish ({summary.search_invocations} invocations so far): resume the sweep."
    if summary.pick_mb is None:
        return "The search found no feasible size (every size measured failed)."
    how = ("decided" if summary.decided else "stopped at its budget, undecided")
    conf = f"{summary.confidence:.0%}" if summary.confidence is not None else "?"
    tol = f"{summary.tolerance:.0%}" if summary.tolerance is not None else "?"
    return (f"The search {how}: {summary.pick_mb} MB, {conf} sure to be within {tol} of the best of "
            f"{summary.candidates} candidate sizes.")


def invocations_sentence(summary: SearchSummary) -> str:
    grid = summary.grid or {}
    share = summary.share_of_grid
    text = (f"{summary.total_invocations} invocations ({summary.search_invocations} by the search, warm-ups "
            f"included, {summary.finalist_invocations} at the finalists {', '.join(map(str, summary.finalists))} MB)")
    if grid:
        text += (f" against {grid['total']} for a grid of the same scenarios over the same {grid['sizes']} sizes "
                 f"({share:.1%} of it)" if share is not None else "")
    return text + "."
