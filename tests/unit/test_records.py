"""The results schema: one record type, read with types normalised once, written in the file's key order."""

from __future__ import annotations

import json

import pytest

from lambdabench.errors import UsageError
from lambdabench.records import FIELDS, ConfigPoint, InvocationRecord, in_statistics, record_status
from lambdabench.results import ResultsWriter, dump_line, read_results

# The key order sweep/driver.py has always written (results.jsonl stays byte-identical).
DRIVER_KEY_ORDER = (
    "invocation_id", "memory_mb", "timeout_s", "architecture", "scenario", "wave", "request_id", "status", "cold",
    "warmup", "state_mismatch", "duration_ms", "billed_duration_ms", "init_duration_ms", "max_memory_used_mb",
    "client_ms", "cost_usd", "error_type", "started_at", "function_error", "payload_label", "payload_index",
    "report_source", "memory_size_mb", "restore_duration_ms", "expect_cold", "seq",
)


def line(**over):
    base = {
        "invocation_id": "m128-t10-x86_64/warm/0", "memory_mb": 128, "timeout_s": 10, "architecture": "x86_64",
        "scenario": "warm", "wave": None, "request_id": "r1", "status": "ok", "cold": False, "warmup": False,
        "state_mismatch": False, "duration_ms": 12.5, "billed_duration_ms": 13, "init_duration_ms": None,
        "max_memory_used_mb": 40, "client_ms": 15.25, "cost_usd": 2.1e-7, "error_type": None,
        "started_at": "2026-11-27T06:00:01.000000Z", "function_error": None, "payload_label": "p",
        "payload_index": 0, "report_source": "tail", "memory_size_mb": 128, "restore_duration_ms": None,
        "expect_cold": False, "seq": 3,
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
