"""Lambda limits and the CPU model helpers."""

from __future__ import annotations

import pytest

from lambdabench import limits


def test_memory_and_timeout_ranges_match_lambda():
    assert (limits.MEMORY_MIN_MB, limits.MEMORY_MAX_MB) == (128, 10240)
    assert (limits.TIMEOUT_MIN_S, limits.TIMEOUT_MAX_S, limits.TIMEOUT_DEFAULT_S) == (1, 900, 3)
    assert limits.INIT_TIMEOUT_S == 10
    assert (limits.EPHEMERAL_STORAGE_MIN_MB, limits.EPHEMERAL_STORAGE_MAX_MB) == (512, 10240)


def test_payload_limits_are_in_bytes():
    assert limits.PAYLOAD_SYNC_MAX_BYTES == 6_291_456
    assert limits.PAYLOAD_ASYNC_MAX_BYTES == 1_048_576
    assert limits.LOG_RESULT_TAIL_BYTES == 4096


@pytest.mark.parametrize("value, ok", [
    (128, True), (10240, True), (1769, True), (127, False), (10241, False),
    (True, False), (512.0, False), ("512", False), (None, False),
])
def test_is_valid_memory_mb_accepts_only_ints_in_range(value, ok):
    assert limits.is_valid_memory_mb(value) is ok


def test_ephemeral_storage_range():
    assert limits.is_valid_ephemeral_storage_mb(512)
    assert limits.is_valid_ephemeral_storage_mb(10240)
    assert not limits.is_valid_ephemeral_storage_mb(511)


def test_one_vcpu_at_1769_mb():
    assert limits.vcpus_for_memory(1769) == 1.0
    assert limits.vcpus_for_memory(10240) == 10240 / 1769
    assert round(limits.vcpus_for_memory(10240), 2) == 5.79


@pytest.mark.parametrize("bad", [127, 10241, 0, -5])
def test_vcpus_for_memory_rejects_memory_outside_lambda_range(bad):
    with pytest.raises(ValueError, match="128..10240"):
        limits.vcpus_for_memory(bad)


def test_environment_variable_names_follow_the_lambda_model_pattern():
    assert limits.environment_variable_name_pattern() == "[a-zA-Z]([a-zA-Z0-9_])+"
    assert [limits.is_valid_environment_variable_name(n) for n in ("AB", "a_1", "X", "1A", "A-B", "", "AB\n", 5)] \
        == [True, True, False, False, False, False, False, False]
    assert "AWS_REGION" in limits.RESERVED_ENVIRONMENT_KEYS


def test_concurrency_defaults():
    assert limits.ACCOUNT_CONCURRENCY_DEFAULT == 1000
    assert limits.UNRESERVED_CONCURRENCY_MIN == 100


def test_visible_cores_follow_lambdas_thresholds():
    assert [limits.visible_cores(m) for m in (128, 3008, 3009, 5307, 5308, 7077, 8846, 10240)] == \
        [2, 2, 3, 3, 4, 5, 6, 6]
