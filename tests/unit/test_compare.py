"""compare(): ratios with intervals, significance AND limit for a regression, --fail-on parsing."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from lambdabench.analysis.compare import TEST_NAME, compare, parse_fail_on
from lambdabench.analysis.model import ConfigPoint
from lambdabench.errors import UsageError
from lambdabench.report.console import render_compare, render_compare_markdown
from lambdabench.results import read_results

_spec = importlib.util.spec_from_file_location(
    "synthetic_results", Path(__file__).resolve().parent.parent / "synthetic_results.py"
)
synthetic = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(synthetic)


def sweep(tmp_path, name, **kw):
    kw.setdefault("memory_mb", (256, 1024))
    kw.setdefault("cold", 2)
    return read_results(synthetic.write_sweep(tmp_path / name, **kw))


def test_parse_fail_on_reads_metric_percent_terms():
    assert parse_fail_on("p95+10%,cost+5%") == {"p95": 0.10, "cost": 0.05}
    assert parse_fail_on(" p50 + 2.5 % ") == {"p50": 0.025}


@pytest.mark.parametrize(
    "text, bad",
    [("p95+10", "'p95+10'"), ("p95+10%,speed+5%", "unknown metric 'speed'"), ("p95-10%", "'p95-10%'"),
     ("p95+10%,p95+5%", "'p95' twice"), ("", "empty")],
)
def test_bad_fail_on_names_the_term(text, bad):
    with pytest.raises(UsageError) as err:
        parse_fail_on(text)
    assert bad in err.value.message
    assert "METRIC+PERCENT" in err.value.hint


def test_a_sweep_compared_with_itself_has_no_regression(tmp_path):
    base = sweep(tmp_path, "a")
    result = compare(base, base, limits={"p95": 0.10, "cost": 0.05})
    assert not result.failed
    assert [r.config for r in result.rows] == [ConfigPoint(256, 10), ConfigPoint(1024, 10)]
    for row in result.rows:
        assert row.scenario == "warm"
        for change in row.changes:
            assert change.ratio == 1.0 and not change.significant and change.verdict == "not significant"


def test_twice_the_work_is_a_significant_regression_beyond_the_limits(tmp_path):
    base = sweep(tmp_path, "a", work_ms=200.0, seed=1)
    new = sweep(tmp_path, "b", work_ms=400.0, seed=2)
    result = compare(base, new, limits={"p95": 0.10, "cost": 0.05})
    assert result.failed
    row = result.rows[0]
    p95, cost = row.change("p95"), row.change("cost")
    assert 1.9 < p95.ratio < 2.1 and p95.ci.low > 1.0 and p95.regression
    assert 1.9 < cost.ratio < 2.1 and cost.regression
    assert row.change("p50").regression is False  # p50 has no limit: reported, not gated
    assert row.change("p50").verdict == "slower"
    assert len(result.regressions) == 4  # p95 and cost, two configurations


def test_a_significant_change_within_the_limit_passes(tmp_path):
    base = sweep(tmp_path, "a", work_ms=200.0, seed=1)
    new = sweep(tmp_path, "b", work_ms=212.0, seed=2)  # +6%, clearly outside noise of 3%/sqrt(30)
    result = compare(base, new, limits={"p50": 0.10})
    p50 = result.rows[0].change("p50")
    assert p50.significant and 1.03 < p50.ratio < 1.09
    assert not p50.regression and not result.failed


def test_faster_new_sweep_is_an_improvement_not_a_regression(tmp_path):
    base = sweep(tmp_path, "a", work_ms=400.0, seed=1)
    new = sweep(tmp_path, "b", work_ms=200.0, seed=2)
    result = compare(base, new, limits={"p95": 0.0, "cost": 0.0})
    assert not result.failed
    assert result.rows[0].change("p95").verdict == "faster"
    assert result.rows[0].change("cost").verdict == "cheaper"


def test_configurations_in_only_one_sweep_are_listed(tmp_path):
    base = sweep(tmp_path, "a", memory_mb=(128, 256))
    new = sweep(tmp_path, "b", memory_mb=(256, 512))
    result = compare(base, new)
    assert [r.config.memory_mb for r in result.rows] == [256]
    assert result.only_base == (ConfigPoint(128, 10),) and result.only_new == (ConfigPoint(512, 10),)


def test_renderings_name_the_test_and_the_verdict(tmp_path):
    base = sweep(tmp_path, "a", work_ms=200.0, seed=1)
    new = sweep(tmp_path, "b", work_ms=400.0, seed=2)
    result = compare(base, new, limits={"p95": 0.10})
    text = render_compare(result)
    assert TEST_NAME in text and "REGRESSION" in text and text.rstrip().endswith("beyond the limits")
    md = render_compare_markdown(result)
    assert md.startswith("| configuration | scenario | metric |")
    assert "**REGRESSION**" in md and "**Result: FAILED**" in md


def test_a_configuration_that_never_succeeds_in_new_fails_the_comparison(tmp_path, capsys):
    base = sweep(tmp_path, "a", memory_mb=(128, 256), cold=0, seed=1)
    new = sweep(tmp_path, "b", memory_mb=(128, 256), cold=0, seed=1, failures={128: {"timeout": 30}})
    result = compare(base, new, limits={"p95": 0.10, "cost": 0.10})
    assert result.failed and result.regressions == ()
    assert [r.config for r in result.rows] == [ConfigPoint(256, 10)]
    assert result.only_base == ()  # it ran in new: a failure, not a missing configuration
    (f,) = result.failures
    assert (f.config, f.base_failed, f.base_total, f.new_failed, f.new_total, f.new_has_no_ok) == (
        ConfigPoint(128, 10), 0, 30, 30, 30, True)
    text = render_compare(result)
    assert ("FAILURES: 128 MB / 10 s / x86_64: no ok sample with a duration in new; "
            "30 of 30 invocations failed (100%), base 0 of 30 (0%)") in text
    assert "FAILED: 0 significant regression(s) beyond the limits, 1 configuration(s) with more failures" in text
    assert "**FAILURES**: 128 MB / 10 s / x86_64" in render_compare_markdown(result)
    from lambdabench.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["compare", str(tmp_path / "a"), str(tmp_path / "b")])
    assert exit_.value.code == 1
    assert "FAILURES: 128 MB" in capsys.readouterr().out


def test_more_failures_fail_the_comparison_only_beyond_five_points_more(tmp_path):
    base = sweep(tmp_path, "a", memory_mb=(256,), seed=1, failures={256: {"error": 1}})  # 1 of 32
    worse = sweep(tmp_path, "b", memory_mb=(256,), seed=1, failures={256: {"error": 3}})  # 3 of 32: +6.25 points
    slightly = sweep(tmp_path, "c", memory_mb=(256,), seed=1, failures={256: {"error": 2}})  # 2 of 32: +3.1
    throttled = sweep(tmp_path, "d", memory_mb=(256,), seed=1, failures={256: {"error": 1}},
                      burst=(4, 2), throttled={256: 6})  # throttles are not failures
    (f,) = compare(base, worse).failures
    assert (f.base_failed, f.base_total, f.new_failed, f.new_total, f.new_has_no_ok) == (1, 32, 3, 32, False)
    assert compare(base, worse).failed
    assert compare(base, slightly).failures == () and not compare(base, slightly).failed
    assert compare(base, throttled).failures == ()


def test_a_burst_is_compared_on_its_warm_waves_not_its_cold_first_wave(tmp_path):
    # Same function, slower cold starts only: the cold first wave bills Init, the warm waves do not.
    base = sweep(tmp_path, "a", cold=0, warm=0, warmup=0, burst=(8, 3), init_ms=150.0, seed=1)
    new = sweep(tmp_path, "b", cold=0, warm=0, warmup=0, burst=(8, 3), init_ms=900.0, seed=1)
    result = compare(base, new, limits={"p95": 0.10, "cost": 0.05})
    assert [r.scenario for r in result.rows] == ["burst", "burst"]
    assert all(r.n_base == 16 and r.n_new == 16 for r in result.rows)
    assert not result.failed
