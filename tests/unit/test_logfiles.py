"""lambdabench.logfiles: every input kind, gzip and stdin, bad input, and the per-memory summary."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest

from lambdabench.errors import UsageError
from lambdabench.logfiles import (
    FoundReport,
    ReadStats,
    TableWriter,
    format_summaries,
    iter_file_reports,
    read_reports,
    summarize,
)
from lambdabench.logs import Report

LOGS = Path(__file__).resolve().parent.parent / "data" / "logs"

TAIL_COLD = Report("f07f3f34-5f33-5d85-8251-5ebb926d93bb", 826.23, 1417, 512, 96, 590.33)
TAIL_WARM = Report("a57f6444-9aa3-542d-bd9c-05d43c4cc03e", 597.68, 598, 512, 101)


def _read(path, stdin=None):
    stats = ReadStats(str(path))
    found = list(iter_file_reports(path, stats, stdin=stdin))
    return found, stats


def test_aws_logs_tail_output_gives_reports_with_time_and_stream():
    found, stats = _read(LOGS / "aws_logs_tail.log")
    assert found == [
        FoundReport(TAIL_COLD, str(LOGS / "aws_logs_tail.log"), 5, "2025-11-13T12:12:32.023000+00:00",
                    "2025/11/13/[$LATEST]d238428ccf7e4b03856c3d7181bd5a72"),
        FoundReport(TAIL_WARM, str(LOGS / "aws_logs_tail.log"), 8, "2025-11-14T03:40:41.050000+00:00",
                    "2025/11/14/[$LATEST]800effc4b94e41319d2740c273dc02df"),
    ]
    assert (stats.kind, stats.records, stats.reports, stats.skipped) == ("text", 8, 2, 6)
    assert stats.describe() == "2 REPORT records, 6 other lines skipped"


def test_gzip_of_a_log_reads_the_same_as_the_log():
    plain, _ = _read(LOGS / "aws_logs_tail.log")
    zipped, _ = _read(LOGS / "aws_logs_tail.log.gz")
    assert [(f.report, f.line, f.timestamp, f.log_stream) for f in zipped] == \
           [(f.report, f.line, f.timestamp, f.log_stream) for f in plain]


def test_stdin_is_read_from_the_given_stream_even_gzipped():
    data = (LOGS / "aws_logs_tail.log.gz").read_bytes()
    found, stats = _read("-", stdin=io.BytesIO(data))
    assert [f.report for f in found] == [TAIL_COLD, TAIL_WARM]
    assert {f.source for f in found} == {"<stdin>"}
    assert stats.source == "<stdin>"


def test_dash_without_a_stream_is_a_usage_error():
    with pytest.raises(UsageError, match="standard input"):
        _read("-")


def test_sam_logs_output_gives_stream_then_time_and_snapstart_fields():
    found, _ = _read(LOGS / "sam_logs.log")
    assert [(f.line, f.timestamp, f.log_stream) for f in found] == [
        (4, "2023-06-02T11:27:25.060000", "2023/06/02/[72]88ab219a63d343d294d0a9947e8ab36a"),
        (5, "2021-07-28T06:15:06.073000", "2021/07/28/[$LATEST]7b4ab412d2494617934d9cd408d8f8a8"),
    ]
    assert found[0].report == Report("8c360c87-d4b7-4423-b5f3-af02be3c1763", 2338.66, 2521, 3009, 173, None,
                                     398.97, 182)
    assert found[1].report == Report("abdd9973-487b-4293-93e5-ed230703cab0", 67.61, 68, 128, 64, 201.85)


def test_console_copy_keeps_its_timestamp():
    found, _ = _read(LOGS / "console_copy.txt")
    assert [(f.line, f.timestamp, f.log_stream, f.report.cold) for f in found] == [
        (2, "2023-12-15T14:48:35.171+08:00", None, True), (3, "2023-12-15T14:48:37.531+08:00", None, False)]


def test_raw_log_with_crlf_xray_and_timeout_status():
    found, stats = _read(LOGS / "raw_crlf.log")
    assert [(f.line, f.report) for f in found] == [
        (5, Report("7c9567b5-107b-4a6c-8798-0157ac21db52", 3003.16, 3000, 128, 48, 127.02)),
        (6, Report("f08bb4c8-d6b2-4f05-ac17-af7e2ba005fb", 619.31, 700, 128, 118)),
        (8, Report("1e5c8abd-3d36-461b-8c0f-a56b952715b3", 3000.0, 3068, 128, 35, 67.49, status="timeout")),
    ]
    assert (stats.records, stats.skipped) == (8, 5)


def test_json_log_format_lines_take_the_records_time_and_skip_application_json():
    found, stats = _read(LOGS / "json_format.log")
    assert [(f.line, f.timestamp, f.report) for f in found] == [
        (4, "2026-10-08T07:30:29.470Z", Report("79b5e81f-9cdd-4145-b1f6-7c50ef8a2a36", 1233.96, 1698, 256, 123,
                                               463.512)),
        (5, "2026-07-09T06:05:50.581Z", Report("aec7a529-47f9-4090-be01-c9ed91bf83cf", 5000.0, 5000, 128, 94,
                                               status="timeout")),
    ]
    assert (stats.kind, stats.skipped) == ("text", 3)


def test_filter_log_events_document_gives_event_time_and_stream():
    found, stats = _read(LOGS / "filter_log_events.json")
    assert stats.kind == "events-document"
    assert [(f.line, f.timestamp, f.log_stream, f.report.status, f.report.cold) for f in found] == [
        (2, "2025-09-03T01:03:53.072Z", "2025/09/02/fn[$LATEST]10681b291d2547ae90e38612e90b0aeb", "timeout", True),
        (3, "2025-09-03T01:03:57.352Z", "2025/09/02/fn[$LATEST]10681b291d2547ae90e38612e90b0aeb", "timeout", False),
    ]
    assert stats.describe() == "2 REPORT records, 1 other event skipped"


def test_one_event_per_line_including_a_json_format_message():
    found, stats = _read(LOGS / "get_log_events.jsonl")
    assert stats.kind == "events-lines"
    assert [(f.line, f.timestamp, f.log_stream, f.report) for f in found] == [
        (2, "2019-06-05T19:30:03.218Z", None, Report("4ce9340a-b765-490f-ad8a-02ab3415e2bf", 26.73, 27, 128, 75)),
        (3, "2024-06-17T17:23:55.826Z", None, Report("40f6c622-67a3-4159-97f2-ce364a0cb7a8", 18.593, 19, 2048, 246)),
    ]


def test_console_csv_export_with_quoted_newlines_names_the_starting_line():
    found, stats = _read(LOGS / "console_export.csv")
    assert stats.kind == "csv"
    assert [(f.line, f.timestamp, f.report) for f in found] == [
        (4, "2020-03-05T13:31:28.315Z", Report("fe1467d6-1458-4e20-8e40-9aaa4be7a0f4", 3470.65, 3500, 128, 89)),
        (7, "2020-03-05T13:31:30.000Z", Report("83269395-33ee-45a8-8a99-38f67b6faf72", 11.48, 12, 128, 10,
                                               status="error", error_type="Runtime.InvalidEntrypoint")),
    ]


def test_a_list_of_events_and_a_subscription_payload(tmp_path):
    event = {"timestamp": 1559763003218, "message": "REPORT RequestId: a\tDuration: 1.50 ms\tBilled Duration: 2 ms"
                                                    "\tMemory Size: 128 MB\tMax Memory Used: 40 MB\t\n"}
    listing = tmp_path / "events.json"
    listing.write_text(json.dumps([event]))
    found, _ = _read(listing)
    assert [f.report for f in found] == [Report("a", 1.5, 2, 128, 40)]
    payload = tmp_path / "payload.json"
    payload.write_text(json.dumps({"messageType": "DATA_MESSAGE", "logStream": "2020/03/05/[$LATEST]20bd",
                                   "logEvents": [dict(event, id="1")]}))
    found, _ = _read(payload)
    assert [(f.log_stream, f.report.request_id) for f in found] == [("2020/03/05/[$LATEST]20bd", "a")]


def test_a_one_line_events_document_bigger_than_the_sniff_window(tmp_path):
    event = {"timestamp": 1, "message": "REPORT RequestId: b\tDuration: 2.00 ms\tBilled Duration: 2 ms\t"}
    filler = {"timestamp": 1, "message": "x" * 1000}
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"events": [filler] * 100 + [event]}))
    found, stats = _read(path)
    assert (stats.kind, stats.records, [f.line for f in found]) == ("events-document", 101, [101])


def test_text_log_starting_with_a_bracketed_level_is_text(tmp_path):
    path = tmp_path / "app.log"
    path.write_text("[INFO]\t2024-01-01T00:00:00.000Z\tx\tstarting\nREPORT RequestId: c\tDuration: 3.00 ms\t\n")
    found, stats = _read(path)
    assert (stats.kind, [f.report for f in found]) == ("text", [Report("c", 3.0)])


def test_missing_file_names_it():
    with pytest.raises(UsageError, match=r"nope\.log: no such file"):
        _read(LOGS / "nope.log")


def test_directory_is_refused(tmp_path):
    with pytest.raises(UsageError, match="is a directory"):
        _read(tmp_path)


def test_broken_events_json_names_the_line():
    with pytest.raises(UsageError, match=r"broken_events\.json:5: broken JSON"):
        _read(LOGS / "broken_events.json")


def test_broken_line_in_an_events_per_line_file_names_the_line(tmp_path):
    path = tmp_path / "events.jsonl"
    good = json.dumps({"timestamp": 1, "message": "START RequestId: a"})
    path.write_text(f"{good}\n{good}\n{{\"timestamp\": 2, \"message\": \"REPO\n")
    with pytest.raises(UsageError, match=r"events\.jsonl:3: broken JSON event"):
        _read(path)


def test_events_document_without_events_is_refused(tmp_path):
    path = tmp_path / "other.json"
    path.write_text('{\n  "nextToken": "abc"\n}\n')
    with pytest.raises(UsageError, match=r"other\.json:1: expected a JSON object with an 'events' list"):
        _read(path)


def test_binary_file_is_refused():
    with pytest.raises(UsageError, match=r"binary\.bin:1: binary data"):
        _read(LOGS / "binary.bin")


def test_truncated_gzip_is_refused():
    with pytest.raises(UsageError, match=r"truncated\.log\.gz:1: cannot decompress"):
        _read(LOGS / "truncated.log.gz")


def test_gzip_damaged_after_the_first_block_names_a_later_line(tmp_path):
    lines = "".join(f"START RequestId: r{i} Version: $LATEST\n" for i in range(20000))
    data = gzip.compress(lines.encode(), compresslevel=1)
    path = tmp_path / "cut.log.gz"
    path.write_bytes(data[: len(data) - 40])
    with pytest.raises(UsageError, match=r"cut\.log\.gz:(\d+): cannot decompress") as info:
        _read(path)
    line = int(info.value.message.split(":")[1])
    assert line > 1000


def test_non_utf8_text_names_the_exact_line():
    with pytest.raises(UsageError, match=r"latin1\.log:3: not UTF-8"):
        _read(LOGS / "latin1.log")


def test_empty_file_has_no_reports(tmp_path):
    path = tmp_path / "empty.log"
    path.write_text("")
    found, stats = _read(path)
    assert (found, stats.records, stats.reports) == ([], 0, 0)


def test_read_reports_reads_several_files_in_order():
    found, stats = read_reports([LOGS / "console_copy.txt", LOGS / "aws_logs_tail.log"])
    assert [f.report.request_id for f in found] == ["19234f5f-b2f8-4a9e-b7da-641ef9b4a181",
                                                    "a20821af-2040-4aa5-9908-09ec9aec0279",
                                                    TAIL_COLD.request_id, TAIL_WARM.request_id]
    assert [s.reports for s in stats] == [2, 2]


def test_table_writer_csv_and_jsonl():
    found, _ = _read(LOGS / "console_copy.txt")
    out = io.StringIO()
    writer = TableWriter(out, "csv")
    for f in found:
        writer.write(f)
    writer.close()
    lines = out.getvalue().splitlines()
    assert lines[0] == ("source,line,timestamp,log_stream,request_id,duration_ms,billed_duration_ms,memory_size_mb,"
                        "max_memory_used_mb,init_duration_ms,restore_duration_ms,billed_restore_duration_ms,status,"
                        "error_type,cold")
    assert lines[1] == (f"{LOGS / 'console_copy.txt'},2,2023-12-15T14:48:35.171+08:00,,"
                        "19234f5f-b2f8-4a9e-b7da-641ef9b4a181,39.75,40,128,45,175.18,,,success,,true")
    out = io.StringIO()
    writer = TableWriter(out, "jsonl")
    writer.write(found[1])
    writer.close()
    assert json.loads(out.getvalue()) == {
        "source": str(LOGS / "console_copy.txt"), "line": 3, "timestamp": "2023-12-15T14:48:37.531+08:00",
        "log_stream": None, "request_id": "a20821af-2040-4aa5-9908-09ec9aec0279", "duration_ms": 16.06,
        "billed_duration_ms": 17, "memory_size_mb": 128, "max_memory_used_mb": 45, "init_duration_ms": None,
        "restore_duration_ms": None, "billed_restore_duration_ms": None, "status": "success", "error_type": None,
        "cold": False}


def test_empty_csv_table_still_has_its_header():
    out = io.StringIO()
    TableWriter(out, "csv").close()
    assert out.getvalue().startswith("source,line,")


def test_summary_per_memory_size_with_exact_values():
    reports = [
        Report("w1", 10.0, 10, 1024, 60), Report("w2", 20.0, 20, 1024, 70), Report("w3", 30.0, 30, 1024, 65),
        Report("c1", 100.0, 250, 1024, 80, init_duration_ms=150.0),
        Report("t1", 3000.0, 3000, 1024, 90, status="timeout"),
        Report("x", 5.0, 5, 128, 50),
        Report("lmi", 2.5),
    ]
    s128, s1024, unknown = summarize(reports)
    assert (s1024.memory_size_mb, s1024.count, s1024.cold_count, s1024.cold_share) == (1024, 5, 1, 0.2)
    assert s1024.status_counts == {"success": 4, "timeout": 1}
    assert (s1024.warm_samples, s1024.cold_samples) == (3, 1)
    # warm successful durations 10, 20, 30: linear interpolation
    assert (s1024.warm_p50_ms, s1024.warm_p95_ms) == (20.0, 29.0)
    assert s1024.warm_p99_ms == pytest.approx(29.8)
    assert (s1024.cold_p50_ms, s1024.init_p50_ms, s1024.max_memory_used_mb) == (100.0, 150.0, 90)
    # mean billed 662 ms at 1 GB: 0.662 s x 0.0000166667 + 0.0000002 per invocation
    assert s1024.cost_per_million_usd == pytest.approx((0.662 * 0.0000166667 + 0.0000002) * 1e6, rel=1e-9)
    assert s128.cost_per_million_usd == pytest.approx((0.125 * 0.005 * 0.0000166667 + 0.0000002) * 1e6, rel=1e-9)
    assert (unknown.memory_size_mb, unknown.count, unknown.cost_per_million_usd, unknown.max_memory_used_mb) == (
        None, 1, None, None)


def test_summary_arm64_prices_lower():
    report = [Report("a", 100.0, 100, 1024, 60)]
    (x86,) = summarize(report)
    (arm,) = summarize(report, architecture="arm64")
    assert arm.cost_per_million_usd == pytest.approx((0.1 * 0.0000133334 + 0.0000002) * 1e6, rel=1e-9)
    assert arm.cost_per_million_usd < x86.cost_per_million_usd


def test_summary_formats():
    (s,) = summarize([Report("a", 10.0, 10, 512, 60), Report("b", 90.0, 200, 512, 61, init_duration_ms=100.0)])
    text = format_summaries([s])[0]
    assert text.splitlines()[0] == "Memory 512 MB: 2 invocations, cold 1 (50.0%)"
    assert "Warm duration   p50 10.00 ms   p95 10.00 ms   p99 10.00 ms   (n=1)" in text
    assert "Cold duration   p50 90.00 ms   p95 90.00 ms   p99 90.00 ms   (n=1; Init p50 100.00 ms)" in text
    assert "Max memory used 61 MB of 512 MB" in text
    rows = [json.loads(line) for line in format_summaries([s], "jsonl")]
    assert (rows[0]["memory_size_mb"], rows[0]["count"], rows[0]["cold_count"], rows[0]["cold_share"]) == (512, 2, 1, 0.5)
    csv_text = format_summaries([s], "csv")[0].splitlines()
    assert csv_text[0].startswith("memory_size_mb,count,cold_count,cold_share,success,timeout,error")
    assert csv_text[1].startswith("512,2,1,0.5,2,0,0,0,1,1,10.0,10.0,10.0,90.0,")
