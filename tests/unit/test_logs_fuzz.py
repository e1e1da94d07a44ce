"""Property tests: the readers never raise, and every REPORT shape Lambda (or a tool) writes round-trips."""

from __future__ import annotations

import json
import random
from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdabench.logs import (
    Report,
    format_platform_report,
    format_report,
    iter_reports,
    parse_record,
    parse_report,
    scan_prefixed_report_line,
    scan_report_line,
    split_prefix,
)

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WHEN = datetime(2025, 11, 13, 12, 12, 32, 23000, tzinfo=timezone.utc)

# Pieces of real lines, so random text often gets close to a record.
FRAGMENTS = ["REPORT RequestId: ", "Duration: ", "Billed Duration: ", "Memory Size: ", "Max Memory Used: ",
             "Init Duration: ", "Restore Duration: ", "Billed Restore Duration: ", "Status: ", "Error Type: ",
             " ms", " MB", "\t", " ", "\n", "12.34", "9" * 30, "-1", "timeout", "platform.report", '{"type":',
             '"record":', '"metrics":{"durationMs":', "}", "{", "XRAY TraceId: ", "START RequestId: ", "\r"]

REAL_LINES = [
    "REPORT RequestId: 50aba555-xmpl-4b21-8358-644ee996a05f\tDuration: 12.96 ms\tBilled Duration: 13 ms\t"
    "Memory Size: 128 MB\tMax Memory Used: 48 MB\tInit Duration: 117.86 ms\t",
    "REPORT RequestId: 806ab12b-e660-4a4a-8d9a-eee01e457f98\tDuration: 376256.59 ms\tBilled Duration: 376257 ms\t"
    "Memory Size: 10239 MB\tMax Memory Used: 10239 MB\tInit Duration: 551.73 ms\tStatus: error\t"
    "Error Type: Runtime.OutOfMemory",
    "2025-11-13T12:12:32.023000+00:00 2025/11/13/[$LATEST]d238428ccf7e4b03856c3d7181bd5a72 REPORT RequestId: "
    "f07f3f34-5f33-5d85-8251-5ebb926d93bb\tDuration: 826.23 ms\tBilled Duration: 1417 ms\tMemory Size: 512 MB\t"
    "Max Memory Used: 96 MB\tInit Duration: 590.33 ms",
    '{"time":"2026-07-09T09:59:05.883Z","type":"platform.report","record":{"requestId":"91a84db4-9215-4ea8-ade4-'
    'd5f24e9c6e79","metrics":{"durationMs":5622.492,"billedDurationMs":6322,"memorySizeMB":128,"maxMemoryUsedMB":97,'
    '"initDurationMs":698.806},"status":"success"}}',
    "INIT_REPORT Init Duration: 137.69 ms\tPhase: init\tStatus: error\tError Type: Runtime.ImportModuleError",
    "2024-03-04T17:22:38.033Z b70435cc-261c-4438-b9b6-efe4c8f04b21 Task timed out after 3.00 seconds",
]


@SETTINGS
@given(st.text())
def test_parse_report_and_parse_record_never_raise_on_arbitrary_text(text):
    result = parse_report(text)
    assert result is None or isinstance(result, Report)
    parse_record(text)


@SETTINGS
@given(st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), max_size=30))
def test_parse_report_never_raises_on_near_records(parts):
    text = "".join(parts)
    parse_report(text)
    parse_record(text)
    list(iter_reports(text.splitlines()))


@st.composite
def mutated_lines(draw):
    line = list(draw(st.sampled_from(REAL_LINES)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["delete", "insert", "replace", "cut"]))
        pos = draw(st.integers(0, max(len(line) - 1, 0)))
        if op == "delete" and line:
            del line[pos]
        elif op == "insert":
            line.insert(pos, draw(st.characters()))
        elif op == "replace" and line:
            line[pos] = draw(st.characters())
        elif op == "cut":
            line = line[:pos]
    return "".join(line)


@SETTINGS
@given(mutated_lines())
def test_mutations_of_real_lines_never_raise(line):
    result = parse_report(line)
    assert result is None or isinstance(result.request_id, str)
    parse_record(line)


REQUEST_IDS = st.one_of(st.uuids().map(str), st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,40}", fullmatch=True))
DURATION_2DP = st.integers(0, 90_000_000).map(lambda n: n / 100)  # Lambda prints 2 decimals
WHOLE_MS = st.integers(1, 900_000)
MEMORY = st.integers(128, 10240)
ERROR_TYPES = st.sampled_from(["Runtime.OutOfMemory", "Runtime.ExitError", "Runtime.ImportModuleError",
                               "Runtime.InvalidEntrypoint", "Extension.Crash"])


@st.composite
def reports(draw, duration=DURATION_2DP, lmi=True):
    if lmi and draw(st.booleans()) and draw(st.booleans()) and draw(st.booleans()):
        return Report(draw(REQUEST_IDS), draw(duration))  # Lambda Managed Instances: Duration only
    memory = draw(MEMORY)
    status = draw(st.sampled_from(["success", "success", "timeout", "error"]))
    restore = draw(st.booleans()) and draw(st.booleans())
    return Report(
        request_id=draw(REQUEST_IDS),
        duration_ms=draw(duration),
        billed_duration_ms=draw(WHOLE_MS),
        memory_size_mb=memory,
        max_memory_used_mb=draw(st.integers(1, memory)),
        init_duration_ms=None if restore or draw(st.booleans()) else draw(duration),
        restore_duration_ms=draw(duration) if restore else None,
        billed_restore_duration_ms=draw(WHOLE_MS) if restore and draw(st.booleans()) else None,
        status=status,
        error_type=draw(ERROR_TYPES) if status == "error" and draw(st.booleans()) else None,
    )


@SETTINGS
@given(reports())
def test_written_text_reports_round_trip(report):
    line = format_report(report)
    assert parse_report(line) == report
    assert parse_report(line + "\n") == report
    assert list(iter_reports([line + "\n"])) == [report]


@SETTINGS
@given(reports(duration=st.floats(0, 1e7, allow_nan=False, allow_infinity=False)))
def test_written_json_reports_round_trip_exactly(report):
    assert parse_report(format_platform_report(report, WHEN)) == report


PREFIXES = st.sampled_from([
    "",
    "2024-01-01T00:00:00.000000+00:00 2024/01/01/[$LATEST]abcdef0123456789abcdef0123456789 ",
    "2024/01/01/[12]abcdef0123456789abcdef0123456789 2024-01-01T00:00:00.000000 ",
    "2023-12-15T14:48:35.171+08:00\t",
    "2024-09-13T15:07:33.205Z ",
])


def _fields(report: Report) -> list[str]:
    def ms(v: float) -> str:
        return f"{v:.2f} ms"

    out = [f"Duration: {ms(report.duration_ms)}"]
    if report.billed_duration_ms is not None:
        out.append(f"Billed Duration: {report.billed_duration_ms} ms")
    if report.memory_size_mb is not None:
        out.append(f"Memory Size: {report.memory_size_mb} MB")
    if report.max_memory_used_mb is not None:
        out.append(f"Max Memory Used: {report.max_memory_used_mb} MB")
    if report.init_duration_ms is not None:
        out.append(f"Init Duration: {ms(report.init_duration_ms)}")
    if report.restore_duration_ms is not None:
        out.append(f"Restore Duration: {ms(report.restore_duration_ms)}")
    if report.billed_restore_duration_ms is not None:
        out.append(f"Billed Restore Duration: {report.billed_restore_duration_ms} ms")
    if report.status != "success":
        out.append(f"Status: {report.status}")
        if report.error_type:
            out.append(f"Error Type: {report.error_type}")
    return out


@SETTINGS
@given(reports(), st.sampled_from(["\t", " ", "  ", "\t ", " \t", "    "]), st.booleans(), PREFIXES,
       st.sampled_from(["", "\n", "\r\n", "\nXRAY TraceId: 1-5e61292c-cc1229a4dfbeae1043928548\tSegmentId: "
                        "07a85e713f6302b2\tSampled: true\t\n", "\tXRAY TraceId: 1-6887bc24 SegmentId: 58c9"]),
       st.randoms(use_true_random=False))
def test_hand_built_text_variants_read_the_same(report, sep, trailing, prefix, tail, rnd):
    fields = _fields(report)
    if rnd.random() < 0.3:  # fields in another order, as some docs and tools print them
        head, status = [f for f in fields if not f.startswith(("Status", "Error"))], \
            [f for f in fields if f.startswith(("Status", "Error"))]
        rnd.shuffle(head)
        fields = head + status
    line = prefix + f"REPORT RequestId: {report.request_id}{sep}" + sep.join(fields) + (sep if trailing else "") + tail
    assert parse_report(line) == report


@SETTINGS
@given(reports(duration=st.floats(0, 1e7, allow_nan=False, allow_infinity=False)), st.randoms(use_true_random=False),
       st.booleans(), PREFIXES)
def test_hand_built_json_variants_read_the_same(report, rnd, pretty, prefix):
    metrics = {"durationMs": report.duration_ms}
    for key, value in (("billedDurationMs", report.billed_duration_ms), ("memorySizeMB", report.memory_size_mb),
                       ("maxMemoryUsedMB", report.max_memory_used_mb), ("initDurationMs", report.init_duration_ms),
                       ("restoreDurationMs", report.restore_duration_ms),
                       ("billedRestoreDurationMs", report.billed_restore_duration_ms)):
        if value is not None:
            metrics[key] = value
    items = list(metrics.items())
    rnd.shuffle(items)
    record = {"requestId": report.request_id, "metrics": dict(items)}
    if report.status != "success" or rnd.random() < 0.5:  # older records omit status on success
        record["status"] = report.status
    if report.error_type:
        record["errorType"] = report.error_type
    doc = {"time": "2025-11-13T12:12:32.023Z", "type": "platform.report", "record": record}
    text = json.dumps(doc, indent=2) if pretty else json.dumps(doc)
    if not pretty:
        text = prefix + text
    assert parse_report(text) == report


@SETTINGS
@given(st.lists(reports(), min_size=1, max_size=8))
def test_a_decoded_tail_gives_its_last_report(items):
    lines = []
    for r in items:
        lines += [f"START RequestId: {r.request_id} Version: $LATEST", "app output", f"END RequestId: {r.request_id}",
                  format_report(r)]
    assert parse_report("\n".join(lines) + "\n") == items[-1]


def test_fast_path_and_field_scan_agree_on_a_seeded_sample():
    # The canonical whole-line regex and the any-order field scan must give the same Report:
    # appending an XRAY segment on the same line forces the field scan.
    rnd = random.Random(7)
    for _ in range(2000):
        memory = rnd.randint(128, 10240)
        status = rnd.choice(["success", "timeout", "error"])
        report = Report(f"id-{rnd.randrange(10**9)}", rnd.randint(0, 10**7) / 100, rnd.randint(1, 10**6), memory,
                        rnd.randint(1, memory), rnd.choice([None, rnd.randint(0, 10**5) / 100]), status=status,
                        error_type="Runtime.ExitError" if status == "error" else None)
        line = format_report(report)
        fast = parse_report(line)
        slow = parse_report(line + "\tXRAY TraceId: 1-abc\tSegmentId: def")
        assert fast == slow == report


@SETTINGS
@given(reports(), PREFIXES, st.sampled_from(["", "\n", "\tXRAY TraceId: 1-abc"]), st.booleans())
def test_bulk_reader_path_agrees_with_the_general_readers(report, prefix, tail, as_json):
    # scan_prefixed_report_line has one-regex fast paths; it must equal scan_report_line + split_prefix.
    body = format_platform_report(report, WHEN) if as_json else format_report(report)
    line = prefix + body + tail
    expected_report = scan_report_line(line)
    ts, stream, _ = split_prefix(line)
    got = scan_prefixed_report_line(line)
    assert got == ((expected_report, ts, stream) if expected_report is not None else None)
    if not (as_json and tail.startswith("\tXRAY")):
        assert expected_report == report


@SETTINGS
@given(mutated_lines())
def test_bulk_reader_path_agrees_on_mutated_lines(line):
    expected_report = scan_report_line(line)
    got = scan_prefixed_report_line(line)
    if expected_report is None:
        assert got is None
    else:
        assert got == (expected_report, *split_prefix(line)[:2])


JSON_REPORT = ('{"time":"2026-07-09T09:59:05.883Z","type":"platform.report","record":{"requestId":"91a84db4",'
               '"metrics":{"durationMs":5622.492,"billedDurationMs":6322,"memorySizeMB":128,"maxMemoryUsedMB":97,'
               '"initDurationMs":698.806},"status":"success"}}')


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, len(JSON_REPORT) - 1),
                          st.sampled_from(["0", "00", "1", ".", "e5", "-", '"', "\\", "\t", " ", "\n", "x", "", "}"])),
                max_size=3))
def test_json_fast_path_agrees_with_json_loads(edits):
    # parse_report reads Lambda's compact JSON with one regex; parse_record always uses json.
    # Both must accept and reject the same text, with the same values.
    line = JSON_REPORT
    for pos, piece in sorted(edits, reverse=True):
        line = line[:pos] + piece + line[pos + 1:]
    line = line.split("\n", 1)[0]
    record = parse_record(line)
    expected = record.report if record is not None and record.kind == "REPORT" else None
    assert parse_report(line) == expected
