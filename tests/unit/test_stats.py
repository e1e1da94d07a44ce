"""Statistics of one sample: exact descriptive values, reproducible bootstrap intervals, coverage."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lambdabench.analysis import stats
from lambdabench.analysis.model import Interval

ONE_TO_TEN = [float(v) for v in range(1, 11)]


def test_describe_gives_exact_percentiles_mean_std_and_cv_on_fixed_data():
    d = stats.describe(ONE_TO_TEN)
    assert d.n == 10
    assert d.p50 == 5.5
    assert d.p90 == pytest.approx(9.1, abs=1e-12)
    assert d.p95 == pytest.approx(9.55, abs=1e-12)
    assert d.p99 == pytest.approx(9.91, abs=1e-12)
    assert d.mean == 5.5
    assert d.std == pytest.approx(math.sqrt(55 / 6), abs=1e-12)  # sample std, ddof=1
    assert d.cv == pytest.approx(math.sqrt(55 / 6) / 5.5, abs=1e-12)
    assert (d.min, d.max) == (1.0, 10.0)


def test_describe_ignores_missing_values_and_returns_none_for_an_empty_sample():
    assert stats.describe([]) is None
    assert stats.describe([float("nan"), None]) is None
    d = stats.describe([3.0, float("nan"), 5.0, None])
    assert d.n == 2
    assert d.mean == 4.0


def test_single_and_constant_samples_have_point_intervals_and_zero_spread():
    one = stats.describe([7.0])
    assert (one.std, one.cv) == (0.0, 0.0)
    assert one.p50_ci == Interval(7.0, 7.0) and one.p95_ci == Interval(7.0, 7.0) and one.mean_ci == Interval(7.0, 7.0)
    same = stats.describe([4.0] * 20)
    assert same.p50_ci == Interval(4.0, 4.0)
    assert same.std == 0.0


def test_intervals_are_reproducible_with_the_same_seed_and_change_with_another():
    values = np.random.default_rng(3).lognormal(3.0, 0.3, 40)
    a = stats.describe(values)
    b = stats.describe(values)
    c = stats.describe(values, seed=1)
    assert (a.p50_ci, a.p95_ci, a.mean_ci) == (b.p50_ci, b.p95_ci, b.mean_ci)
    assert a.p50_ci != c.p50_ci


def test_intervals_bracket_their_point_estimate():
    values = np.random.default_rng(5).lognormal(3.0, 0.3, 50)
    d = stats.describe(values)
    for point, ci in ((d.p50, d.p50_ci), (d.p95, d.p95_ci), (d.mean, d.mean_ci)):
        assert ci.low < point < ci.high
        assert ci.level == 0.95


def test_percentile_of_an_empty_sample_is_an_error():
    with pytest.raises(ValueError):
        stats.percentile([], 50)
    with pytest.raises(ValueError):
        stats.quantile_interval([], 50)


def test_p50_interval_covers_the_true_median_in_93_to_97_percent_of_1000_trials():
    # Lognormal(0, 0.5) has median exactly 1. Sample sizes as small as real sweeps use.
    rng = np.random.default_rng(2024)
    for n in (30, 50):
        covered = 0
        for trial in range(1000):
            sample = rng.lognormal(0.0, 0.5, n)
            ci = stats.quantile_interval(sample, 50, seed=trial)
            covered += ci.low <= 1.0 <= ci.high
        assert 930 <= covered <= 970, f"n={n}: covered {covered} of 1000"


def test_ratio_of_a_sample_with_itself_is_one_and_not_significant():
    values = np.random.default_rng(7).lognormal(3.0, 0.2, 40)
    ratio, ci = stats.ratio_interval(values, values, "p95")
    assert ratio == 1.0
    assert ci.low < 1.0 < ci.high


def test_ratio_of_doubled_work_is_two_with_an_interval_excluding_one():
    rng = np.random.default_rng(8)
    base = rng.lognormal(3.0, 0.05, 30)
    new = 2 * rng.lognormal(3.0, 0.05, 30)
    for statistic in ("p50", "p95", "mean"):
        ratio, ci = stats.ratio_interval(base, new, statistic)
        assert 1.8 < ratio < 2.2
        assert ci.low > 1.0


def test_ratio_of_two_small_samples_of_one_distribution_is_rarely_significant():
    # The false-positive rate of compare's significance rule at n = 10 should be near 5%.
    rng = np.random.default_rng(11)
    for statistic in ("p95", "mean"):
        significant = 0
        for trial in range(400):
            a, b = rng.lognormal(0, 0.1, 10), rng.lognormal(0, 0.1, 10)
            _, ci = stats.ratio_interval(a, b, statistic, seed=trial)
            significant += not (ci.low <= 1.0 <= ci.high)
        assert 8 <= significant <= 32, f"{statistic}: {significant} of 400 significant (nominal 20)"


def test_t_and_normal_quantiles_match_published_tables():
    assert stats._z_quantile(0.975) == pytest.approx(1.959964, abs=1e-6)
    assert stats._z_quantile(0.005) == pytest.approx(-2.575829, abs=1e-6)
    for dof, table in ((3, 3.182), (5, 2.571), (9, 2.262), (29, 2.045), (100, 1.984)):
        assert stats._t_quantile(0.975, dof) == pytest.approx(table, rel=3e-3)
