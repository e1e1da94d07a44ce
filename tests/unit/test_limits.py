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


@pytest.mark.parametrize("value, ok", [(1, True), (900, True), (0, False), (901, False), (3.0, False), (False, False)])
def test_is_valid_timeout_s_accepts_only_ints_in_range(value, ok):
    assert limits.is_valid_timeout_s(value) is ok


def test_ephemeral_storage_range():
    assert limits.is_valid_ephemeral_storage_mb(512)
    assert limits.is_valid_ephemeral_storage_mb(10240)
    assert not limits.is_valid_ephemeral_storage_mb(511)


def test_one_vcpu_at_1769_mb():
    assert limits.vcpus_for_memory(1769) == 1.0
    assert limits.vcpus_for_memory(10240) == 10240 / 1769
    assert round(limits.vcpus_for_memory(10240), 2) == 5.79


def test_cpu_quota_per_20_ms_period():
    assert limits.CPU_PERIOD_MS == 20
    assert limits.cpu_quota_ms(1769) == 20.0
    assert round(limits.cpu_quota_ms(128), 2) == 1.45


@pytest.mark.parametrize("memory_mb, cores", [
    (128, 2), (1769, 2), (3008, 2), (3009, 3), (5307, 3), (5308, 4),
    (7076, 4), (7077, 5), (8845, 5), (8846, 6), (10240, 6),
])
def test_visible_cores_table(memory_mb, cores):
    assert limits.visible_cores(memory_mb) == cores


@pytest.mark.parametrize("bad", [127, 10241, 0, -5])
def test_cpu_helpers_reject_memory_outside_lambda_range(bad):
    with pytest.raises(ValueError, match="128..10240"):
        limits.visible_cores(bad)
    with pytest.raises(ValueError, match="128..10240"):
        limits.vcpus_for_memory(bad)


def test_concurrency_defaults():
    assert limits.ACCOUNT_CONCURRENCY_DEFAULT == 1000
    assert limits.UNRESERVED_CONCURRENCY_MIN == 100
