"""lambdabench.logs: exact values for each REPORT variant, the other records, and the writers."""

from __future__ import annotations

import base64
import dataclasses
from datetime import datetime, timedelta, timezone

import pytest

from lambdabench.logs import (
    LogRecord,
    Report,
    decode_log_result,
    format_end,
    format_init_report,
    format_init_start,
    format_platform_record,
    format_platform_report,
    format_platform_start,
    format_report,
    format_start,
    format_timeout,
    iter_reports,
    parse_record,
    parse_report,
    split_prefix,
)

RID = "50aba555-xmpl-4b21-8358-644ee996a05f"
WARM = Report(RID, 12.96, 13, 128, 48)
COLD = Report(RID, 12.96, 131, 128, 48, init_duration_ms=117.86)
WHEN = datetime(2024, 1, 1, 0, 0, 0, 123456, tzinfo=timezone.utc)


def test_report_has_exactly_the_contract_fields():
    assert [f.name for f in dataclasses.fields(Report)] == [
        "request_id", "duration_ms", "billed_duration_ms", "memory_size_mb", "max_memory_used_mb",
        "init_duration_ms", "restore_duration_ms", "billed_restore_duration_ms", "status", "error_type",
    ]
    with pytest.raises(dataclasses.FrozenInstanceError):
        WARM.duration_ms = 1.0  # type: ignore[misc]


def test_cold_start_is_a_report_with_init_duration():
    assert COLD.cold is True
    assert WARM.cold is False


def test_tab_separated_line_with_trailing_tab():
    line = f"REPORT RequestId: {RID}\tDuration: 12.96 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 48 MB\t"
    assert parse_report(line) == WARM


def test_space_separated_line_without_trailing_tab():
    line = f"REPORT RequestId: {RID} Duration: 12.96 ms Billed Duration: 13 ms Memory Size: 128 MB Max Memory Used: 48 MB"
    assert parse_report(line) == WARM


def test_cold_line_reports_init_duration_and_types():
    report = parse_report(
        f"REPORT RequestId: {RID}\tDuration: 12.96 ms\tBilled Duration: 131 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 48 MB\tInit Duration: 117.86 ms\t")
    assert report == COLD
    assert isinstance(report.duration_ms, float) and isinstance(report.init_duration_ms, float)
    assert isinstance(report.billed_duration_ms, int) and isinstance(report.memory_size_mb, int)


def test_timeout_status_is_read():
    report = parse_report(
        "REPORT RequestId: 527cb862-4f5e-49a9-9ae4-a7edc90f0fda Duration: 3016.78 ms Billed Duration: 3101 ms "
        "Memory Size: 128 MB Max Memory Used: 31 MB Init Duration: 84.00 ms Status: timeout")
    assert report == Report("527cb862-4f5e-49a9-9ae4-a7edc90f0fda", 3016.78, 3101, 128, 31, 84.0, status="timeout")


def test_error_status_and_error_type_are_read():
    report = parse_report(
        "REPORT RequestId: 806ab12b\tDuration: 376256.59 ms\tBilled Duration: 376257 ms\tMemory Size: 10239 MB\t"
        "Max Memory Used: 10239 MB\tInit Duration: 551.73 ms\tStatus: error\tError Type: Runtime.OutOfMemory")
    assert report == Report("806ab12b", 376256.59, 376257, 10239, 10239, 551.73,
                            status="error", error_type="Runtime.OutOfMemory")


def test_snapstart_restore_fields_are_read():
    report = parse_report(
        "REPORT RequestId: 5b321b10\tDuration: 149.53 ms\tBilled Duration: 313 ms\tMemory Size: 3538 MB\t"
        "Max Memory Used: 163 MB\tRestore Duration: 789.64 ms\tBilled Restore Duration: 163 ms\t")
    assert report == Report("5b321b10", 149.53, 313, 3538, 163, None, 789.64, 163)
    assert report.cold is True  # a restore is a fresh environment: never a warm sample


def test_hundred_ms_era_line_reads_billed_as_written():
    report = parse_report(
        "REPORT RequestId: 8f507cfc-xmpl-4697-b07a-ac58fc914c95  Duration: 15.74 ms  Billed Duration: 100 ms "
        "Memory Size: 128 MB Max Memory Used: 56 MB  Init Duration: 130.49 ms    ")
    assert report == Report("8f507cfc-xmpl-4697-b07a-ac58fc914c95", 15.74, 100, 128, 56, 130.49)


def test_fields_in_unusual_order_and_missing_separator():
    report = parse_report(
        "REPORT RequestId: a7502fd0\tInit Duration: 0.41 ms\tDuration: 336.54 ms\tBilled Duration: 400 ms"
        "Memory Size: 3008 MB\tMax Memory Used: 3008 MB")
    assert report == Report("a7502fd0", 336.54, 400, 3008, 3008, 0.41)


def test_the_first_of_a_repeated_field_wins_and_a_fractional_whole_number_is_none():
    report = parse_report(
        "REPORT RequestId: r1 Duration: 1.5 ms Status: timeout Duration: 2.5 ms Billed Duration: 2.5 ms "
        "Billed Duration: 3 ms Status: error Error Type: A.B Error Type: C.D Memory Size: 128.0 MB")
    assert report == Report("r1", 1.5, None, 128, None, status="timeout", error_type="A.B")


def test_managed_instances_line_has_duration_only():
    assert parse_report("REPORT RequestId: test-invoke-id-123\tDuration: 125.46 ms") == Report(
        "test-invoke-id-123", 125.46)


def test_xray_after_a_newline_in_the_same_event():
    event = (f"REPORT RequestId: {RID}\tDuration: 12.96 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\t"
             "Max Memory Used: 48 MB\t\nXRAY TraceId: 1-5e61292c-cc1229a4dfbeae1043928548\tSegmentId: "
             "07a85e713f6302b2\tSampled: true\t\n")
    assert parse_report(event) == WARM


def test_xray_on_the_same_line_after_a_tab():
    line = (f"REPORT RequestId: {RID}\tDuration: 12.96 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\t"
            "Max Memory Used: 48 MB\tXRAY TraceId: 1-5d9d007f-0a8c7fd02xmpl480aed55ef0\tSegmentId: 3d752xmpl1bbe37e")
    assert parse_report(line) == WARM


@pytest.mark.parametrize("prefix", [
    "2024-01-01T00:00:00.000000+00:00 2024/01/01/[$LATEST]abcdef0123456789abcdef0123456789 ",  # aws logs tail
    "2024/01/01/[$LATEST]abcdef0123456789abcdef0123456789 2024-01-01T00:00:00.000000 ",  # sam logs
    "2023-12-15T14:48:35.171+08:00\t",  # console copy
])
def test_tool_prefixes_do_not_change_the_values(prefix):
    assert parse_report(prefix + format_report(COLD)) == COLD


def test_multi_line_log_gives_the_last_report():
    other = dataclasses.replace(WARM, request_id="second", duration_ms=1.5)
    log = "\n".join([format_start(RID), format_end(RID), format_report(WARM), format_start("second"),
                     "app output", format_end("second"), format_report(other), ""])
    assert parse_report(log) == other


@pytest.mark.parametrize("text", [
    "", "\n", "START RequestId: x Version: $LATEST", "END RequestId: x", "REPORT", "REPORT RequestId: x",
    "REPORT RequestId: x Billed Duration: 3 ms", "INIT_REPORT Init Duration: 1236.04 ms Phase: init Status: timeout",
    '{"time":"2024-06-17T17:23:55.902Z","type":"platform.start","record":{"requestId":"x","version":"$LATEST"}}',
    '{"level":"INFO","message":"REPORT is ready","type":"platform.report"}', '{"type":"platform.report","record":[]}',
    "{not json platform.report", "[INFO] everything fine",
])
def test_text_that_is_not_a_report_gives_none(text):
    assert parse_report(text) is None


def test_absurd_digit_runs_do_not_raise():
    report = parse_report("REPORT RequestId: x Duration: 1.0 ms Billed Duration: " + "9" * 5000 + " ms")
    assert report == Report("x", 1.0)


def test_json_platform_report_with_init_and_status():
    line = ('{"time":"2026-07-09T09:59:05.883Z","type":"platform.report","record":{"requestId":"91a8",'
            '"metrics":{"durationMs":5622.492,"billedDurationMs":6322,"memorySizeMB":128,"maxMemoryUsedMB":97,'
            '"initDurationMs":698.806},"status":"success"}}')
    assert parse_report(line) == Report("91a8", 5622.492, 6322, 128, 97, 698.806)


def test_json_platform_report_timeout_error_and_restore():
    line = ('{"time":"2026-07-09T06:05:50.581Z","type":"platform.report","record":{"requestId":"aec7",'
            '"metrics":{"durationMs":5000.0,"billedDurationMs":5000,"memorySizeMB":128,"maxMemoryUsedMB":94,'
            '"restoreDurationMs":400.5,"billedRestoreDurationMs":80},"status":"error","errorType":"Runtime.ExitError"}}')
    assert parse_report(line) == Report("aec7", 5000.0, 5000, 128, 94, None, 400.5, 80, "error", "Runtime.ExitError")


def test_pretty_printed_json_record_is_read_whole():
    text = '{\n  "time": "2022-10-12T00:01:15.000Z",\n  "type": "platform.report",\n  "record": {\n' \
           '    "requestId": "6d68",\n    "metrics": {"durationMs": 693.92, "billedDurationMs": 694}\n  }\n}\n'
    assert parse_report(text) == Report("6d68", 693.92, 694)


def test_writer_produces_lambdas_exact_text():
    assert format_report(COLD) == (
        f"REPORT RequestId: {RID}\tDuration: 12.96 ms\tBilled Duration: 131 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 48 MB\tInit Duration: 117.86 ms\t")
    oom = Report("r", 6954.19, 6955, 1024, 1023, status="error", error_type="Runtime.OutOfMemory")
    assert format_report(oom) == ("REPORT RequestId: r\tDuration: 6954.19 ms\tBilled Duration: 6955 ms\t"
                                  "Memory Size: 1024 MB\tMax Memory Used: 1023 MB\tStatus: error\t"
                                  "Error Type: Runtime.OutOfMemory")
    timeout = Report("t", 3000.0, 3000, 128, 35, status="timeout")
    assert format_report(timeout).endswith("Max Memory Used: 35 MB\tStatus: timeout")
    assert format_report(Report("s", 1.0, 2, 512, 71, None, 204.27, 116)).endswith(
        "Restore Duration: 204.27 ms\tBilled Restore Duration: 116 ms\t")


def test_writer_rounds_durations_to_lambdas_two_decimals():
    assert parse_report(format_report(Report("r", 12.3456, 13, 128, 40))).duration_ms == 12.35


def test_start_end_timeout_and_init_writers():
    assert format_start(RID) == f"START RequestId: {RID} Version: $LATEST"
    assert format_start(RID, "7") == f"START RequestId: {RID} Version: 7"
    assert format_end(RID) == f"END RequestId: {RID}"
    assert format_timeout(RID, 3, WHEN) == f"2024-01-01T00:00:00.123Z {RID} Task timed out after 3.00 seconds"
    local = WHEN.astimezone(timezone(timedelta(hours=8)))
    assert format_timeout(RID, 0.5, local) == f"2024-01-01T00:00:00.123Z {RID} Task timed out after 0.50 seconds"
    assert format_init_start("python:3.12.v16", "arn:aws:lambda:us-east-1::runtime:abc") == (
        "INIT_START Runtime Version: python:3.12.v16\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:abc")
    assert format_init_report(137.69, "init", "error", "Runtime.ImportModuleError") == (
        "INIT_REPORT Init Duration: 137.69 ms\tPhase: init\tStatus: error\tError Type: Runtime.ImportModuleError")


def test_written_records_read_back_as_their_kind():
    assert parse_record(format_start(RID)) == LogRecord("START", RID, {"version": "$LATEST"})
    assert parse_record(format_end(RID)).kind == "END"
    timeout = parse_record(format_timeout(RID, 3, WHEN))
    assert (timeout.kind, timeout.request_id, timeout.time, dict(timeout.fields)) == (
        "TIMEOUT", RID, "2024-01-01T00:00:00.123Z", {"timeout_s": 3.0})
    init = parse_record(format_init_start("python:3.12.v16", "arn:x"))
    assert (init.kind, dict(init.fields)) == ("INIT_START", {"runtime_version": "python:3.12.v16",
                                                             "runtime_version_arn": "arn:x"})
    report = parse_record(format_report(COLD))
    assert (report.kind, report.request_id, report.report) == ("REPORT", RID, COLD)


def test_platform_writers_are_compact_json_in_lambdas_shape():
    assert format_platform_report(COLD, WHEN) == (
        '{"time":"2024-01-01T00:00:00.123Z","type":"platform.report","record":{"requestId":"' + RID + '",'
        '"metrics":{"durationMs":12.96,"billedDurationMs":131,"memorySizeMB":128,"maxMemoryUsedMB":48,'
        '"initDurationMs":117.86},"status":"success"}}')
    assert format_platform_start(RID, "$LATEST", WHEN) == (
        '{"time":"2024-01-01T00:00:00.123Z","type":"platform.start","record":{"requestId":"' + RID + '",'
        '"version":"$LATEST"}}')
    err = Report("e", 5.5, 6, 128, 40, status="error", error_type="Runtime.ExitError")
    assert format_platform_report(err, WHEN).endswith('"status":"error","errorType":"Runtime.ExitError"}}')
    record = parse_record(format_platform_record("platform.initStart", WHEN, {
        "initializationType": "on-demand", "phase": "init", "runtimeVersion": "python:3.12.v16",
        "runtimeVersionArn": "arn:x"}))
    assert (record.kind, record.format, record.time, record.fields["runtime_version"]) == (
        "INIT_START", "json", "2024-01-01T00:00:00.123Z", "python:3.12.v16")


def test_platform_report_round_trips_exactly():
    precise = Report("p", 18.593, 19, 2048, 246, 463.512)
    assert parse_report(format_platform_report(precise, WHEN)) == precise


def test_unknown_platform_type_is_a_platform_record_and_app_json_is_none():
    record = parse_record('{"time":"2024-01-01T00:00:00.000Z","type":"platform.telemetrySubscription",'
                          '"record":{"name":"ext"}}')
    assert (record.kind, record.fields["type"]) == ("PLATFORM", "platform.telemetrySubscription")
    assert parse_record('{"timestamp":"2026-10-08T07:30:29.443Z","level":"ERROR","message":"x"}') is None
    assert parse_record("[INFO]\t2024-01-01T00:00:00.000Z\tabc\thello") is None


def test_decode_log_result_round_trips_and_rejects_bad_base64():
    text = f"{format_start(RID)}\n{format_end(RID)}\n{format_report(WARM)}\n"
    encoded = base64.b64encode(text.encode()).decode()
    assert decode_log_result(encoded) == text
    assert parse_report(decode_log_result(encoded)) == WARM
    with pytest.raises(ValueError, match="not valid base64"):
        decode_log_result("this is not base64!")
    with pytest.raises(ValueError, match="not valid base64"):
        decode_log_result("abc")  # wrong padding


def test_decode_log_result_tolerates_a_cut_multibyte_character():
    # Lambda keeps the last 4 KB of bytes, which can start in the middle of a UTF-8 character.
    raw = "é".encode()[1:] + b"END RequestId: x\n"
    assert decode_log_result(base64.b64encode(raw).decode()) == "\ufffdEND RequestId: x\n"


def test_split_prefix_names_time_and_stream():
    assert split_prefix("2025-11-13T12:12:31.196000+00:00 2025/11/13/[$LATEST]d238 START RequestId: x") == (
        "2025-11-13T12:12:31.196000+00:00", "2025/11/13/[$LATEST]d238", "START RequestId: x")
    assert split_prefix("2023/06/02/[72]88ab 2023-06-02T11:27:22.722000 START RequestId: x") == (
        "2023-06-02T11:27:22.722000", "2023/06/02/[72]88ab", "START RequestId: x")
    assert split_prefix("2023-12-15T14:48:35.171+08:00\tREPORT RequestId: x") == (
        "2023-12-15T14:48:35.171+08:00", None, "REPORT RequestId: x")
    assert split_prefix("START RequestId: x") == (None, None, "START RequestId: x")


def test_iter_reports_reads_mixed_lines_in_order():
    lines = [format_start(RID) + "\n", format_report(WARM) + "\n", "app\n",
             format_platform_report(COLD, WHEN) + "\n", format_report(COLD)]
    assert list(iter_reports(lines)) == [WARM, COLD, COLD]


def test_long_runs_of_whitespace_and_repeats_are_read_correctly():
    # Inputs shaped to make a backtracking regex go quadratic; each must still read right.
    spaces = " " * 20000
    assert parse_record(f"RequestId: x Error: boom{spaces}b ").fields["error_message"] == f"boom{spaces}b"
    assert parse_report(f"REPORT RequestId: x\tDuration: 1.00 ms{spaces}Billed Duration: 2 ms{spaces}x") == \
        Report("x", 1.0, 2)
    assert parse_report("REPORT RequestId: x Duration: 1.00 ms" + " Init Duration: 2.00 ms" * 3000) == \
        Report("x", 1.0, init_duration_ms=2.0)
    assert parse_record("XRAY TraceId: a" + " SegmentId: b" * 5000).fields["segment_id"] == "b"


def test_json_records_behind_a_tool_prefix_or_pretty_printed_read_as_records():
    prefix = "2025-11-13T12:12:31.196000+00:00 2025/11/13/[$LATEST]d238428ccf7e4b03856c3d7181bd5a72 "
    start = parse_record(prefix + format_platform_start(RID, "$LATEST", WHEN))
    assert (start.kind, start.request_id, start.format) == ("START", RID, "json")
    report = parse_record(prefix + format_platform_report(COLD, WHEN))
    assert (report.kind, report.report) == ("REPORT", COLD)
    pretty = '{\n  "time": "2024-01-01T00:00:00.000Z",\n  "type": "platform.runtimeDone",\n  "record": ' \
             '{"requestId": "r", "status": "success", "metrics": {"durationMs": 1.5, "producedBytes": 7}}\n}'
    done = parse_record(pretty)
    assert (done.kind, done.request_id, dict(done.fields)) == (
        "RUNTIME_DONE", "r", {"status": "success", "error_type": None, "duration_ms": 1.5, "produced_bytes": 7})
