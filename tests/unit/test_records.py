"""The results schema: one record type, read with types normalised once, written in the file's key order."""

from __future__ import annotations

import json

import pytest

from lambdabench.errors import UsageError
from lambdabench.records import (
    FIELDS,
    ConfigPoint,
    InvocationRecord,
    host_limited,
    in_statistics,
    record_status,
    wave_demand_vcpus,
)
from lambdabench.results import ResultsWriter, dump_line, read_results

# The key order sweep/driver.py has always written (results.jsonl stays byte-identical), then format 2's
# addition, then format 3's (the adaptive search's phase and step).
DRIVER_KEY_ORDER = (
    "invocation_id", "memory_mb", "timeout_s", "architecture", "scenario", "wave", "request_id", "status", "cold",
    "warmup", "state_mismatch", "duration_ms", "billed_duration_ms", "init_duration_ms", "max_memory_used_mb",
    "client_ms", "cost_usd", "error_type", "started_at", "function_error", "payload_label", "payload_index",
    "report_source", "memory_size_mb", "restore_duration_ms", "expect_cold", "seq", "host_limited",
    "search_phase", "search_step",
)


def line(**over):
    base = {
        "invocation_id": "m128-t10-x86_64/warm/0", "memory_mb": 128, "timeout_s": 10, "architecture": "x86_64",
        "scenario": "warm", "wave": None, "request_id": "r1", "status": "ok", "cold": False, "warmup": False,
        "state_mismatch": False, "duration_ms": 12.5, "billed_duration_ms": 13, "init_duration_ms": None,
        "max_memory_used_mb": 40, "client_ms": 15.25, "cost_usd": 2.1e-7, "error_type": None,
        "started_at": "2026-11-27T06:00:01.000000Z", "function_error": None, "payload_label": "p",
        "payload_index": 0, "report_source": "tail", "memory_size_mb": 128, "restore_duration_ms": None,
        "expect_cold": False, "seq": 3, "host_limited": False, "search_phase": None, "search_step": None,
    }
    base.update(over)
    return base


def test_record_keys_are_the_drivers_key_order():
    assert FIELDS == DRIVER_KEY_ORDER
    assert tuple(InvocationRecord.from_json(line()).to_json()) == DRIVER_KEY_ORDER


def test_a_well_formed_line_round_trips_to_the_same_bytes():
    text = dump_line({"type": "invocation", **line()})
    record = InvocationRecord.from_json(json.loads(text))
    assert dump_line({"type": "invocation", **record.to_json()}) == text


def test_from_json_normalises_numbers_and_flags_once():
    record = InvocationRecord.from_json(line(
        duration_ms=float("nan"), billed_duration_ms="13", client_ms=True, cost_usd=float("inf"),
        warmup=None, state_mismatch=1, cold=0, expect_cold=None, memory_mb="256", wave=1.0,
    ))
    assert record.duration_ms is None and record.client_ms is None and record.cost_usd is None
    assert record.billed_duration_ms == 13.0
    assert record.warmup is False and record.state_mismatch is True
    assert record.cold is False and record.expect_cold is None
    assert record.memory_mb == 256 and record.wave == 1
    assert record.config == ConfigPoint(256, 10, "x86_64")


def test_only_kept_samples_enter_statistics():
    assert in_statistics(InvocationRecord.from_json(line()))
    assert not in_statistics(InvocationRecord.from_json(line(warmup=True)))
    assert not in_statistics(InvocationRecord.from_json(line(state_mismatch=True)))
    # a flag a reader once compared with `is True` and another with bool(): one rule now
    assert not in_statistics(InvocationRecord.from_json(line(state_mismatch=1)))


@pytest.mark.parametrize(("report_status", "kw", "expected"), [
    ("success", {}, "ok"),
    (None, {}, "ok"),
    ("timeout", {}, "timeout"),
    ("error", {}, "error"),
    ("success", {"function_error": "Unhandled"}, "error"),
    ("error", {"error_type": "Runtime.OutOfMemory"}, "oom"),
    (None, {"throttled": True}, "throttled"),
])
def test_report_status_words_map_onto_record_statuses(report_status, kw, expected):
    args = {"function_error": None, "throttled": False, "error_type": None, **kw}
    assert record_status(report_status, **args) == expected


def test_grid_point_names_itself_and_parses_from_a_header_dict():
    point = ConfigPoint.from_dict({"memory_mb": 512, "timeout_s": 3})
    assert point == ConfigPoint(512, 3, "x86_64")
    assert point.config_id == "m512-t3-x86_64" and point.label == "512 MB / 3 s / x86_64"


def test_an_unreadable_grid_point_is_a_usage_error_naming_the_line(tmp_path):
    path = tmp_path / "results.jsonl"
    with ResultsWriter(path, {"target": "local"}) as w:
        w.write_invocation(InvocationRecord.from_json(line()))
    with open(path, "a", encoding="utf-8") as f:
        f.write(dump_line({"type": "invocation", **line(memory_mb="lots")}))
    with pytest.raises(UsageError) as err:
        read_results(path)
    assert err.value.message == f"{path}:3: invocation record without a readable memory_mb/timeout_s"


def test_wave_demand_is_concurrency_times_the_cpu_share_times_threads():
    assert wave_demand_vcpus(4, 1769) == 4.0
    assert wave_demand_vcpus(4, 3538) == 4.0  # one thread uses at most one vCPU
    assert wave_demand_vcpus(4, 3538, threads=2) == 8.0
    assert wave_demand_vcpus(4, 128) == pytest.approx(4 * 128 / 1769)


LOCAL_2 = {"target": "local", "emulator": {"host_cores": 2}}


def test_host_limited_only_on_the_local_target_with_a_known_core_count():
    assert host_limited(LOCAL_2, scenario="burst", concurrency=3, memory_mb=1769)
    assert not host_limited(LOCAL_2, scenario="burst", concurrency=2, memory_mb=1769)
    assert not host_limited(LOCAL_2, scenario="warm", concurrency=3, memory_mb=1769)
    assert not host_limited({"target": "aws", "emulator": {"host_cores": 2}}, scenario="burst", concurrency=9,
                            memory_mb=1769)
    assert not host_limited({"target": "local", "emulator": {}}, scenario="burst", concurrency=9, memory_mb=1769)


def test_a_version_1_file_is_migrated_with_host_limited_derived_from_wave_sizes(tmp_path):
    path = tmp_path / "results.jsonl"
    rows = [line(invocation_id=f"m1769-t10-x86_64/burst/w0/{i}", memory_mb=1769, scenario="burst", wave=0)
            for i in range(3)]
    rows.append(line(invocation_id="m1769-t10-x86_64/burst/w0/3", memory_mb=1769, scenario="burst", wave=0,
                     status="throttled"))
    rows += [line(invocation_id=f"m1769-t10-x86_64/burst/w1/{i}", memory_mb=1769, scenario="burst", wave=1)
             for i in range(2)]
    rows.append(line(memory_mb=1769))
    text = dump_line({"type": "header", "format_version": 1, **LOCAL_2})
    text += "".join(dump_line({"type": "invocation", **r}) for r in rows)
    path.write_text(text, encoding="utf-8")
    records = read_results(path).records
    # wave 0 sent 4 (one throttled: it never ran), wave 1 sent 2, on 2 cores
    assert [r.host_limited for r in records] == [True, True, True, False, False, False, False]
    assert [in_statistics(r) for r in records] == [False, False, False, True, True, True, True]


def test_a_format_this_version_cannot_read_is_a_usage_error(tmp_path):
    path = tmp_path / "results.jsonl"
    path.write_text(dump_line({"type": "header", "format_version": 99}), encoding="utf-8")
    with pytest.raises(UsageError) as err:
        read_results(path)
    assert err.value.message == f"{path}: format_version 99 is not one this lambdabench reads (1, 2, 3)"
