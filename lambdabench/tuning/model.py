"""Duration-vs-memory model grounded in Lambda's CPU allocation, fitted with a bootstrap band.

Owns the model and its fit; the search (`search.py`) decides what to measure with it.

A warm invocation at memory m takes
    duration(m) = io_ms + cpu_wall(cpu_ms, parallel_fraction, m)
- io_ms: time that does not scale with CPU (I/O wait, sleeps, network).
- cpu_ms: CPU work in milliseconds of one full vCPU.
- Below one vCPU (m < MB_PER_VCPU) the share s = m/MB_PER_VCPU is a CFS bandwidth quota: each
  CPU_PERIOD_MS period grants q = CPU_PERIOD_MS x s ms of CPU, then the function waits for the next
  period. Threads do not help there: the quota caps the total. `staircase_ms` is that mechanism
  exactly; the model averages it over where in the period the invocation arrives (an invocation
  arrives at a uniformly random phase, and a fit to one phase would put every stair edge in the
  wrong place).
- At or above one vCPU the serial part runs at 1 vCPU and the parallel part (parallel_fraction of
  cpu_ms) at min(visible cores, s) vCPUs (`limits.visible_cores`).
Billed duration is ceil(duration) (1 ms billing); the model's billed mean is the mean duration
plus the billing offset measured from the samples (about 0.5 ms when durations spread over more
than a millisecond).

Fit: weighted least squares on the per-size means (weights n / (cv x mean)^2, one pooled cv),
io_ms in closed form for each (cpu_ms, parallel_fraction) on a fine grid, so the fit is exact on
the grid and needs no optimiser. Uncertainty: a parametric bootstrap of the size means, refitted
the same way; a 95% band is the 2.5-97.5% range of the replicates. When the residuals exceed their
noise (chi-square test) the fit says so (`poor_fit`) and reports the relative misfit, which the
search adds to its predictions at sizes it has not measured.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from lambdabench import limits, pricing
from lambdabench.tuning.samples import Sample

# Arrival phases averaged over (uniform in the period). On the dsc curve (195 sizes) the
# phase-averaged staircase fits at 5.9% mean error against 8.7% for an invocation always arriving
# at a period start.
PHASES = 8
# cpu_ms grid: 2.8% steps over three decades (predictions then move < 1.5% between grid points),
# plus 0 for curves with no CPU-bound part at all.
CPU_GRID_POINTS = 250
CPU_GRID_DECADES = 3.0
PARALLEL_GRID = tuple(i / 5 for i in range(6))
# Pooled coefficient of variation used before two samples exist at any size, and its floor
# (durations quantised to 1 ms and drifting VMs never give a tighter noise model than this).
DEFAULT_CV = 0.10
MIN_CV = 0.01
BOOTSTRAP_REPLICATES = 100
NEAR_POINTS = 200


def share(memory_mb: np.ndarray | int) -> np.ndarray:
    """vCPUs of CPU time per second (memory / MB_PER_VCPU)."""
    return np.asarray(memory_mb, dtype=float) / limits.MB_PER_VCPU


def visible_cores(memory_mb: Iterable[int]) -> np.ndarray:
    return np.array([limits.visible_cores(int(m)) for m in np.atleast_1d(memory_mb)], dtype=float)


def staircase_ms(cpu_ms: np.ndarray | float, memory_mb: np.ndarray | int,
                 phase_ms: np.ndarray | float = 0.0) -> np.ndarray:
    """Wall time for a burst of `cpu_ms` of CPU under the CFS quota of `memory_mb` (below 1 vCPU).

    The burst starts `phase_ms` into a period with that period's quota unused (the environment was
    idle). It gets min(q, period - phase) in the rest of that period, then q per full period; the
    last period contributes only the remainder. With phase 0: W <= q takes W; otherwise
    ceil(W/q) - 1 full periods plus the remainder W - (ceil(W/q) - 1) q. At or above one vCPU the
    quota never binds for one thread and the result is `cpu_ms`.
    """
    period = float(limits.CPU_PERIOD_MS)
    w = np.asarray(cpu_ms, dtype=float)
    s = share(memory_mb)
    phase = np.asarray(phase_ms, dtype=float)
    w, s, phase = np.broadcast_arrays(w, s, phase)
    q = period * np.minimum(s, 1.0)
    first = period - phase
    got0 = np.minimum(q, first)
    rest = w - got0
    # The epsilon keeps an exact multiple of q (up to rounding) from costing one extra period.
    periods = np.maximum(np.ceil(rest / q - 1e-9) - 1.0, 0.0)
    throttled = first + periods * period + (rest - periods * q)
    out = np.where(rest <= 0, w, throttled)
    return np.where(s >= 1.0, w, out)


def mean_staircase_ms(cpu_ms: np.ndarray | float, memory_mb: np.ndarray | int,
                      phases: int = PHASES) -> np.ndarray:
    """`staircase_ms` averaged over `phases` arrival phases spread evenly over the period."""
    w = np.asarray(cpu_ms, dtype=float)[..., None]
    m = np.asarray(memory_mb)[..., None]
    ph = (np.arange(phases) + 0.5) / phases * limits.CPU_PERIOD_MS
    return staircase_ms(w, m, ph).mean(axis=-1)


@dataclass(frozen=True)
class CurveParams:
    """One point of the model's parameter space."""

    io_ms: float
    cpu_ms: float
    parallel_fraction: float = 0.0

    def duration_ms(self, memory_mb: Sequence[int] | np.ndarray | int) -> np.ndarray:
        m = np.atleast_1d(np.asarray(memory_mb))
        return self.io_ms + _cpu_wall(np.array([self.cpu_ms]), np.array([self.parallel_fraction]), m)[0]


def _scaling(parallel_fraction: np.ndarray, memory_mb: np.ndarray) -> np.ndarray:
    """Wall ms per CPU ms at or above one vCPU: shape (len(p), len(m))."""
    s = share(memory_mb)
    speed = np.minimum(visible_cores(memory_mb), np.maximum(s, 1.0))
    p = np.asarray(parallel_fraction, dtype=float)[:, None]
    return (1.0 - p) + p / speed[None, :]


def _cpu_wall(cpu_ms: np.ndarray, parallel_fraction: np.ndarray, memory_mb: np.ndarray) -> np.ndarray:
    """cpu_wall for paired (cpu_ms[i], parallel_fraction[i]) at every size: shape (len(i), len(m))."""
    s = share(memory_mb)
    low = mean_staircase_ms(cpu_ms[:, None], memory_mb[None, :])
    s_ = np.broadcast_to(s, low.shape)
    high = cpu_ms[:, None] * _scaling(parallel_fraction, memory_mb)
    return np.where(s_ < 1.0, low, high)


@dataclass(frozen=True)
class SizeStats:
    """The ok samples of one size, summarised."""

    memory_mb: int
    n: int
    mean_ms: float
    sd_ms: float
    mean_billed_ms: float
    p95_ms: float


def size_stats(samples: Iterable[Sample]) -> list[SizeStats]:
    """Per-size statistics of the ok samples, ascending memory; sizes without ok samples omitted."""
    by: dict[int, list[Sample]] = {}
    for s in samples:
        if s.ok:
            by.setdefault(s.memory_mb, []).append(s)
    out = []
    for m in sorted(by):
        d = np.array([s.duration_ms for s in by[m]], dtype=float)
        b = np.array([s.billed_duration_ms for s in by[m]], dtype=float)
        out.append(SizeStats(m, len(d), float(d.mean()), float(d.std(ddof=1)) if len(d) > 1 else 0.0,
                             float(b.mean()), float(np.percentile(d, 95))))
    return out


class ModelGrid:
    """The (cpu_ms, parallel_fraction) grid with the CPU wall time of each point precomputed at
    every candidate size, so each fit is matrix arithmetic. Built once per search."""

    def __init__(self, candidates_mb: Sequence[int], cpu_max_ms: float, cpu_min_ms: float = 0.0):
        self.candidates = np.asarray(sorted(set(int(c) for c in candidates_mb)))
        self.index = {int(m): i for i, m in enumerate(self.candidates)}
        top = max(float(cpu_max_ms), 1e-3)
        # A lower bound the data gives (`cpu_lower_bound_ms`) narrows the span, so the same points
        # resolve cpu_ms finely: a stair edge moves with cpu_ms, and 1% of cpu_ms can move the
        # cheapest size across one.
        bottom = min(max(float(cpu_min_ms), top / 10 ** CPU_GRID_DECADES), top / 1.5)
        self.cpu = np.concatenate([[0.0], np.geomspace(bottom, top, CPU_GRID_POINTS)])
        has_multi = bool((share(self.candidates) > 1.0).any())
        self.parallel = np.array(PARALLEL_GRID if has_multi else (0.0,))
        self.low = share(self.candidates) < 1.0
        self.stair = np.zeros((len(self.cpu), len(self.candidates)))
        if self.low.any():
            self.stair[:, self.low] = mean_staircase_ms(self.cpu[:, None], self.candidates[None, self.low])
        self.scale = _scaling(self.parallel, self.candidates)  # (P, M)

    def wall(self, iw: np.ndarray, ip: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """CPU wall time of grid points (iw[i], ip[i]) at candidate columns: (len(i), len(cols))."""
        high = self.cpu[iw][:, None] * self.scale[ip][:, cols]
        return np.where(self.low[cols][None, :], self.stair[iw][:, cols], high)

    def wall_all_points(self, cols: np.ndarray) -> np.ndarray:
        """Every grid point at the given columns: (W * P, len(cols)), point index = iw * P + ip."""
        iw, ip = np.divmod(np.arange(len(self.cpu) * len(self.parallel)), len(self.parallel))
        return self.wall(iw, ip, cols)

    def split(self, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.divmod(np.asarray(g), len(self.parallel))


def cpu_upper_bound_ms(stats: Sequence[SizeStats]) -> float:
    """An upper bound on cpu_ms any curve through these means can have: duration >= cpu_ms below
    one vCPU and >= cpu_ms / min(cores, share) above it. Widened by half for noise."""
    bounds = [st.mean_ms * max(1.0, min(limits.visible_cores(st.memory_mb), st.memory_mb / limits.MB_PER_VCPU))
              for st in stats]
    return 1.5 * min(bounds)


def cpu_lower_bound_ms(stats: Sequence[SizeStats]) -> float:
    """A lower bound on cpu_ms from how much faster a larger size runs: between a size m below one
    vCPU and any larger one, the CPU wall time can fall by at most cpu_ms x MB_PER_VCPU / m plus
    one CFS period. Halved for noise; 0 when the curve shows no speed-up."""
    best = 0.0
    for st in stats:
        larger = [o.mean_ms for o in stats if o.memory_mb > st.memory_mb]
        if st.memory_mb >= limits.MB_PER_VCPU or not larger:
            continue
        drop = st.mean_ms - min(larger) - limits.CPU_PERIOD_MS
        best = max(best, drop * st.memory_mb / limits.MB_PER_VCPU)
    return 0.5 * best


@dataclass(frozen=True)
class CurveFit:
    """A fitted model: the best parameters, bootstrap replicates, and how well it fits."""

    params: CurveParams
    replicate_params: tuple[CurveParams, ...]
    cv: float                  # pooled coefficient of variation of one sample
    chi2: float
    dof: int
    poor_fit: bool             # residuals beyond their noise (chi-square p < 0.01)
    misfit: float              # relative RMS residual beyond noise (0 when the fit is good)
    billing_offset_ms: float   # mean(billed - duration) over the ok samples
    p95_ratio: float           # pooled p95 / mean of one size's samples
    sizes: tuple[int, ...]     # sizes the fit saw
    grid: "ModelGrid | None" = field(default=None, repr=False, compare=False)
    replicate_index: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False, compare=False)

    def predict_ms(self, memory_mb: Sequence[int] | np.ndarray) -> np.ndarray:
        return self.params.duration_ms(memory_mb)

    def replicates_ms(self, memory_mb: Sequence[int] | np.ndarray) -> np.ndarray:
        m = np.atleast_1d(np.asarray(memory_mb))
        io = np.array([p.io_ms for p in self.replicate_params])
        if self.grid is not None and self.replicate_index is not None and all(int(x) in self.grid.index for x in m):
            cols = np.array([self.grid.index[int(x)] for x in m])
            iw, ip = self.replicate_index
            return io[:, None] + self.grid.wall(iw, ip, cols)
        cpu = np.array([p.cpu_ms for p in self.replicate_params])
        par = np.array([p.parallel_fraction for p in self.replicate_params])
        return io[:, None] + _cpu_wall(cpu, par, m)

    def band_ms(self, memory_mb: Sequence[int] | np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """The `level` band of the mean duration: bootstrap spread widened by the misfit."""
        reps = self.replicates_ms(memory_mb)
        lo_q, hi_q = (1 - level) / 2 * 100, (1 + level) / 2 * 100
        lo, hi = np.percentile(reps, lo_q, axis=0), np.percentile(reps, hi_q, axis=0)
        if self.misfit > 0:
            z = 1.959963984540054 if level == 0.95 else _normal_quantile((1 + level) / 2)
            point = self.predict_ms(memory_mb)
            lo = np.minimum(lo, point * math.exp(-z * self.misfit))
            hi = np.maximum(hi, point * math.exp(z * self.misfit))
        return lo, hi


def _normal_quantile(p: float) -> float:
    # Only for band levels other than 95%; bisection on erf keeps scipy out of the dependencies.
    lo, hi = -10.0, 10.0
    for _ in range(80):
        mid = (lo + hi) / 2
        if 0.5 * (1 + math.erf(mid / math.sqrt(2))) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _chi2_upper(dof: int) -> float:
    """Approximate 99th percentile of chi-square(dof) (Wilson-Hilferty)."""
    z = 2.3263478740408408
    k = float(dof)
    return k * (1 - 2 / (9 * k) + z * math.sqrt(2 / (9 * k))) ** 3


def pooled_cv(stats: Sequence[SizeStats]) -> float:
    num = sum((st.n - 1) * (st.sd_ms / st.mean_ms) ** 2 for st in stats if st.n > 1 and st.mean_ms > 0)
    den = sum(st.n - 1 for st in stats if st.n > 1 and st.mean_ms > 0)
    if den == 0:
        return DEFAULT_CV
    return max(MIN_CV, math.sqrt(num / den))


def fit_curve(grid: ModelGrid, stats: Sequence[SizeStats], rng: np.random.Generator, *,
              billing_offset_ms: float = 0.5, replicates: int = BOOTSTRAP_REPLICATES) -> CurveFit:
    """Weighted least squares on the grid plus a parametric bootstrap of the size means."""
    if not stats:
        raise ValueError("fit_curve needs at least one size with ok samples")
    cols = np.array([grid.index[st.memory_mb] for st in stats])
    y = np.array([st.mean_ms for st in stats])
    n = np.array([st.n for st in stats], dtype=float)
    cv = pooled_cv(stats)
    se = np.maximum(cv * y, 1e-6) / np.sqrt(n)
    w = 1.0 / se ** 2
    f = grid.wall_all_points(cols)  # (G, k)
    sw = w.sum()

    def sse(ys: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """SSE (G, B) and optimal io (G, B) for responses ys (B, k); io clipped at 0."""
        a = (w * ys ** 2).sum(axis=1)                       # (B,)
        b = (f * w) @ ys.T                                  # (G, B)
        c = (w * f ** 2).sum(axis=1)                        # (G,)
        sy = (w * ys).sum(axis=1)                           # (B,)
        sf = (w * f).sum(axis=1)                            # (G,)
        io = (sy[None, :] - sf[:, None]) / sw
        full = a[None, :] - 2 * b + c[:, None] - io ** 2 * sw
        zero = a[None, :] - 2 * b + c[:, None]
        neg = io < 0
        return np.where(neg, zero, full), np.where(neg, 0.0, io)

    point_sse, point_io = sse(y[None, :], f)
    g0 = int(np.argmin(point_sse[:, 0]))
    iw0, ip0 = grid.split(g0)
    params = CurveParams(float(point_io[g0, 0]), float(grid.cpu[iw0]), float(grid.parallel[ip0]))
    chi2 = float(max(point_sse[g0, 0], 0.0))
    n_params = 2 + (1 if len(grid.parallel) > 1 and any(st.memory_mb > limits.MB_PER_VCPU for st in stats) else 0)
    dof = len(stats) - n_params
    poor = dof > 0 and chi2 > _chi2_upper(dof)
    inflate = math.sqrt(chi2 / dof) if dof > 0 and chi2 > dof else 1.0
    misfit = 0.0
    if poor:
        resid = (y - params.duration_ms([st.memory_mb for st in stats])) / y
        misfit = math.sqrt(max(0.0, float(np.mean(resid ** 2 - (se / y) ** 2))))

    ys = y[None, :] + rng.standard_normal((replicates, len(y))) * se[None, :] * inflate
    ys = np.maximum(ys, 0.0)
    # Replicates refit among the grid points the data leaves plausible (lowest point SSE): a
    # replicate's optimum is never among the rest, and this keeps each round cheap.
    near = np.argsort(point_sse[:, 0])[:NEAR_POINTS]
    rep_sse, rep_io = sse(ys, f[near])
    # Points the data cannot tell apart (e.g. the parallel fraction with no size above one vCPU)
    # must be drawn at random, not always the first: a tiny random tie-break does that.
    scale = float(np.abs(rep_sse).max()) + 1.0
    rep_sse = rep_sse + rng.random(rep_sse.shape) * scale * 1e-9
    local = np.argmin(rep_sse, axis=0)
    gb = near[local]
    iw, ip = grid.split(gb)
    reps = tuple(CurveParams(float(rep_io[g, b]), float(grid.cpu[i]), float(grid.parallel[j]))
                 for b, (g, i, j) in enumerate(zip(local, iw, ip)))
    ratios = [st.p95_ms / st.mean_ms for st in stats if st.n >= 5 and st.mean_ms > 0]
    p95_ratio = float(np.median(ratios)) if ratios else 1.0 + 1.645 * cv
    return CurveFit(params, reps, cv, chi2, dof, poor, misfit, billing_offset_ms, p95_ratio,
                    tuple(st.memory_mb for st in stats), grid, (iw, ip))


def cost_usd(memory_mb: np.ndarray | int, billed_ms: np.ndarray | float, price_gb_s: float) -> np.ndarray:
    """Cost of one invocation (duration charge + request fee) for a (mean) billed duration."""
    return pricing.gb_seconds(np.asarray(memory_mb, dtype=float), np.asarray(billed_ms, dtype=float)) \
        * price_gb_s + pricing.REQUEST_PRICE_USD
