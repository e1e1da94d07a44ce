"""Exact prices of invocations and months, and the errors for what cannot be priced."""

from __future__ import annotations

import dataclasses

import pytest

from lambdabench import pricing
from lambdabench.errors import UsageError


def test_1024_mb_300_ms_x86_us_east_1_costs_exactly_the_list_price():
    cost = pricing.invocation_cost(1024, 300)
    assert cost.compute_usd == 0.3 * 0.0000166667
    assert cost.request_usd == 0.0000002
    assert cost.storage_usd == 0.0
    assert cost.total_usd == 0.3 * 0.0000166667 + 0.0000002
    assert cost.per_million_usd == pytest.approx(5.20001, rel=1e-12)
    assert cost.price_gb_s == 0.0000166667
    assert cost.gb_s == 0.3


def test_arm64_is_priced_from_the_arm_table():
    cost = pricing.invocation_cost(2048, 1000, architecture="arm64")
    assert cost.compute_usd == 2.0 * 0.0000133334
    assert cost.price_source == "list price us-east-1 arm64 tier 1"


def test_cost_is_from_billed_duration_only():
    # A cold start billed 1 ms past Duration + Init; the cost must equal that billed number's cost,
    # whatever the Init Duration was (there is no parameter to add it).
    assert "init" not in " ".join(f.name for f in dataclasses.fields(pricing.InvocationCost)).lower()
    cold = pricing.invocation_cost(128, 251)
    assert cold.compute_usd == (128 / 1024) * (251 / 1000) * 0.0000166667


def test_zero_billed_ms_costs_only_the_request():
    cost = pricing.invocation_cost(128, 0)
    assert cost.compute_usd == 0.0
    assert cost.total_usd == 0.0000002


def test_storage_above_512_mb_is_charged():
    cost = pricing.invocation_cost(1024, 1000, storage_mb=1536)
    assert cost.storage_usd == 1.0 * 1.0 * 0.0000000309
    assert cost.total_usd == 0.0000166667 + 0.0000002 + 0.0000000309


@pytest.mark.parametrize("region, x86, arm", [
    ("us-east-1", 0.0000166667, 0.0000133334),
    ("eu-west-1", 0.0000166667, 0.0000133334),
    ("af-south-1", 0.0000221, 0.00001768),
    ("ap-east-1", 0.00002292, 0.0000183),
    ("eu-south-1", 0.0000195172, 0.0000156138),
    ("me-south-1", 0.0000206667, 0.0000165334),
    ("me-central-1", 0.0000206667, 0.0000165334),
])
def test_regional_tier1_prices(region, x86, arm):
    assert pricing.duration_price_gb_s(region, "x86_64") == x86
    assert pricing.duration_price_gb_s(region, "arm64") == arm
    assert region in pricing.KNOWN_REGIONS


def test_us_east_1_tiers():
    assert [pricing.duration_price_gb_s("us-east-1", "x86_64", t) for t in (1, 2, 3)] == [
        0.0000166667, 0.0000150000, 0.0000133334]
    assert [pricing.duration_price_gb_s("us-east-1", "arm64", t) for t in (1, 2, 3)] == [
        0.0000133334, 0.0000120001, 0.0000106667]


def test_higher_region_tiers_follow_the_90_and_80_percent_steps():
    assert [pricing.duration_price_gb_s("af-south-1", "x86_64", t) for t in (1, 2, 3)] == [
        0.0000221, 0.00001989, 0.00001768]


def test_price_override_is_used_for_duration_and_any_region():
    cost = pricing.invocation_cost(1024, 1000, region="xx-nowhere-1", price_gb_s=0.00002)
    assert cost.compute_usd == 0.00002
    assert cost.request_usd == 0.0000002
    assert cost.price_source == "given (--price-gb-s)"


def test_unknown_region_names_known_regions_and_the_override():
    with pytest.raises(UsageError) as err:
        pricing.invocation_cost(1024, 100, region="mars-east-1")
    assert "mars-east-1" in err.value.message
    assert "us-east-1" in err.value.message and "af-south-1" in err.value.message
    assert "--price-gb-s" in err.value.hint


@pytest.mark.parametrize("region", ["cn-north-1", "cn-northwest-1"])
def test_china_regions_are_rejected_because_they_price_in_cny(region):
    with pytest.raises(UsageError) as err:
        pricing.duration_price_gb_s(region)
    assert "CNY" in err.value.message
    assert "--price-gb-s" in err.value.hint


@pytest.mark.parametrize("kwargs, words", [
    (dict(memory_mb=127, billed_duration_ms=1), "127 MB is outside"),
    (dict(memory_mb=10241, billed_duration_ms=1), "10241 MB is outside"),
    (dict(memory_mb=128, billed_duration_ms=-1), "billed duration -1 ms"),
    (dict(memory_mb=128, billed_duration_ms=1.5), "billed duration 1.5 ms"),
    (dict(memory_mb=128, billed_duration_ms=1, architecture="ppc"), "unknown architecture 'ppc'"),
    (dict(memory_mb=128, billed_duration_ms=1, storage_mb=100), "ephemeral storage 100 MB"),
    (dict(memory_mb=128, billed_duration_ms=1, price_gb_s=0), "price per GB-second 0"),
    (dict(memory_mb=128, billed_duration_ms=1, price_gb_s=float("nan")), "price per GB-second nan"),
])
def test_bad_input_raises_usage_error(kwargs, words):
    with pytest.raises(UsageError, match=words):
        pricing.invocation_cost(**kwargs)


def test_unknown_tier_is_rejected():
    with pytest.raises(UsageError, match="tier 4"):
        pricing.duration_price_gb_s("us-east-1", "x86_64", 4)


def test_monthly_cost_matches_the_pricing_page_example():
    # Pricing page example: 512 MB, 3M invocations of 1 s, free tier applied:
    # (1,500,000 - 400,000) GB-s x price + (3M - 1M) x $0.20/M.
    month = pricing.monthly_cost(3_000_000, 512, 1000, include_free_tier=True)
    assert month.gb_s == 1_500_000
    assert month.free_gb_s == 400_000
    assert month.free_requests == 1_000_000
    assert month.compute_usd == pytest.approx(1_100_000 * 0.0000166667, rel=1e-12)
    assert month.request_usd == pytest.approx(0.40, rel=1e-12)
    assert month.total_usd == pytest.approx(18.73337, rel=1e-12)


def test_monthly_cost_without_free_tier_is_invocations_times_one():
    one = pricing.invocation_cost(256, 120, architecture="arm64", region="eu-south-1")
    month = pricing.monthly_cost(1000, 256, 120, architecture="arm64", region="eu-south-1")
    assert month.total_usd == pytest.approx(1000 * one.total_usd, rel=1e-12)
    assert [t.tier for t in month.tiers] == [1]


def test_monthly_cost_spills_into_tiers_2_and_3():
    # 10240 MB x 1 s = 10 GB-s per invoke; 2e9 invokes = 20e9 GB-s: 6e9 at tier 1, 9e9 at tier 2, 5e9 at tier 3.
    month = pricing.monthly_cost(2_000_000_000, 10240, 1000)
    assert [(t.tier, t.gb_s) for t in month.tiers] == [(1, 6e9), (2, 9e9), (3, 5e9)]
    assert month.compute_usd == pytest.approx(6e9 * 0.0000166667 + 9e9 * 0.000015 + 5e9 * 0.0000133334, rel=1e-12)


def test_monthly_arm_tiers_use_arm_boundaries():
    month = pricing.monthly_cost(1_000_000_000, 10240, 1000, architecture="arm64")  # 10e9 GB-s
    assert [(t.tier, t.gb_s) for t in month.tiers] == [(1, 7.5e9), (2, 2.5e9)]


def test_free_tier_never_makes_cost_negative():
    month = pricing.monthly_cost(10, 128, 100, include_free_tier=True)
    assert month.compute_usd == 0.0
    assert month.request_usd == 0.0
    assert month.total_usd == 0.0


def test_monthly_cost_rejects_negative_invocations():
    with pytest.raises(UsageError, match="invocations per month -1"):
        pricing.monthly_cost(-1, 128, 100)


def test_provisioned_prices_us_east_1_and_unknown_region():
    assert pricing.provisioned_prices_gb_s("us-east-1", "x86_64") == (0.0000041667, 0.0000097222)
    assert pricing.provisioned_prices_gb_s("us-east-1", "arm64") == (0.0000033334, 0.0000077778)
    with pytest.raises(UsageError, match="provisioned"):
        pricing.provisioned_prices_gb_s("eu-west-1")


def test_monthly_cost_of_a_cold_and_warm_mix_prices_the_mean_invocation():
    # 10M at 512 MB: 95% warm billing 36 ms, 5% cold billing 281 ms.
    month = pricing.monthly_cost(10_000_000, 512, 36, cold_share=0.05, cold_billed_duration_ms=281)
    gb_s = 10_000_000 * 0.5 * (0.95 * 0.036 + 0.05 * 0.281)
    assert month.gb_s == pytest.approx(gb_s, rel=1e-12)
    assert month.compute_usd == pytest.approx(gb_s * 0.0000166667, rel=1e-12)
    assert month.request_usd == pytest.approx(2.0, rel=1e-12)
    warm = pricing.monthly_cost(9_500_000, 512, 36)
    cold = pricing.monthly_cost(500_000, 512, 281)
    assert month.total_usd == pytest.approx(warm.total_usd + cold.total_usd, rel=1e-12)  # tier 1: additive
    assert month.to_dict()["cold_share"] == 0.05 and month.to_dict()["cold_billed_duration_ms"] == 281


def test_monthly_cost_mix_applies_tiers_to_the_months_total():
    # 10240 MB: 1 s warm (10 GB-s), 3 s cold (30 GB-s), half cold, 4e8 invocations = 8e9 GB-s.
    month = pricing.monthly_cost(400_000_000, 10240, 1000, cold_share=0.5, cold_billed_duration_ms=3000)
    assert [(t.tier, t.gb_s) for t in month.tiers] == [(1, 6e9), (2, 2e9)]


def test_monthly_cost_without_a_mix_keeps_its_document():
    assert "cold_share" not in pricing.monthly_cost(10, 128, 100).to_dict()


@pytest.mark.parametrize("kwargs, message", [
    (dict(cold_share=0.1), "a cold share of 0.1 needs the Billed Duration of a cold invocation"),
    (dict(cold_share=1.5, cold_billed_duration_ms=10), "cold share 1.5 is not between 0 and 1"),
    (dict(cold_share=0.1, cold_billed_duration_ms=-1), "cold billed duration -1 ms"),
    (dict(cold_share=float("nan"), cold_billed_duration_ms=1), "cold share nan"),
])
def test_monthly_cost_rejects_a_bad_mix(kwargs, message):
    with pytest.raises(UsageError, match=message):
        pricing.monthly_cost(10, 128, 100, **kwargs)


def test_monthly_cost_takes_a_mean_billed_duration_but_not_a_negative_one():
    assert pricing.monthly_cost(2, 1024, 1.5).gb_s == pytest.approx(2 * 0.0015, rel=1e-12)
    with pytest.raises(UsageError, match="billed duration -0.5 ms"):
        pricing.monthly_cost(2, 1024, -0.5)
