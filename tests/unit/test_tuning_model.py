"""The duration model: the CFS staircase, the fit on synthetic curves with a known optimum."""

import numpy as np
import pytest

from lambdabench import limits
from lambdabench.tuning import model as mdl
from lambdabench.tuning.samples import Sample


def test_burst_within_one_quota_runs_at_full_speed():
    # 128 MB: q = 20 * 128/1769 = 1.447 ms per period
    q = limits.CPU_PERIOD_MS * 128 / limits.MB_PER_VCPU
    assert mdl.staircase_ms(q * 0.5, 128) == pytest.approx(q * 0.5)


def test_burst_of_exactly_two_quotas_ends_when_the_second_period_quota_is_used():
    q = limits.CPU_PERIOD_MS * 512 / limits.MB_PER_VCPU
    # ceil(2q/q) - 1 = 1 full period, then q more
    assert mdl.staircase_ms(2 * q, 512) == pytest.approx(20 + q)


def test_burst_just_over_a_quota_boundary_waits_a_whole_period():
    q = limits.CPU_PERIOD_MS * 885 / limits.MB_PER_VCPU
    below = float(mdl.staircase_ms(q - 0.01, 885))
    above = float(mdl.staircase_ms(q + 0.01, 885))
    assert below == pytest.approx(q - 0.01)
    assert above == pytest.approx(20 + 0.01)
    assert above - below == pytest.approx(20 - q + 0.02)


def test_two_and_a_half_quotas_take_two_periods_and_the_remainder():
    q = limits.CPU_PERIOD_MS * 300 / limits.MB_PER_VCPU
    assert mdl.staircase_ms(2.5 * q, 300) == pytest.approx(40 + 0.5 * q)


def test_late_arrival_gets_only_the_rest_of_the_first_period():
    q = limits.CPU_PERIOD_MS * 1000 / limits.MB_PER_VCPU  # 11.3 ms
    # arrives 15 ms into the period: 5 ms of CPU, then a fresh period from t = 5
    assert mdl.staircase_ms(8.0, 1000, 15.0) == pytest.approx(5 + 3.0)


def test_quota_does_not_bind_at_or_above_one_vcpu():
    assert mdl.staircase_ms(123.0, limits.MB_PER_VCPU) == pytest.approx(123.0)


def test_parallel_work_speeds_up_past_one_vcpu_up_to_the_share():
    p = mdl.CurveParams(io_ms=10.0, cpu_ms=1000.0, parallel_fraction=1.0)
    d1769, d3008 = p.duration_ms([1769, 3008])
    assert d1769 == pytest.approx(1010.0)
    assert d3008 == pytest.approx(10 + 1000 / (3008 / 1769))
    serial = mdl.CurveParams(10.0, 1000.0, 0.0)
    assert serial.duration_ms([3008])[0] == pytest.approx(1010.0)


def _stats_from(params, sizes, n=5, cv=0.02, seed=0):
    rng = np.random.default_rng(seed)
    samples = []
    for m in sizes:
        d = params.duration_ms([m])[0] * np.exp(cv * rng.standard_normal(n))
        samples += [Sample(m, float(x), int(np.ceil(x))) for x in d]
    return mdl.size_stats(samples)


def test_fit_recovers_io_and_cpu_of_a_noise_free_curve():
    true = mdl.CurveParams(io_ms=30.0, cpu_ms=400.0)
    sizes = [128, 512, 1024, 1769, 3008]
    stats = _stats_from(true, sizes, cv=0.0)
    grid = mdl.ModelGrid(range(128, 3009), mdl.cpu_upper_bound_ms(stats))
    fit = mdl.fit_curve(grid, stats, np.random.default_rng(1))
    assert fit.params.cpu_ms == pytest.approx(400.0, rel=0.03)
    pred = fit.predict_ms([256, 2048])
    assert pred == pytest.approx(true.duration_ms([256, 2048]), rel=0.02)
    assert not fit.poor_fit


def test_fitted_cost_optimum_of_a_staircase_curve_is_the_true_one():
    # 14 ms of CPU: the cheapest sizes sit just right of a stair edge
    true = mdl.CurveParams(io_ms=0.5, cpu_ms=14.0)
    cands = sorted(set(range(128, 1800, 8)) | {1769})
    stats = _stats_from(true, [128, 600, 1769], n=10, cv=0.01)
    grid = mdl.ModelGrid(cands, mdl.cpu_upper_bound_ms(stats))
    fit = mdl.fit_curve(grid, stats, np.random.default_rng(2))
    cost_true = mdl.cost_usd(np.array(cands), true.duration_ms(cands) + 0.5, 1.66667e-5)
    cost_fit = mdl.cost_usd(np.array(cands), fit.predict_ms(cands) + 0.5, 1.66667e-5)
    picked = int(np.argmin(cost_fit))
    assert cost_true[picked] / cost_true.min() - 1 < 0.02


def test_band_covers_the_truth_and_widens_where_nothing_was_measured():
    true = mdl.CurveParams(io_ms=50.0, cpu_ms=300.0)
    stats = _stats_from(true, [256, 1024], n=5, cv=0.05, seed=3)
    grid = mdl.ModelGrid(range(128, 3009), mdl.cpu_upper_bound_ms(stats))
    fit = mdl.fit_curve(grid, stats, np.random.default_rng(3))
    lo, hi = fit.band_ms([256, 3008])
    t = true.duration_ms([256, 3008])
    assert (lo <= t).all() and (t <= hi).all()


def test_a_curve_the_model_cannot_follow_is_flagged_poor_fit():
    # durations that rise with memory: no CPU allocation explains that
    samples = []
    rng = np.random.default_rng(4)
    for m, d in [(128, 100.0), (512, 300.0), (1024, 100.0), (2048, 400.0)]:
        samples += [Sample(m, float(x), int(np.ceil(x))) for x in d * np.exp(0.01 * rng.standard_normal(5))]
    stats = mdl.size_stats(samples)
    grid = mdl.ModelGrid([128, 512, 1024, 2048], mdl.cpu_upper_bound_ms(stats))
    fit = mdl.fit_curve(grid, stats, np.random.default_rng(4))
    assert fit.poor_fit
    assert fit.misfit > 0.1


def test_size_stats_ignore_failed_samples():
    stats = mdl.size_stats([Sample(128, 10.0, 10), Sample(128, 20.0, 20), Sample(128, 99.0, 99, "error"),
                            Sample(256, 5.0, 5, "oom")])
    assert [(s.memory_mb, s.n, s.mean_ms) for s in stats] == [(128, 2, 15.0)]


def _phase_samples(params, sizes, n, cv, seed):
    """Samples as Lambda gives them: each invocation arrives at a random phase of the CFS period."""
    rng = np.random.default_rng(seed)
    samples = []
    for m in sizes:
        phase = rng.random(n) * limits.CPU_PERIOD_MS
        cpu = mdl.staircase_ms(np.full(n, params.cpu_ms), m, phase) if m < limits.MB_PER_VCPU \
            else np.full(n, params.duration_ms([m])[0] - params.io_ms)
        d = (params.io_ms + cpu) * np.exp(cv * rng.standard_normal(n))
        samples += [Sample(m, float(x), int(np.ceil(x))) for x in d]
    return samples


def test_fit_places_the_stair_edge_where_the_quota_runs_out():
    # 14 ms of CPU needs two periods once q < 7 ms, i.e. below 14/2/20 x 1769 = 619 MB: the fit,
    # fed sizes either side of that edge, predicts the jump at the right place.
    true = mdl.CurveParams(io_ms=1.0, cpu_ms=14.0)
    edge = 14.0 / 2 / limits.CPU_PERIOD_MS * limits.MB_PER_VCPU
    stats = mdl.size_stats(_phase_samples(true, [128, 400, 700, 1769], 40, 0.01, seed=5))
    grid = mdl.ModelGrid(range(128, 1770), mdl.cpu_upper_bound_ms(stats))
    fit = mdl.fit_curve(grid, stats, np.random.default_rng(5))
    assert fit.params.cpu_ms == pytest.approx(14.0, rel=0.05)
    below, above = int(edge) - 20, int(edge) + 20
    pred = fit.predict_ms([below, above])
    assert pred == pytest.approx(true.duration_ms([below, above]), rel=0.04)
    assert pred[0] > pred[1] * 1.2  # two periods below the edge, mostly one above


@pytest.mark.parametrize("cpu_ms", [19.0, 21.0])
def test_cost_optimum_either_side_of_one_full_period(cpu_ms):
    # Just under 20 ms of CPU fits in one period at 1769 MB; just over needs a second period at
    # any size below it, so the cheapest size moves to where the work splits into whole quotas.
    # Truth: the staircase averaged over 2000 arrival phases (the model averages 8, worth about
    # 1% of regret on such curves); the fit sees five sizes, as the search's initial design does.
    true = mdl.CurveParams(io_ms=0.2, cpu_ms=cpu_ms)
    cands = np.array(list(range(128, 1770, 4)) + [1769])
    stats = mdl.size_stats(_phase_samples(true, [128, 256, 512, 1024, 1769], 30, 0.01, seed=6))
    grid = mdl.ModelGrid(cands, mdl.cpu_upper_bound_ms(stats), mdl.cpu_lower_bound_ms(stats))
    fit = mdl.fit_curve(grid, stats, np.random.default_rng(6))
    phases = (np.arange(2000) + 0.5) / 2000 * limits.CPU_PERIOD_MS
    exact = np.array([mdl.staircase_ms(np.full(2000, cpu_ms), m, phases).mean() for m in cands]) + 0.2
    price = 1.66667e-5
    cost_true = mdl.cost_usd(cands, exact + 0.5, price)
    cost_fit = mdl.cost_usd(cands, fit.predict_ms(cands) + 0.5, price)
    assert cost_true[int(np.argmin(cost_fit))] / cost_true.min() - 1 < 0.03


def test_lower_bound_on_cpu_narrows_the_grid_and_never_excludes_the_truth():
    for cpu_ms, io_ms in [(21.0, 0.2), (400.0, 30.0), (3.0, 200.0)]:
        true = mdl.CurveParams(io_ms=io_ms, cpu_ms=cpu_ms)
        stats = mdl.size_stats(_phase_samples(true, [128, 512, 1769], 10, 0.03, seed=7))
        lo, hi = mdl.cpu_lower_bound_ms(stats), mdl.cpu_upper_bound_ms(stats)
        assert lo <= cpu_ms <= hi
        grid = mdl.ModelGrid([128, 512, 1769], hi, lo)
        assert grid.cpu[0] == 0.0 and grid.cpu[1] <= max(lo, hi / 10 ** mdl.CPU_GRID_DECADES) + 1e-12
    # a curve with a clear speed-up gets a grid far finer than three decades would give
    stats = mdl.size_stats(_phase_samples(mdl.CurveParams(0.2, 21.0), [128, 512, 1769], 10, 0.01, seed=8))
    grid = mdl.ModelGrid([128, 512, 1769], mdl.cpu_upper_bound_ms(stats), mdl.cpu_lower_bound_ms(stats))
    assert grid.cpu[2] / grid.cpu[1] - 1 < 0.01
