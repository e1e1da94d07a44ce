"""Every record of the real REPORT corpus (../shared/data/report_corpus.jsonl) reads to its expected values."""

from __future__ import annotations

import json

import pytest

from lambdabench.logs import decode_log_result, parse_record, parse_report

# corpus `expected` key -> Report field
REPORT_KEYS = {
    "request_id": "request_id",
    "duration_ms": "duration_ms",
    "billed_ms": "billed_duration_ms",
    "memory_mb": "memory_size_mb",
    "max_memory_mb": "max_memory_used_mb",
    "init_ms": "init_duration_ms",
    "restore_ms": "restore_duration_ms",
    "billed_restore_ms": "billed_restore_duration_ms",
    "status": "status",
    "error_type": "error_type",
}
# corpus `expected` key -> LogRecord field name, for the other record kinds
RECORD_KEYS = {"init_ms": "init_duration_ms", "restore_ms": "restore_duration_ms"}


def _corpus(shared_data):
    with open(shared_data / "report_corpus.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def test_corpus_has_the_documented_size(shared_data):
    entries = _corpus(shared_data)
    assert len(entries) == 141
    assert sum(1 for e in entries if e["expected"]["record_type"] == "REPORT") == 90


def test_every_report_in_the_corpus_parses_to_its_expected_values(shared_data):
    failures = []
    for number, entry in enumerate(_corpus(shared_data), 1):
        expected = entry["expected"]
        if expected["record_type"] != "REPORT":
            continue
        text = entry.get("decoded", entry["line"])
        report = parse_report(text)
        want = {field: expected[key] for key, field in REPORT_KEYS.items()}
        if want["status"] is None:
            want["status"] = "success"  # the contract: no Status on the line means success
        got = None if report is None else {field: getattr(report, field) for field in want}
        if got != want:
            failures.append((number, entry["variant"], got, want))
        # The prefix-free CloudWatch message reads the same as the tool's line.
        if "message" in entry and parse_report(entry["message"]) != report:
            failures.append((number, "message differs from line", entry["message"]))
    assert failures == []


def test_every_non_report_record_in_the_corpus_gives_none(shared_data):
    others = [e for e in _corpus(shared_data) if e["expected"]["record_type"] != "REPORT"]
    assert len(others) == 51
    assert [(e["variant"], e["line"]) for e in others if parse_report(e["line"]) is not None] == []


def test_base64_log_results_decode_to_the_corpus_text(shared_data):
    blobs = [e for e in _corpus(shared_data) if "decoded" in e]
    assert len(blobs) == 2
    for entry in blobs:
        assert decode_log_result(entry["line"]) == entry["decoded"]
        assert parse_report(decode_log_result(entry["line"])).request_id == entry["expected"]["request_id"]


def test_every_corpus_record_reads_as_its_kind_with_expected_fields(shared_data):
    failures = []
    for number, entry in enumerate(_corpus(shared_data), 1):
        if "decoded" in entry:
            continue
        expected = dict(entry["expected"])
        kind = expected.pop("record_type")
        record = parse_record(entry["line"])
        if kind is None:
            if record is not None:
                failures.append((number, "application line read as", record.kind))
            continue
        if record is None or record.kind != kind:
            failures.append((number, entry["variant"], None if record is None else record.kind, kind))
            continue
        if kind == "REPORT":
            assert record.report == parse_report(entry["line"])
            continue
        for key, value in expected.items():
            if key == "request_id":
                got = record.request_id
            else:
                got = record.fields.get(RECORD_KEYS.get(key, key))
            if got != value:
                failures.append((number, entry["variant"], key, got, value))
    assert failures == []


@pytest.mark.parametrize("kind", ["TIMEOUT", "XRAY", "INIT_REPORT", "RESTORE_REPORT", "RUNTIME_DONE", "FAULT"])
def test_the_corpus_covers_each_other_kind(shared_data, kind):
    assert any(e["expected"]["record_type"] == kind for e in _corpus(shared_data))
