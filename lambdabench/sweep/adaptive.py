"""An adaptive sweep: the search picks the warm sizes to measure, then the finalists get every scenario.

`AdaptiveSweep` is the Driver's executor for `[sweep] search = "adaptive"` (any target):
1. Search phase. `tuning.search.search` runs on the warm scenario. Each `measure(memory_mb, n)` it
   makes becomes, through the driver, a configuration change when the size differs from the one
   deployed (followed by the warm scenario's warm-ups, at least one: a change retires every
   environment) and `n` sequential warm invocations with stable ids `<point>/search/<k>`, recorded
   with `search_phase = "search"` and the index of the step that took them; each step is recorded
   as a `search_step` event (size, invocations, reason, the model's prediction and its band, the
   mean measured) as soon as its samples are in, and the outcome as one `search_finished` event
   (pick, whether it was decided, confidence, the fit and its 95% band over the whole range,
   finalists, what a grid would have spent).
2. Finalist phase. The pick and its nearest measured neighbours below and above, at least 5% away
   in memory (the choice seen from both sides), run the scenario file's cold and burst scenarios, and warm samples up to the
   warm scenario's `invocations` (the search's own samples there count), as a grid sweep would.
   Records: `search_phase = "finalist"`.
On --resume the search is run again from the start; every sample already in results.jsonl is served
from there (the search is deterministic given its seed and its samples), so it asks for the same
sizes, and only what was not measured yet is invoked.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Sequence

import numpy as np

from lambdabench import pricing
from lambdabench.records import InvocationRecord, in_statistics
from lambdabench.results import read_results
from lambdabench.sweep.driver import Driver
from lambdabench.sweep.plan import Action, ConfigPoint, PlannedInvocation, build_plan, draw_payload, pending
from lambdabench.tuning.search import Objective, SearchConfig, SearchResult, Step, search
from lambdabench.tuning.samples import Sample

SEARCH = "search"
FINALIST = "finalist"
# The fitted curve stored in `search_finished`: this many sizes, spread evenly in log memory over the
# candidates (every candidate when there are fewer), enough for a smooth chart of a staircase.
CURVE_POINTS = 160


def warm_spec(scenario: Any) -> tuple[int, Any]:
    """The warm [[scenario]] entry the search runs on (the loader ensures there is one)."""
    for i, spec in enumerate(scenario.scenarios):
        if spec.kind == "warm":
            return i, spec
    raise ValueError("an adaptive sweep needs a warm scenario")


def objective_for(scenario: Any, region: str, architecture: str) -> Objective:
    r = scenario.recommend
    try:
        price = pricing.duration_price_gb_s(region, architecture)
    except Exception:  # noqa: BLE001 — a region without a USD table: rank on us-east-1's prices
        price = pricing.duration_price_gb_s("us-east-1", architecture)
    return Objective(strategy=r.strategy, balanced_weight=r.balanced_weight, p95_slo_ms=r.p95_slo_ms,
                     price_gb_s=price)


def grid_invocations(scenario: Any, sizes: int) -> dict[str, int]:
    """What a grid sweep of the same scenarios over `sizes` sizes would invoke: warm only, and in all."""
    per_warm = per_all = 0
    for spec in scenario.scenarios:
        if spec.kind == "warm":
            per_warm += spec.invocations + spec.warmup
            per_all += spec.invocations + spec.warmup
        elif spec.kind == "cold":
            per_all += spec.invocations
        else:
            per_all += spec.concurrency * spec.waves
    return {"sizes": sizes, "warm": per_warm * sizes, "total": per_all * sizes}


MAX_FINALISTS = 3  # the pick and one measured neighbour on each side (finalists())


def most_invocations(scenario: Any) -> int:
    """The most an adaptive sweep invokes: the search's budget (warm-ups included), then every
    scenario at up to MAX_FINALISTS sizes (their warm samples topped up from the search's)."""
    return scenario.sweep.budget_invocations + grid_invocations(scenario, MAX_FINALISTS)["total"]


def describe(scenario: Any) -> str:
    """One line for a dry run and the confirmation: range, budget, then the finalists."""
    sw = scenario.sweep
    return (f"adaptive search over {len(sw.memory_mb)} sizes ({sw.memory_mb[0]}-{sw.memory_mb[-1]} MB), "
            f"timeout {sw.timeout_s[0]} s, tolerance {sw.tolerance:.0%}: at most {sw.budget_invocations} "
            f"invocations (the warm-ups after each change of size included), then every scenario at up to "
            f"{MAX_FINALISTS} finalists; {most_invocations(scenario)} invocations at most in all")


def sample_of(record: InvocationRecord) -> Sample:
    duration = record.duration_ms if record.duration_ms is not None else 0.0
    billed = record.billed_duration_ms if record.billed_duration_ms is not None else math.ceil(duration)
    return Sample(record.memory_mb, float(duration), int(billed), record.status, record.init_duration_ms,
                  None if record.max_memory_used_mb is None else int(record.max_memory_used_mb), record.cold)


# A finalist neighbour is a different choice, not the pick's twin 1 MB away: at least this far in memory.
FINALIST_SPACING = 0.05


def finalists(result: SearchResult) -> tuple[int, ...]:
    """The pick and its nearest measured feasible neighbours below and above (at least
    FINALIST_SPACING away, so the choice is seen from both sides)."""
    if result.pick_mb is None:
        return ()
    measured = sorted({s.memory_mb for s in result.samples if s.ok} - set(result.infeasible_mb))
    if result.infeasible_at_or_below_mb is not None:
        measured = [m for m in measured if m > result.infeasible_at_or_below_mb]
    pick = result.pick_mb
    below = [m for m in measured if m <= pick * (1 - FINALIST_SPACING)]
    above = [m for m in measured if m >= pick * (1 + FINALIST_SPACING)]
    return tuple(sorted({result.pick_mb, *below[-1:], *above[:1]}))  # at most MAX_FINALISTS


def step_event(index: int, step: Step) -> dict[str, Any]:
    return {"index": index, "memory_mb": step.memory_mb, "invocations": step.invocations, "reason": step.reason,
            "predicted_ms": _round(step.predicted_ms), "predicted_low_ms": _round(step.predicted_low_ms),
            "predicted_high_ms": _round(step.predicted_high_ms), "measured_ms": _round(step.measured_ms),
            "statuses": dict(step.statuses)}


def finished_event(result: SearchResult, config: SearchConfig, scenario: Any, chosen: Sequence[int]) -> dict[str, Any]:
    cands = np.array(config.candidates_mb)
    if len(cands) > CURVE_POINTS:
        idx = np.unique(np.round(np.geomspace(1, len(cands), CURVE_POINTS)).astype(int) - 1)
        cands = cands[idx]
    curve = None
    fit = result.fit
    if fit is not None:
        point = fit.predict_ms(cands)
        low, high = fit.band_ms(cands)
        curve = {"memory_mb": [int(m) for m in cands], "predicted_ms": [_round(v) for v in point],
                 "low_ms": [_round(v) for v in low], "high_ms": [_round(v) for v in high]}
    at_measured = []
    by_size: dict[int, list[float]] = {}
    for smp in result.samples:
        if smp.ok:
            by_size.setdefault(smp.memory_mb, []).append(smp.duration_ms)
    sizes = sorted(by_size)
    if sizes:
        pred = fit.predict_ms(sizes) if fit is not None else [None] * len(sizes)
        low, high = fit.band_ms(sizes) if fit is not None else ([None] * len(sizes),) * 2
        at_measured = [{"memory_mb": m, "n": len(by_size[m]), "measured_ms": _round(float(np.mean(by_size[m]))),
                        "predicted_ms": _round(p), "low_ms": _round(lo), "high_ms": _round(hi)}
                       for m, p, lo, hi in zip(sizes, pred, low, high)]
    return {
        "pick_mb": result.pick_mb, "decided": result.decided, "confidence": round(result.confidence, 4),
        "invocations": result.invocations, "budget_invocations": config.budget_invocations,
        "tolerance": config.tolerance, "candidates": len(config.candidates_mb),
        "candidates_min_mb": int(config.candidates_mb[0]), "candidates_max_mb": int(config.candidates_mb[-1]),
        "poor_fit": result.poor_fit,
        "fit": None if fit is None else {"io_ms": _round(fit.params.io_ms), "cpu_ms": _round(fit.params.cpu_ms),
                                         "parallel_fraction": _round(fit.params.parallel_fraction),
                                         "chi2": _round(fit.chi2), "dof": fit.dof, "misfit": _round(fit.misfit),
                                         "cv": _round(fit.cv)},
        "curve": curve,
        "at_measured": at_measured,
        "infeasible_at_or_below_mb": result.infeasible_at_or_below_mb,
        "infeasible_mb": list(result.infeasible_mb),
        "finalists": list(chosen),
        "grid": grid_invocations(scenario, len(config.candidates_mb)),
    }


def _round(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 4)


class AdaptiveSweep:
    """The executor (see `Driver.run`); `available_mb` restricts the candidates (replay target)."""

    def __init__(self, scenario: Any, *, architecture: str, region: str,
                 available_mb: Sequence[int] | None = None):
        self.scenario = scenario
        sweep = scenario.sweep
        self.timeout_s = sweep.timeout_s[0]
        self.architecture = (sweep.architectures or (architecture,))[0]
        self.warm_index, self.warm = warm_spec(scenario)
        cands = sweep.memory_mb
        if available_mb is not None:
            have = set(available_mb)
            cands = tuple(m for m in cands if m in have)
        # Each change of size is followed by the warm scenario's warm-ups (at least one: a change
        # retires every environment); they are invocations, so the budget pays for them.
        self.warmups = max(1, self.warm.warmup)
        self.config = SearchConfig(candidates_mb=tuple(cands), budget_invocations=sweep.budget_invocations,
                                   tolerance=sweep.tolerance, seed=sweep.seed, switch_invocations=self.warmups)
        self.objective = objective_for(scenario, region, self.architecture)
        self.weights = [p.weight for p in sweep.payloads] or [1.0]
        self.result: SearchResult | None = None
        self.finalists: tuple[int, ...] = ()

    def point(self, memory_mb: int) -> ConfigPoint:
        return ConfigPoint(memory_mb, self.timeout_s, self.architecture)

    def __call__(self, driver: Driver, done_ids: set[str]) -> None:
        previous: dict[str, InvocationRecord] = {}
        events: list[dict[str, Any]] = []
        if driver.resume:
            results = read_results(driver.out_dir)
            previous = {r.invocation_id: r for r in results.records}
            events = results.events
        logged_steps = sum(1 for e in events if e.get("event") == "search_step")
        finished = any(e.get("event") == "search_finished" for e in events)
        counts: dict[int, int] = {}
        visits = [0]
        steps: list[Step] = []
        total = self.config.budget_invocations

        last = [None]  # the size the search measured last: a change is paid for with warm-ups

        def measure(memory_mb: int, n: int) -> list[Sample]:
            point = self.point(memory_mb)
            switched, last[0] = memory_mb != last[0], memory_mb
            got: list[Sample] = []
            for _ in range(n):
                k = counts.get(memory_mb, 0)
                counts[memory_mb] = k + 1
                iid = f"{point.config_id}/{SEARCH}/{k}"
                record = previous.get(iid)
                if record is None:
                    if switched or driver._state.config != point:
                        self._configure_warm(driver, point, visits)
                        switched = False
                    inv = PlannedInvocation(
                        invocation_id=iid, config=point, scenario="warm", scenario_index=self.warm_index, index=k,
                        wave=None, warmup=False, payload_index=draw_payload(self.scenario.sweep.seed, iid,
                                                                            self.weights),
                        expect_cold=False, search_phase=SEARCH, search_step=len(steps))
                    record = driver._invoke_and_record(inv)
                    driver._report_progress(total, f"search {point.config_id}")
                got.append(record)
            kept = [sample_of(r) for r in got if in_statistics(r)]
            # A sample that was not warm after all says nothing about the warm curve; keep it only when
            # it is all there is (the search needs an answer to every measurement).
            return kept or [sample_of(r) for r in got]

        def on_step(step: Step) -> None:
            if len(steps) >= logged_steps:
                driver._event("search_step", **step_event(len(steps), step))
            steps.append(step)

        self.result = search(measure, self.config, self.objective, on_step=on_step)
        self.finalists = finalists(self.result)
        if not finished:
            driver._event("search_finished", **finished_event(self.result, self.config, self.scenario,
                                                              self.finalists))
        self._run_finalists(driver, done_ids, counts)

    def _configure_warm(self, driver: Driver, point: ConfigPoint, visits: list[int]) -> None:
        driver._after_config()  # [hooks] see each size the search visits as a configuration
        driver._configure(point)
        driver._before_config(point)
        visits[0] += 1
        # A configuration change retires every environment: warm one up before measuring (recorded, never
        # in statistics), as the warm scenario does.
        for i in range(self.warmups):
            iid = f"{point.config_id}/{SEARCH}/r{driver._resume_round}v{visits[0]}/warmup-{i}"
            driver._invoke_and_record(PlannedInvocation(
                invocation_id=iid, config=point, scenario="warm", scenario_index=self.warm_index, index=i,
                wave=None, warmup=True, payload_index=draw_payload(self.scenario.sweep.seed, iid, self.weights),
                expect_cold=None if i == 0 else False, search_phase=SEARCH))

    def _run_finalists(self, driver: Driver, done_ids: set[str], counts: dict[int, int]) -> None:
        if not self.finalists:
            return
        sweep = dataclasses.replace(self.scenario.sweep, memory_mb=self.finalists, search="grid",
                                    architectures=(self.architecture,), timeout_s=(self.timeout_s,))
        plan = build_plan(dataclasses.replace(self.scenario, sweep=sweep), default_architecture=self.architecture)
        ok_search = {m: 0 for m in self.finalists}
        for s in self.result.samples:
            if s.ok and s.memory_mb in ok_search:
                ok_search[s.memory_mb] += 1
        actions: list[Action] = []
        for action in plan.actions:
            invs = tuple(dataclasses.replace(inv, search_phase=FINALIST) for inv in action.invocations
                         # the search's warm samples at this size count towards the warm scenario
                         if not (inv.scenario == "warm" and not inv.warmup
                                 and inv.index < ok_search[inv.config.memory_mb]))
            if action.invocations and not invs:
                continue
            actions.append(dataclasses.replace(action, invocations=invs))
        plan = dataclasses.replace(plan, actions=tuple(actions))
        driver.plan = plan  # burst samples are judged against this plan's concurrency
        total = self.result.invocations + plan.total_invocations
        for action in pending(plan.actions, done_ids):
            driver._perform(action, total)
