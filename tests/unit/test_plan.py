"""The sweep plan: exact action lists, ids, counts, resume filtering and the dry-run cost estimate."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from lambdabench.pricing import REQUEST_PRICE_USD, duration_price_gb_s
from lambdabench.scenario import load_scenario
from lambdabench.sweep.plan import build_plan, describe, draw_payload, estimate_cost, pending

CODE = Path(__file__).resolve().parent.parent / "data" / "sweep_tiny"


def scenario(tmp_path: Path, sweep: str, scenarios: str, function: str = "") -> object:
    text = textwrap.dedent(
        f"""
        name = "plan"
        [function]
        name = "plan-fn"
        code = "{CODE.as_posix()}"
        {textwrap.dedent(function)}
        [sweep]
        {textwrap.dedent(sweep)}
        """
    ) + textwrap.dedent(scenarios)
    path = tmp_path / "plan.toml"
    path.write_text(text)
    return load_scenario(path)


def ids(action) -> list[str]:
    return [i.invocation_id for i in action.invocations]


def test_sequential_plan_unrolls_every_action_in_order(tmp_path):
    sc = scenario(
        tmp_path,
        "memory_mb = [128, 256]\ntimeout_s = [10]",
        """
        [[scenario]]
        kind = "cold"
        invocations = 2
        [[scenario]]
        kind = "warm"
        invocations = 2
        warmup = 1
        [[scenario]]
        kind = "burst"
        concurrency = 2
        waves = 2
        pause_s = 0.5
        """,
    )
    plan = build_plan(sc)
    steps = [(a.kind, a.config.config_id, ids(a)) for a in plan.actions]
    m128 = [
        ("configure", "m128-t10-x86_64", []),
        ("invoke", "m128-t10-x86_64", ["m128-t10-x86_64/cold/0"]),
        ("refresh", "m128-t10-x86_64", []),
        ("invoke", "m128-t10-x86_64", ["m128-t10-x86_64/cold/1"]),
        ("invoke", "m128-t10-x86_64", ["m128-t10-x86_64/warm/warmup-0"]),
        ("invoke", "m128-t10-x86_64", ["m128-t10-x86_64/warm/0"]),
        ("invoke", "m128-t10-x86_64", ["m128-t10-x86_64/warm/1"]),
        ("refresh", "m128-t10-x86_64", []),
        ("burst", "m128-t10-x86_64", ["m128-t10-x86_64/burst/w0/0", "m128-t10-x86_64/burst/w0/1"]),
        ("pause", "m128-t10-x86_64", []),
        ("burst", "m128-t10-x86_64", ["m128-t10-x86_64/burst/w1/0", "m128-t10-x86_64/burst/w1/1"]),
    ]
    m256 = [(k, key.replace("m128", "m256"), [i.replace("m128", "m256") for i in inv]) for k, key, inv in m128]
    assert steps == m128 + m256
    assert plan.total_invocations == 2 * (2 + 1 + 2 + 4)
    # 2 grid points + per point: one refresh before cold/1 and one before the first burst wave
    assert plan.configuration_changes == 6
    assert plan.invocations_per_scenario == {"cold": 2, "warm": 3, "burst": 4}
    assert plan.max_concurrency == 2
    assert [c.config_id for c in plan.configs] == ["m128-t10-x86_64", "m256-t10-x86_64"]
    assert plan.actions[9].pause_s == 0.5


def test_expected_states_cold_warm_and_burst(tmp_path):
    sc = scenario(
        tmp_path,
        "memory_mb = [128]\ntimeout_s = [5]",
        """
        [[scenario]]
        kind = "cold"
        invocations = 1
        [[scenario]]
        kind = "warm"
        invocations = 2
        warmup = 2
        [[scenario]]
        kind = "burst"
        concurrency = 2
        waves = 2
        """,
    )
    expected = {inv.invocation_id: (inv.expect_cold, inv.warmup, inv.wave) for inv in build_plan(sc).invocations}
    assert expected == {
        "m128-t5-x86_64/cold/0": (True, False, None),
        "m128-t5-x86_64/warm/warmup-0": (None, True, None),
        "m128-t5-x86_64/warm/warmup-1": (False, True, None),
        "m128-t5-x86_64/warm/0": (False, False, None),
        "m128-t5-x86_64/warm/1": (False, False, None),
        "m128-t5-x86_64/burst/w0/0": (True, False, 0),
        "m128-t5-x86_64/burst/w0/1": (True, False, 0),
        "m128-t5-x86_64/burst/w1/0": (None, False, 1),
        "m128-t5-x86_64/burst/w1/1": (None, False, 1),
    }


def test_grid_puts_architecture_outermost_then_memory_then_timeout(tmp_path):
    sc = scenario(
        tmp_path,
        'memory_mb = [128, 512]\ntimeout_s = [3, 30]\narchitectures = ["x86_64", "arm64"]',
        '[[scenario]]\nkind = "cold"\ninvocations = 1\n',
    )
    plan = build_plan(sc)
    assert [c.config_id for c in plan.configs] == [
        "m128-t3-x86_64", "m128-t30-x86_64", "m512-t3-x86_64", "m512-t30-x86_64",
        "m128-t3-arm64", "m128-t30-arm64", "m512-t3-arm64", "m512-t30-arm64",
    ]
    assert plan.architecture_changes == 1
    assert plan.configuration_changes == 8


def test_without_architectures_the_functions_own_is_kept(tmp_path):
    sc = scenario(tmp_path, "memory_mb = [128]\ntimeout_s = [3]", '[[scenario]]\nkind = "cold"\ninvocations = 1\n')
    assert [c.config_id for c in build_plan(sc, default_architecture="arm64").configs] == ["m128-t3-arm64"]


def test_shuffled_order_is_seeded_and_interleaves_configurations(tmp_path):
    sweep = 'memory_mb = [128, 256, 512, 1024]\ntimeout_s = [10]\norder = "shuffled"\nseed = 7'
    scen = '[[scenario]]\nkind = "cold"\ninvocations = 1\n[[scenario]]\nkind = "warm"\ninvocations = 1\nwarmup = 1\n'
    a = build_plan(scenario(tmp_path, sweep, scen))
    b = build_plan(scenario(tmp_path, sweep, scen))
    sequential = build_plan(scenario(tmp_path, sweep.replace('"shuffled"', '"sequential"'), scen))
    order = [x.invocation_id for x in a.invocations]
    assert order == [x.invocation_id for x in b.invocations]
    assert sorted(order) == sorted(x.invocation_id for x in sequential.invocations)
    assert order != [x.invocation_id for x in sequential.invocations]
    # every invocation runs at the configuration applied last before it
    current = None
    for action in a.actions:
        if action.kind == "configure":
            current = action.config
        for inv in action.invocations:
            assert inv.config == current
    # interleaving means more configuration changes than grid points
    assert sum(1 for x in a.actions if x.kind == "configure") > len(a.configs)


def test_weighted_payload_draws_are_seeded_per_invocation(tmp_path):
    sc = scenario(
        tmp_path,
        """memory_mb = [128]
        timeout_s = [3]
        seed = 3
        [[sweep.payloads]]
        weight = 3
        payload = { n = 1 }
        label = "small"
        [[sweep.payloads]]
        weight = 1
        payload = { n = 2 }
        label = "big"
        """,
        '[[scenario]]\nkind = "warm"\ninvocations = 400\nwarmup = 0\n',
    )
    plan = build_plan(sc)
    draws = [inv.payload_index for inv in plan.invocations]
    assert draws == [inv.payload_index for inv in build_plan(sc).invocations]
    assert draws == [draw_payload(3, inv.invocation_id, [3, 1]) for inv in plan.invocations]
    share_small = draws.count(0) / len(draws)
    assert 0.68 <= share_small <= 0.82  # weight 3:1 → 0.75
    assert plan.payload_labels == ("small", "big")
    assert draw_payload(3, "x", [1.0]) == 0


def test_estimate_prices_billed_guesses_with_request_fees(tmp_path):
    sc = scenario(
        tmp_path,
        "memory_mb = [128, 1024]\ntimeout_s = [10]",
        '[[scenario]]\nkind = "cold"\ninvocations = 1\n[[scenario]]\nkind = "warm"\ninvocations = 1\nwarmup = 1\n',
    )
    plan = build_plan(sc)
    price = duration_price_gb_s("us-east-1", "x86_64")
    est = estimate_cost(plan, region="us-east-1")
    # per point: cold 1000+1000 ms, warm-up (may be cold) 1000+1000 ms, warm 1000 ms = 5000 ms billed
    guess = sum(mb / 1024 * 5.0 * price for mb in (128, 1024)) + 6 * REQUEST_PRICE_USD
    # upper bound: every invocation runs its 10 s timeout, plus 1 s init when (maybe) cold
    upper = sum(mb / 1024 * (11 + 11 + 10) * price for mb in (128, 1024)) + 6 * REQUEST_PRICE_USD
    assert est.invocations == 6
    assert est.guess_usd == pytest.approx(guess, rel=1e-9)
    assert est.upper_bound_usd == pytest.approx(upper, rel=1e-9)
    assert est.request_usd == pytest.approx(6 * REQUEST_PRICE_USD, rel=1e-9)
    lines = describe(plan, est)
    assert "total invocations: 6" in lines
    assert any(line.startswith("configuration changes: 2 (2 grid points + 0 cold-start refreshes") for line in lines)
    assert any("each invocation bills min(timeout, 1000 ms)" in line for line in lines)


def test_pending_skips_done_invocations_and_their_refreshes(tmp_path):
    sc = scenario(
        tmp_path,
        "memory_mb = [128, 256]\ntimeout_s = [10]",
        '[[scenario]]\nkind = "cold"\ninvocations = 2\n',
    )
    plan = build_plan(sc)
    done = {"m128-t10-x86_64/cold/0", "m128-t10-x86_64/cold/1", "m256-t10-x86_64/cold/0"}
    left = [(a.kind, a.config.config_id, ids(a)) for a in pending(plan.actions, done)]
    assert left == [
        ("configure", "m256-t10-x86_64", []),
        ("refresh", "m256-t10-x86_64", []),
        ("invoke", "m256-t10-x86_64", ["m256-t10-x86_64/cold/1"]),
    ]
    assert pending(plan.actions, {i.invocation_id for i in plan.invocations}) == []


def test_pending_keeps_the_unfinished_part_of_a_burst_wave(tmp_path):
    sc = scenario(tmp_path, "memory_mb = [128]\ntimeout_s = [10]",
                  '[[scenario]]\nkind = "burst"\nconcurrency = 3\n')
    plan = build_plan(sc)
    left = pending(plan.actions, {"m128-t10-x86_64/burst/w0/1"})
    assert [(a.kind, ids(a)) for a in left] == [
        ("configure", []), ("burst", ["m128-t10-x86_64/burst/w0/0", "m128-t10-x86_64/burst/w0/2"]),
    ]


def test_header_carries_configs_scenarios_and_total(tmp_path):
    sc = scenario(tmp_path, "memory_mb = [128]\ntimeout_s = [3]",
                  '[[scenario]]\nkind = "burst"\nconcurrency = 4\nwaves = 2\npause_s = 1.5\n')
    header = build_plan(sc).to_header()
    assert header["configs"] == [{"memory_mb": 128, "timeout_s": 3, "architecture": "x86_64"}]
    assert header["scenarios"] == [{"kind": "burst", "concurrency": 4, "waves": 2, "pause_s": 1.5}]
    assert header["total_invocations"] == 8
    assert header["order"] == "sequential"
