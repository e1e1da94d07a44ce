"""Recommendation strategies on hand-made tables, Power Tuning's published cases, Pareto, timeout, savings."""

from __future__ import annotations

import pytest

from lambdabench.analysis.model import Interval
from lambdabench.analysis.recommend import Candidate, advise_timeout, pareto_front, pick, savings


def table(rows):
    """(power, averagePrice, averageDuration) rows as Power Tuning's analyzer sees them."""
    return [Candidate(key=power, cost=price, latency=duration, mean_latency=duration) for power, price, duration in rows]


# AWS Lambda Power Tuning's analyzer unit tests, copied input for input, expected pick for pick:
# alexcasalboni/aws-lambda-power-tuning @ 262ecc2d6cf99401e02a25ce7e81b2ad4880f10f,
# test/unit/test-lambda.js, describe('analyzer'): the 'cost', 'speed' and 'balanced' strategy cases.
POWER_TUNING_CASES = [
    # "should return the cheapest power configuration if cost strategy"
    ("cost", None, [("128", 100, 100), ("256", 200, 300), ("512", 30, 200)], "512"),
    # "should return the cheapest and fastest power configuration if cost strategy and same cost"
    ("cost", None, [("128", 100, 100), ("256", 100, 90), ("512", 300, 200)], "256", ("128",)),
    # "should return the fastest power configuration if speed strategy"
    ("speed", None, [("128", 100, 300), ("256", 200, 200), ("512", 300, 100)], "512"),
    # "should return the fastest and cheapest power configuration if speed strategy and same duration"
    ("speed", None, [("128", 100, 200), ("256", 90, 200), ("512", 300, 400)], "256", ("128",)),
    # "should return the cheapest power configuration if balanced strategy with weight = 1"
    ("balanced", 1, [("128", 100, 100), ("256", 200, 300), ("512", 30, 200)], "512"),
    # "should return the fastest power configuration if balanced strategy with weight = 0"
    ("balanced", 0, [("128", 100, 300), ("256", 200, 200), ("512", 300, 100)], "512"),
    # "should return a balanced power configuration if balanced strategy with default weight"
    ("balanced", None, [("128", 101, 300), ("256", 200, 200), ("512", 300, 101)], "256"),
    # "should return a balanced power configuration if balanced strategy with custom weight" (0.3)
    ("balanced", 0.3, [("128", 100, 300), ("256", 200, 200), ("512", 300, 100), ("1024", 1000, 50)], "512"),
]


@pytest.mark.parametrize(
    "strategy, weight, rows, expected, tied", [case if len(case) == 5 else (*case, ()) for case in POWER_TUNING_CASES]
)
def test_strategies_reproduce_power_tunings_published_picks(strategy, weight, rows, expected, tied):
    kwargs = {} if weight is None else {"balanced_weight": weight}
    result = pick(table(rows), strategy, **kwargs)
    assert result.winner.key == expected
    # Without intervals, exactly equal values on the ranking metric are indistinguishable.
    assert tuple(c.key for c in result.indistinguishable) == tied


def test_balanced_weight_outside_zero_to_one_is_clamped_like_power_tuning():
    rows = [("128", 100, 300), ("256", 200, 200), ("512", 300, 100)]
    assert pick(table(rows), "balanced", balanced_weight=7).winner.key == pick(table(rows), "balanced", balanced_weight=1).winner.key
    assert pick(table(rows), "balanced", balanced_weight=-3).winner.key == "512"


def c(key, cost, p95, ci=None, cost_ci=None, ok=True, reason=None):
    return Candidate(
        key=key, cost=cost, latency=p95, latency_ci=ci, cost_ci=cost_ci, recommendable=ok, reason=reason,
        mean_latency=p95, mean_latency_ci=ci,
    )


def test_speed_tie_within_noise_is_reported_indistinguishable_and_the_cheaper_wins():
    candidates = [
        c(128, 2.0, 900.0, Interval(880, 920)),
        c(1024, 9.0, 100.0, Interval(95, 110)),  # fastest point estimate
        c(512, 5.0, 104.0, Interval(100, 108)),  # overlaps 1024's interval, cheaper
    ]
    result = pick(candidates, "speed")
    assert result.ranked_first.key == 1024
    assert result.winner.key == 512
    assert [x.key for x in result.indistinguishable] == [1024]


def test_speed_winner_clear_of_the_runner_up_has_no_indistinguishable():
    candidates = [c(512, 5.0, 150.0, Interval(140, 160)), c(1024, 9.0, 100.0, Interval(95, 110))]
    result = pick(candidates, "speed")
    assert result.winner.key == 1024
    assert result.indistinguishable == ()


def test_cost_strategy_lists_configurations_whose_cost_interval_overlaps():
    candidates = [
        c(128, 6.00, 900.0, cost_ci=Interval(5.95, 6.05)),
        c(256, 6.02, 450.0, cost_ci=Interval(5.97, 6.07)),
        c(1024, 8.00, 120.0, cost_ci=Interval(7.9, 8.1)),
    ]
    result = pick(candidates, "cost")
    assert result.winner.key == 128
    assert [x.key for x in result.indistinguishable] == [256]


def test_failed_configurations_are_never_recommended():
    candidates = [c(128, 1.0, 50.0, ok=False, reason="2 timeouts"), c(256, 2.0, 60.0)]
    for strategy in ("cost", "speed", "balanced"):
        assert pick(candidates, strategy).winner.key == 256
    assert pick([candidates[0]], "cost") is None


def test_slo_picks_the_cheapest_whose_p95_upper_bound_meets_the_objective():
    candidates = [
        c(128, 2.0, 290.0, Interval(280, 310)),  # point meets 300 ms, upper bound does not
        c(256, 3.0, 200.0, Interval(190, 240)),
        c(512, 5.0, 120.0, Interval(110, 130)),
        c(64, 1.0, 100.0, Interval(90, 110), ok=False),  # meets it but failed
    ]
    assert pick(candidates, "slo", slo_ms=300).winner.key == 256
    assert pick(candidates, "slo", slo_ms=100) is None
    with pytest.raises(ValueError):
        pick(candidates, "slo")


def test_unknown_strategy_is_an_error():
    with pytest.raises(ValueError, match="unknown strategy 'fastest'"):
        pick([c(128, 1.0, 1.0)], "fastest")


def test_pareto_front_keeps_undominated_recommendable_points_cheapest_first():
    candidates = [
        c(128, 2.0, 800.0),
        c(256, 2.0, 400.0),  # dominates 128 (same cost, faster)
        c(512, 3.0, 200.0),
        c(1024, 5.0, 210.0),  # dominated by 512
        c(2048, 9.0, 100.0),
        c(3008, 1.0, 50.0, ok=False),  # failed: not on the front
    ]
    assert [x.key for x in pareto_front(candidates)] == [256, 512, 2048]


def test_timeout_advice_is_the_smallest_whole_second_above_slowest_times_1_5():
    assert advise_timeout(530.5, max_timeout_s=900).timeout_s == 1
    assert advise_timeout(2000.0, max_timeout_s=900).timeout_s == 3  # exactly 3.0 s stays 3
    assert advise_timeout(2001.0, max_timeout_s=900).timeout_s == 4
    capped = advise_timeout(700_000.0, max_timeout_s=900)
    assert capped.timeout_s == 900 and "limit" in capped.reason
    assert advise_timeout(None, max_timeout_s=900) is None


def test_savings_against_the_original_configuration():
    s = savings(10.0, 7.5, "1024 MB / 3 s / x86_64")
    assert s.per_million_usd == 2.5 and s.fraction == 0.25
    assert "saves $2.5000" in s.note
    unmeasured = savings(None, 7.5, "3008 MB / 3 s / x86_64")
    assert unmeasured.per_million_usd is None and "was not measured" in unmeasured.note
    unknown = savings(None, 7.5, None)
    assert unknown.fraction is None and "not known" in unknown.note


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_rows = st.lists(
    st.tuples(st.floats(0.1, 100.0), st.floats(1.0, 5000.0), st.booleans()), min_size=1, max_size=12
)


@settings(max_examples=200, deadline=None)
@given(_rows)
def test_picks_are_recommendable_and_optimal_and_the_front_is_undominated(rows):
    candidates = [c(i, cost, lat, ok=ok) for i, (cost, lat, ok) in enumerate(rows)]
    pool = [x for x in candidates if x.recommendable]
    cheapest, fastest = pick(candidates, "cost"), pick(candidates, "speed")
    if not pool:
        assert cheapest is None and fastest is None and pareto_front(candidates) == ()
        return
    assert cheapest.winner.recommendable and cheapest.winner.cost == min(x.cost for x in pool)
    assert fastest.winner.latency == min(x.latency for x in pool)
    front = pareto_front(candidates)
    for x in front:
        assert x.recommendable
        assert not any(o.cost <= x.cost and o.latency <= x.latency and (o.cost, o.latency) != (x.cost, x.latency) for o in pool)
    # the cheapest and the fastest recommendable points are always on the front
    assert cheapest.winner in front and fastest.winner in front


def test_without_intervals_only_exactly_equal_values_are_indistinguishable():
    tied = pick([c("a", 10.0, 100.0), c("b", 10.0, 200.0), c("c", 11.0, 50.0)], "cost")
    assert tied.winner.key == "a" and [x.key for x in tied.indistinguishable] == ["b"]
    # One side with an interval, the other without: still compared on the points.
    apart = pick([c("a", 10.0, 100.0, cost_ci=Interval(9.0, 12.0)), c("b", 11.0, 50.0)], "cost")
    assert apart.winner.key == "a" and apart.indistinguishable == ()
