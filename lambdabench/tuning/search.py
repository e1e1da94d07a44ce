"""The adaptive memory search: measure where it best resolves which size wins, stop when decided.

Owns the search loop, the strategies' scores over model predictions, the stopping rule and the
record of why each size was measured. Measurements come from a `measure(memory_mb, n)` callable
returning `Sample`s (a live sweep, or `replay.ReplaySource.measure`), so the loop has no I/O and is
deterministic given its seed and its source.

It starts with `initial_sizes` sizes spread evenly in log memory (ends included). Each round then
fits the model (`model.fit_curve`) to the ok samples of feasible sizes and draws replicate curves:
bootstrap parameters, times a discrepancy term (the relative residuals at measured sizes
interpolated in log memory, plus their dof-corrected scale, never below the noise of the measured
means, as Student-t noise on the fit's dof growing with the distance to the nearest measured size),
and at measured sizes blended with the measured mean by precision.
Every feasible candidate is scored under the strategy; the leader is the lowest mean score. The
choice is decided when the leader has been measured (`min_samples`), at least three sizes have (so
a misfit can show), and in at least `confidence` of the replicates the leader's score is within
`tolerance` of the best score. Until then the next measurement goes to the leader if it is
unmeasured or under-sampled, else to the challenger with the largest expected gain over it beyond
the tolerance (or the leader itself when its own uncertainty dominates). When the model does not
fit (residuals beyond their noise), the residual scale keeps unmeasured sizes plausible, so they
get measured, one screening sample each: the fallback is to measure more sizes, never to trust
the curve, and the pick is always a measured size with min_samples.

When every candidate not yet measured fits in what is left of the budget (one screening sample
each, with its change of size, in at most SCREEN_SHARE of what remains after the pick's
confirmation), the search screens them all before it decides: a model fitted to a few sizes
cannot see a size that departs from it alone (one run of a bimodal function in its fast mode), and
with few candidates measuring each is cheaper than any rule that would explain such a size away.
A range too wide to screen (every MB of 128-3008) is left to the model.

Where the model does not fit, or one size's samples spread beyond MODAL_CV, a size's own samples
are its only evidence and runs of one size can fall in modes 2-10x apart: the pick then needs
`confirm_samples` (8: a mode in a third of the runs shows with probability > 96%) before the
choice is decided, and the last of the budget goes to confirming the leader. A confirmed size
within tolerance of the best at the confidence decides even when an unconfirmed near-tie has the
lower mean. Undecided at the end of the budget, the pick is the measured size best by its own
samples' mean plus one standard error (UNDECIDED_Z), so a widely spread size does not win over a
tightly known one at about the same mean.

OOM and timeouts make a size and every smaller size infeasible (less memory has less CPU and less
room); an error makes that size infeasible. The search never stops undecided before the budget.

Strategies (as `analysis.recommend`): cost (mean cost per invocation, request fee included),
speed (mean duration), balanced (Power Tuning's w*cost/maxCost + (1-w)*duration/maxDuration over
the feasible candidates), slo (cheapest with predicted p95 <= p95_slo_ms).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Callable, Mapping, Sequence

import numpy as np

from lambdabench import limits, pricing
from lambdabench.errors import UsageError
from lambdabench.tuning import model as mdl
from lambdabench.tuning.samples import ERROR, OOM, TIMEOUT, Sample

Measure = Callable[[int, int], Sequence[Sample]]

STRATEGIES = ("cost", "speed", "balanced", "slo")
DEFAULT_TOLERANCE = 0.02
DEFAULT_CONFIDENCE = 0.95
# Sizes needing a fit with a degree of freedom left over, so a misfit can show: (io, cpu) + 1.
MIN_SIZES_TO_DECIDE = 3
SLO_MISS_PENALTY = 1e6  # a score no size meeting the SLO can reach


@dataclass(frozen=True)
class Objective:
    """What the search optimises (the scenario's [recommend] section)."""

    strategy: str = "cost"
    balanced_weight: float = 0.5
    p95_slo_ms: float | None = None
    price_gb_s: float = pricing.duration_price_gb_s()

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise UsageError(f"unknown strategy {self.strategy!r}", f"use one of: {', '.join(STRATEGIES)}")
        if self.strategy == "slo" and (self.p95_slo_ms is None or self.p95_slo_ms <= 0):
            raise UsageError("strategy slo needs p95_slo_ms", "set [recommend] p95_slo_ms to a positive number of ms")
        if not 0 <= self.balanced_weight <= 1:
            raise UsageError(f"balanced_weight {self.balanced_weight!r} is outside 0..1", "use a weight from 0 to 1")


@dataclass(frozen=True)
class SearchConfig:
    candidates_mb: tuple[int, ...]
    budget_invocations: int
    tolerance: float = DEFAULT_TOLERANCE
    confidence: float = DEFAULT_CONFIDENCE
    seed: int = 0
    min_samples: int = 3          # at a size before it can be the pick
    # At the pick before the choice counts as decided, and what the last of the budget is kept
    # for: a size whose runs fall in two modes (one run in three at 10x) shows its slow mode in
    # 8 samples with probability 1 - (2/3)^8 > 96%, in 3 with only 70%.
    confirm_samples: int = 8
    initial_sizes: int = 5        # spread evenly in log memory over the range, ends included
    initial_samples: int = 2      # at each of them (the pick gets min_samples later)
    step_samples: int = 2         # added to a size already measured
    # Invocations a change of size costs before its first sample (a sweep's warm-up after the
    # function is reconfigured): they count against the budget like samples do.
    switch_invocations: int = 0
    replicates: int = mdl.BOOTSTRAP_REPLICATES

    def __post_init__(self) -> None:
        if not self.candidates_mb:
            raise UsageError("no candidate memory sizes", "give memory_mb as a list or as { min = 128, max = 3008 }")
        if self.budget_invocations < 1:
            raise UsageError(f"budget_invocations {self.budget_invocations!r} must be >= 1",
                             "set budget_invocations to the most invocations the search may spend")
        if not 0 <= self.tolerance < 1:
            raise UsageError(f"tolerance {self.tolerance!r} is outside 0..1", "use a fraction such as 0.02 (2%)")


def candidates_from(spec: Sequence[int] | Mapping[str, int]) -> tuple[int, ...]:
    """Candidates from a list of sizes or a range {min, max} in Lambda's 1 MB steps."""
    if isinstance(spec, Mapping):
        unknown = set(spec) - {"min", "max"}
        if unknown or "min" not in spec or "max" not in spec:
            raise UsageError(f"memory range {dict(spec)!r} needs exactly the keys min and max",
                             "write memory_mb = { min = 128, max = 3008 }")
        lo, hi = spec["min"], spec["max"]
        for v in (lo, hi):
            if not limits.is_valid_memory_mb(v):
                raise UsageError(f"memory {v!r} MB is outside Lambda's range",
                                 f"use whole MB from {limits.MEMORY_MIN_MB} to {limits.MEMORY_MAX_MB}")
        if lo > hi:
            raise UsageError(f"memory range min {lo} is above max {hi}", "swap min and max")
        return tuple(range(lo, hi + 1, limits.MEMORY_STEP_MB))
    sizes = list(spec)
    for v in sizes:
        if not limits.is_valid_memory_mb(v):
            raise UsageError(f"memory {v!r} MB is outside Lambda's range",
                             f"use whole MB from {limits.MEMORY_MIN_MB} to {limits.MEMORY_MAX_MB}")
    return tuple(sorted(set(sizes)))


@dataclass(frozen=True)
class Step:
    """One measurement the search took and why."""

    memory_mb: int
    invocations: int
    reason: str
    predicted_ms: float | None        # model's mean duration before measuring (None: no model yet)
    predicted_low_ms: float | None    # its 95% band
    predicted_high_ms: float | None
    measured_ms: float | None         # mean of this size's ok samples so far (None: none ok)
    statuses: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class SearchResult:
    pick_mb: int | None               # None: no feasible size was found
    decided: bool                     # the stopping rule was met (else the budget ran out)
    confidence: float                 # P(pick within tolerance of the best) at the end
    invocations: int
    steps: tuple[Step, ...]
    fit: mdl.CurveFit | None
    infeasible_at_or_below_mb: int | None   # highest size with an OOM or timeout
    infeasible_mb: tuple[int, ...]           # sizes with errors
    samples: tuple[Sample, ...] = field(repr=False)

    @property
    def poor_fit(self) -> bool:
        return bool(self.fit and self.fit.poor_fit)


class _State:
    def __init__(self, config: SearchConfig):
        self.cands = np.array(config.candidates_mb)
        self.samples: list[Sample] = []
        self.floor: int | None = None
        self.bad: set[int] = set()

    def feasible(self) -> np.ndarray:
        ok = np.ones(len(self.cands), dtype=bool)
        if self.floor is not None:
            ok &= self.cands > self.floor
        if self.bad:
            ok &= ~np.isin(self.cands, list(self.bad))
        return ok

    def count(self, memory_mb: int) -> int:
        return sum(1 for s in self.samples if s.memory_mb == memory_mb)

    def add(self, memory_mb: int, got: Sequence[Sample]) -> None:
        for s in got:
            self.samples.append(s)
            if s.status in (OOM, TIMEOUT):
                self.floor = max(self.floor or 0, memory_mb)
            elif s.status == ERROR:
                self.bad.add(memory_mb)


def _nearest(cands: np.ndarray, mask: np.ndarray, target: float) -> int | None:
    idx = np.flatnonzero(mask)
    if len(idx) == 0:
        return None
    return int(cands[idx[np.argmin(np.abs(cands[idx] - target))]])


@dataclass(frozen=True)
class _Assessment:
    fit: mdl.CurveFit
    cols: np.ndarray          # feasible candidate indices
    scores: np.ndarray        # (B, len(cols))
    leader: int               # index into cols
    confidence: float
    within: np.ndarray        # (len(cols),) P(that size within tolerance of the best)


def _assess(state: _State, grid: mdl.ModelGrid, stats: list[mdl.SizeStats], objective: Objective,
            config: SearchConfig, rng: np.random.Generator) -> _Assessment:
    oks = [s for s in state.samples if s.ok]
    offset = float(np.mean([s.billed_duration_ms - s.duration_ms for s in oks])) if oks else 0.5
    fit = mdl.fit_curve(grid, stats, rng, billing_offset_ms=offset, replicates=config.replicates)
    cols = np.flatnonzero(state.feasible())
    mem = state.cands[cols]
    dur = fit.replicates_ms(mem)                                    # (B, M)
    dur = dur * np.exp(_discrepancy(fit, stats, mem, rng, dur.shape))
    # At measured sizes, blend each replicate with the measured mean by precision.
    by_mem = {st.memory_mb: st for st in stats}
    for j, m in enumerate(mem):
        st = by_mem.get(int(m))
        if st is None:
            continue
        se = _sample_sd(st, fit.cv) / math.sqrt(st.n)
        emp = st.mean_ms + se * rng.standard_normal(dur.shape[0])
        v_mod = float(np.var(dur[:, j])) + (fit.misfit * st.mean_ms) ** 2 + 1e-12
        v_emp = se ** 2
        dur[:, j] = (dur[:, j] / v_mod + emp / v_emp) / (1 / v_mod + 1 / v_emp)
    dur = np.maximum(dur, 0.0)
    scores = _scores(objective, mem, dur, fit)
    mean_score = scores.mean(axis=0)
    leader = int(np.argmin(mean_score))
    best = scores.min(axis=1)
    within = np.mean(scores <= (1 + config.tolerance) * best[:, None] + 1e-15, axis=0)
    return _Assessment(fit, cols, scores, leader, float(within[leader]), within)


# The model is a model: between measured sizes the truth can depart from it by about as much as
# it departs at the measured ones. The relative residuals are interpolated (in log memory) from the
# measured neighbours, and sizes far from any measured one carry that residual scale as noise,
# growing to the full scale DISCREPANCY_LENGTH (in ln memory, ~20%) away. Before three sizes are
# measured the scale cannot be estimated and DEFAULT_DISCREPANCY stands in.
DISCREPANCY_LENGTH = 0.2
DEFAULT_DISCREPANCY = 0.05
MIN_DISCREPANCY = 0.02
ROUGH_MISFIT = 0.1
MAX_T = 6.0


def _discrepancy(fit: mdl.CurveFit, stats: list[mdl.SizeStats], mem: np.ndarray,
                 rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    meas = np.array([st.memory_mb for st in stats], dtype=float)
    y = np.array([st.mean_ms for st in stats])
    pred = np.maximum(fit.predict_ms(meas.astype(int)), 1e-6)
    r = np.log(np.maximum(y, 1e-6) / pred)
    noise = np.array([_sample_sd(st, fit.cv) / math.sqrt(st.n) / max(st.mean_ms, 1e-6) for st in stats])
    resolution = float(np.mean(noise ** 2))
    if fit.dof >= 1:
        # Residuals of a fit understate the discrepancy by the parameters they absorbed. A
        # discrepancy below the noise of the measured means cannot be told from zero, so it is
        # never assumed smaller than that noise: samples too noisy to show the curve's shape do
        # not make the model's shape certain.
        scale = math.sqrt(max(MIN_DISCREPANCY ** 2, float(np.sum(r ** 2) / fit.dof) - resolution, resolution))
    else:
        scale = max(DEFAULT_DISCREPANCY, math.sqrt(resolution))
    lm, lmm = np.log(mem.astype(float)), np.log(meas)
    r_at = np.interp(lm, lmm, r)
    dist = np.min(np.abs(lm[:, None] - lmm[None, :]), axis=1)
    # A curve the model does not describe at all (relative misfit beyond ROUGH_MISFIT) gives no
    # reason to believe neighbours of a measured size resemble it: full spread everywhere
    # unmeasured. Nor do means too noisy to show such a misfit (their relative noise beyond
    # ROUGH_MISFIT): a jagged curve would look smooth through them.
    rough = (fit.poor_fit and fit.misfit > ROUGH_MISFIT) or math.sqrt(resolution) > ROUGH_MISFIT
    near = 1.0 if rough else 0.0
    spread = scale * np.where(dist > 0, np.maximum(near, np.minimum(1.0, dist / DISCREPANCY_LENGTH)), 0.0)
    # The scale is estimated from dof residuals, so the departure at a size not yet measured is
    # Student-t with dof degrees of freedom, not Gaussian: with few sizes measured its tails are
    # heavy, and a jagged curve's one size far below the model stays plausible until measured.
    # Clipped at MAX_T scale units: with one dof the t is a Cauchy, whose far tail (a size a
    # thousand times off the model) no CPU curve has and which would overflow the exponential.
    z = rng.standard_t(fit.dof, shape) if fit.dof >= 1 else rng.standard_normal(shape)
    z = np.clip(z, -MAX_T, MAX_T)
    return r_at[None, :] + spread[None, :] * z


# Pseudo-samples of the pooled noise a size's own spread is shrunk towards: three samples at a
# size on a stair edge (bimodal durations) must not look as tight as the pooled noise says.
PRIOR_SAMPLES = 3


def _sample_sd(st: mdl.SizeStats, cv: float) -> float:
    pooled = cv * st.mean_ms
    own = (st.n - 1) * st.sd_ms ** 2
    return max(math.sqrt((own + PRIOR_SAMPLES * pooled ** 2) / (st.n - 1 + PRIOR_SAMPLES)), pooled, 1e-6)


def _scores(objective: Objective, mem: np.ndarray, dur: np.ndarray, fit: mdl.CurveFit) -> np.ndarray:
    cost = mdl.cost_usd(mem[None, :], dur + fit.billing_offset_ms, objective.price_gb_s)
    if objective.strategy == "cost":
        return cost
    if objective.strategy == "speed":
        return dur
    if objective.strategy == "balanced":
        w = objective.balanced_weight
        return w * cost / cost.max(axis=1, keepdims=True) + (1 - w) * dur / dur.max(axis=1, keepdims=True)
    miss = dur * fit.p95_ratio > objective.p95_slo_ms
    return cost + miss * SLO_MISS_PENALTY


def score_measured(objective: Objective, stats: Sequence[mdl.SizeStats], price_gb_s: float | None = None) -> dict[int, float]:
    """The strategy's score of each measured size from its own samples (lower is better)."""
    if not stats:
        return {}
    mem = np.array([st.memory_mb for st in stats])
    dur = np.array([st.mean_ms for st in stats])
    billed = np.array([st.mean_billed_ms for st in stats])
    cost = mdl.cost_usd(mem, billed, objective.price_gb_s if price_gb_s is None else price_gb_s)
    if objective.strategy == "cost":
        s = cost
    elif objective.strategy == "speed":
        s = dur
    elif objective.strategy == "balanced":
        w = objective.balanced_weight
        s = w * cost / cost.max() + (1 - w) * dur / dur.max()
    else:
        p95 = np.array([st.p95_ms for st in stats])
        s = cost + (p95 > objective.p95_slo_ms) * SLO_MISS_PENALTY
    return {int(m): float(v) for m, v in zip(mem, s)}


def search(measure: Measure, config: SearchConfig, objective: Objective = Objective(), *,
           on_step: Callable[[Step], None] | None = None) -> SearchResult:
    """Run the adaptive search to a decided choice or the end of the budget.

    `on_step` is told of each step as soon as its samples are in (a sweep records it as it happens)."""
    rng = np.random.default_rng(config.seed)
    state = _State(config)
    cands = state.cands
    steps: list[Step] = []
    used = 0
    current: int | None = None  # the size measured last (changing it costs switch_invocations)
    grid: mdl.ModelGrid | None = None
    assessment: _Assessment | None = None
    decided = False
    decided_col = -1
    initial = _initial_design(cands, config.initial_sizes)
    initial_reasons = {m: f"initial design: {i + 1} of {len(initial)} sizes spread evenly in log memory"
                       for i, m in enumerate(initial)}

    while used < config.budget_invocations:
        feasible = state.feasible()
        if not feasible.any():
            break
        stats = [st for st in mdl.size_stats(state.samples) if feasible[np.searchsorted(cands, st.memory_mb)]]
        choice: tuple[int, str] | None = None
        prediction: tuple[float, float, float] | None = None
        pending = [m for m in initial if feasible[np.searchsorted(cands, m)] and state.count(m) == 0]
        if pending:
            choice = (pending[0], initial_reasons[pending[0]])
        elif len(stats) < 2:
            choice = _explore_for_second_size(state, stats)
        else:
            top, bottom = mdl.cpu_upper_bound_ms(stats), mdl.cpu_lower_bound_ms(stats)
            if grid is None or top > grid.cpu[-1] or bottom < grid.cpu[1]:
                # Rebuilt only when the data leaves the grid's span (each build is the costly part).
                grid = mdl.ModelGrid(cands, top, bottom)
            assessment = _assess(state, grid, stats, objective, config, rng)
            leader_mb = int(cands[assessment.cols[assessment.leader]])
            measured_leader = leader_mb in {st.memory_mb for st in stats}
            confirm = _confirm_target(assessment.fit, config)
            short = confirm - state.count(leader_mb)
            sure = assessment.confidence >= config.confidence and len(stats) >= MIN_SIZES_TO_DECIDE
            enough = len(stats) >= MIN_SIZES_TO_DECIDE
            settled = _confirmed_pick(state, assessment, confirm, config.confidence) if enough else None
            screen = _screening_target(state, assessment, config, used, confirm)
            if screen is not None:
                # Every candidate not yet measured fits in the budget: measure them rather than
                # let the model rule any out (no decision until none is left unmeasured), once
                # the leader has its min_samples.
                ready = measured_leader and state.count(leader_mb) >= config.min_samples
                choice = screen if ready else _next_size(state, assessment, stats, config)
            elif settled is not None:
                # A confirmed size within tolerance of the best at the confidence decides, even if
                # an unconfirmed near-tie now has the lower mean (re-confirming every near-tie that
                # takes the lead would spend the budget on sizes the tolerance does not separate).
                decided, decided_col = True, settled
                break
            elif measured_leader and short > 0 and state.count(leader_mb) >= config.min_samples and (
                    sure or config.budget_invocations - used - config.step_samples < short):
                # The choice looks decided (or one more ordinary step would leave too little of
                # the budget to confirm it): the pick's mean from a few samples can miss a slow
                # mode, so confirm it first.
                choice = (leader_mb, f"confirming the pick with {confirm} samples (a slow mode in a "
                                     f"third of its runs would show)")
            else:
                choice = _next_size(state, assessment, stats, config)
        if choice is None:
            break
        memory_mb, reason = choice
        if assessment is not None and grid is not None:
            point = float(assessment.fit.predict_ms([memory_mb])[0])
            lo, hi = assessment.fit.band_ms([memory_mb])
            prediction = (point, float(lo[0]), float(hi[0]))
        have = state.count(memory_mb)
        want = max(config.min_samples - have, config.step_samples) if have else config.min_samples
        if reason.startswith("initial design"):
            want = config.initial_samples
        elif reason.startswith(SCREENING):
            want = 1
        elif reason.startswith("confirming the pick"):
            want = _confirm_target(assessment.fit, config) - have
        elif (have == 0 and assessment is not None and assessment.fit.poor_fit
              and memory_mb != int(cands[assessment.cols[assessment.leader]])):
            # The fallback for a curve the model does not fit is breadth: one sample screens a
            # challenger (one that then looks best is topped up to min_samples before it can be
            # picked). The predicted best itself gets min_samples at once: one unlucky sample
            # there would hide the size the model points at.
            want = 1
        switch = config.switch_invocations if memory_mb != current else 0
        want = min(want, config.budget_invocations - used - switch)
        if want < 1:
            break  # what is left of the budget cannot pay for a change of size and one sample
        got: list[Sample] = []
        if have == 0:
            # One invocation first: an OOM or timeout there ends the size without wasting more.
            got += list(measure(memory_mb, 1))
            if got and all(s.ok for s in got) and want > 1:
                got += list(measure(memory_mb, want - 1))
        else:
            got += list(measure(memory_mb, want))
        if not got:
            raise RuntimeError(f"measure({memory_mb}, n) returned no samples")
        used += len(got) + switch
        current = memory_mb
        state.add(memory_mb, got)
        oks = [s.duration_ms for s in state.samples if s.memory_mb == memory_mb and s.ok]
        counts: dict[str, int] = {}
        for s in got:
            counts[s.status] = counts.get(s.status, 0) + 1
        steps.append(Step(memory_mb, len(got), reason,
                          *(prediction if prediction else (None, None, None)),
                          float(np.mean(oks)) if oks else None, tuple(sorted(counts.items()))))
        if on_step is not None:
            on_step(steps[-1])

    feasible = state.feasible()
    stats = [st for st in mdl.size_stats(state.samples) if feasible[np.searchsorted(cands, st.memory_mb)]]
    pick, confidence, fit = None, 0.0, None
    if stats:
        if len(stats) >= 2 and grid is not None and not decided:
            assessment = _assess(state, grid, stats, objective, config, rng)
        if assessment is not None:
            fit = assessment.fit
            leader_mb = int(cands[assessment.cols[assessment.leader]])
            measured = {st.memory_mb for st in stats}
            if decided:
                pick = int(cands[assessment.cols[decided_col]])
                confidence = float(assessment.within[decided_col])
            else:
                # Undecided at the end of the budget: a measured size (never a model guess), the
                # best by its own samples' upper UNDECIDED_Z standard error bound, so a size whose
                # few samples spread widely (runs in modes far apart, the slow one under-drawn) is
                # not preferred to one known tightly at about the same mean.
                padded = []
                for st in stats:
                    # its own spread (shrunk towards the pooled noise, not floored at it: a
                    # size measured tightly many times is known tightly)
                    own = (st.n - 1) * st.sd_ms ** 2 + PRIOR_SAMPLES * (fit.cv * st.mean_ms) ** 2
                    se = math.sqrt(own / (st.n - 1 + PRIOR_SAMPLES)) / math.sqrt(st.n)
                    padded.append(replace(st, mean_ms=st.mean_ms + UNDECIDED_Z * se,
                                          mean_billed_ms=st.mean_billed_ms + UNDECIDED_Z * se))
                sc = score_measured(objective, padded)
                pick = min(sc, key=sc.get)
                j = int(np.flatnonzero(cands[assessment.cols] == pick)[0])
                confidence = float(assessment.within[j])
        else:
            scores = score_measured(objective, stats)
            pick = min(scores, key=scores.get)
    return SearchResult(pick, decided, confidence, used, tuple(steps), fit, state.floor,
                        tuple(sorted(state.bad)), tuple(state.samples))


MODAL_CV = 0.3
UNDECIDED_Z = 1.0


SCREENING = "screening every candidate"
# Screening may take at most this share of what is left after the pick's confirmation: the rest
# separates the sizes the screening leaves close (a curve with many near-ties needs it).
SCREEN_SHARE = 0.5


def _screening_target(state: _State, a: _Assessment, config: SearchConfig, used: int,
                      confirm: int) -> tuple[int, str] | None:
    """The next unmeasured candidate to screen with one sample, when screening every unmeasured one
    takes at most SCREEN_SHARE of what is left after the pick's confirmation and one separating
    step; else None.

    A model fitted to a few sizes cannot see a size that departs from it alone (one run of a
    bimodal function in its fast mode, a size whose placement is luckier than its neighbours'):
    with few candidates or a large budget, measuring each is cheaper than any rule that would
    explain such a size away. The one most likely to beat the leader goes first."""
    mems = state.cands[a.cols]
    measured = {s.memory_mb for s in state.samples}
    unmeasured = [j for j, m in enumerate(mems.tolist()) if m not in measured]
    if not unmeasured:
        return None
    leader_mb = int(mems[a.leader])
    reserve = max(0, confirm - state.count(leader_mb)) + config.step_samples
    cost_each = 1 + config.switch_invocations
    left = config.budget_invocations - used - reserve
    if len(unmeasured) * cost_each > SCREEN_SHARE * left:
        return None
    lead = a.scores[:, a.leader][:, None]
    beats = np.mean(a.scores[:, unmeasured] < lead, axis=0)
    j = unmeasured[int(np.argmax(beats))]
    return int(mems[j]), (f"{SCREENING}: the {len(unmeasured)} not measured yet fit in the budget "
                          f"({config.budget_invocations - used} invocations left), so the model rules "
                          f"none out (P beats {leader_mb} MB={beats.max():.2f})")


def _confirm_target(fit: mdl.CurveFit, config: SearchConfig) -> int:
    """Samples the pick needs. Where the model fits, min_samples: the curve through its
    neighbours vouches for a size's mean. Where it does not (poor_fit), a size's own samples are
    the only evidence about it, and runs of one size can fall in modes 2-10x apart (a curve
    gathered from many runs): confirm_samples, so a mode in a third of its runs would show. So too
    when one size's samples spread beyond MODAL_CV (pooled CV): timing noise of one mode stays
    below it (the dsc curve's widest size: 25%), a second mode 2-10x away does not, and such
    spread also hides the misfit from the chi-square test."""
    rough = fit.poor_fit or fit.cv > MODAL_CV
    return max(config.min_samples, config.confirm_samples) if rough else config.min_samples


def _confirmed_pick(state: _State, a: _Assessment, confirm: int, confidence: float) -> int | None:
    """The column of a size with `confirm` samples that is within tolerance of the best in at
    least `confidence` of the replicates (the most certain such size; the lowest mean score on a
    tie), or None."""
    mems = state.cands[a.cols]
    ok = [j for j in range(len(mems)) if a.within[j] >= confidence and state.count(int(mems[j])) >= confirm]
    if not ok:
        return None
    mean_score = a.scores.mean(axis=0)
    return max(ok, key=lambda j: (a.within[j], -mean_score[j]))


def _initial_design(cands: np.ndarray, k: int) -> list[int]:
    """k sizes spread evenly in log memory, both ends included (a CPU-share curve is smooth in
    log memory; a size the model cannot explain shows up between them)."""
    everything = np.ones(len(cands), dtype=bool)
    targets = np.geomspace(cands[0], cands[-1], max(k, 1)) if k > 1 else np.array([float(cands[0])])
    return list(dict.fromkeys(_nearest(cands, everything, t) for t in targets))


def _explore_for_second_size(state: _State, stats: list[mdl.SizeStats]) -> tuple[int, str] | None:
    """Fewer than two feasible sizes measured after the initial design: go between the highest
    infeasible size and the nearest measured one (or the top of the range)."""
    cands = state.cands
    feasible = state.feasible()
    unmeasured = feasible & ~np.isin(cands, [s.memory_mb for s in state.samples])
    if not unmeasured.any():
        return None
    lo = state.floor if state.floor is not None else int(cands[0])
    hi = stats[0].memory_mb if stats else int(cands[-1])
    target = math.sqrt(max(lo, 1) * hi)
    m = _nearest(cands, unmeasured, target)
    where = f"above the OOM/timeout at {state.floor} MB" if state.floor is not None else "to fit a curve"
    return m, f"second feasible size {where}"


def _next_size(state: _State, a: _Assessment, stats: list[mdl.SizeStats],
               config: SearchConfig) -> tuple[int, str] | None:
    cands = state.cands
    mems = cands[a.cols]
    leader_mb = int(mems[a.leader])
    measured = {st.memory_mb for st in stats}
    poor = a.fit.poor_fit
    fit_note = (f" (model misfit {a.fit.misfit:.0%}: chi2 {a.fit.chi2:.1f} on {a.fit.dof} dof, measuring more sizes)"
                if poor else "")
    if leader_mb not in measured:
        lowest_ok = min(measured)
        if state.floor is not None and state.floor < leader_mb < lowest_ok and lowest_ok - state.floor > 0.1 * lowest_ok:
            # The leader sits just above a known OOM: bisect towards it instead of walking up 1 MB at a time.
            mid = _nearest(cands, state.feasible() & (cands > state.floor) & (cands < lowest_ok),
                           (state.floor + lowest_ok) / 2)
            if mid is not None and state.count(mid) == 0:
                return mid, f"bisecting the memory floor between {state.floor} MB (OOM/timeout) and {lowest_ok} MB"
        return leader_mb, f"predicted best ({a.confidence:.0%} sure within tolerance), not measured yet{fit_note}"
    if state.count(leader_mb) < config.min_samples:
        return leader_mb, f"predicted best, needs {config.min_samples} samples{fit_note}"
    lead = a.scores[:, a.leader][:, None]
    beats = np.mean(a.scores * (1 + config.tolerance) < lead, axis=0)
    beats_any = np.mean(a.scores < lead, axis=0)
    # The challenger is the size with the largest expected gain over the leader beyond the
    # tolerance: how likely it wins and by how much. A measured size close to the leader gains
    # little from more samples (its score is already known to about the tolerance) while an
    # unmeasured one on a poorly fitting curve can sit far below the model; the probability of
    # winning alone keeps re-measuring the former.
    gain = np.mean(np.maximum(lead / (1 + config.tolerance) - a.scores, 0.0), axis=0)
    beats[a.leader] = -1
    beats_any[a.leader] = -1
    gain[a.leader] = -1
    j = int(np.lexsort((-beats, -gain))[0])
    challenger = int(mems[j])
    if challenger not in measured:
        return challenger, (f"could beat {leader_mb} MB by more than the tolerance "
                            f"(P={beats[j]:.2f}){fit_note}")
    var_l = float(np.var(a.scores[:, a.leader]))
    var_c = float(np.var(a.scores[:, j]))
    target = leader_mb if var_l >= var_c else challenger
    return target, f"separating {leader_mb} MB from {challenger} MB (P challenger wins={beats_any[j]:.2f}){fit_note}"
