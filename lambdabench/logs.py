"""Lambda platform log records: reading and writing them, in text and JSON log format.

Owns the one place that knows what Lambda writes to CloudWatch for an invocation:

- `Report` and `parse_report(text)`: the REPORT record (text `REPORT RequestId: ...` line or JSON
  `platform.report` record) that carries Duration, Billed Duration, Memory Size, Max Memory Used,
  Init / Restore / Billed Restore Duration, Status and Error Type.
- `LogRecord` and `parse_record(text)`: every other platform record (START, END, INIT_START,
  INIT_REPORT, RESTORE_START, RESTORE_REPORT, XRAY, "Task timed out", runtime errors, platform.*).
- `decode_log_result(value)`: the base64 `X-Amz-Log-Result` of `Invoke(LogType="Tail")`.
- Writers (`format_*`) that produce exactly what Lambda writes; the emulator uses them, so its
  logs round-trip through the readers above.
- `iter_reports(lines)`, `scan_report_line(line)` and `scan_prefixed_report_line(line)` (which also
  returns the tool prefix's timestamp and log stream), and `report_values` /
  `scan_prefixed_report_values`, the same as plain tuples: reading many lines one at a time. A
  cheap substring test rejects most lines; a Lambda-shaped REPORT (text or compact JSON) is read
  by one regex match; anything else falls back to the general readers, with identical results.
  `PREFIXED_CANONICAL_REPORT` and `PREFIXED_PLATFORM_REPORT` (those matches, tool prefix
  included) serve the block reader in `lambdabench.logfiles`, which runs them over many lines.

Text records are read leniently because real logs arrive mangled: tabs turned into spaces by
consoles and web pages, a trailing tab or none, tool prefixes (`aws logs tail`, `sam logs`, a
console copy's timestamp), fields in an unusual order, 100 ms-era lines without Status, and
Lambda Managed Instances lines with Duration only. Nothing here raises on odd input: a line that
is not a record gives None.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any, Iterable, Iterator, Mapping

# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Report:
    """One REPORT record. Durations in ms as floats, sizes in MB and billed ms as ints.

    `status` is "success" when the record carries no Status (older text lines never do);
    otherwise Lambda's value ("timeout", "error", ...), with `error_type` such as
    "Runtime.OutOfMemory". Fields the record does not carry are None (Lambda Managed
    Instances report Duration only).
    """

    request_id: str
    duration_ms: float
    billed_duration_ms: int | None = None
    memory_size_mb: int | None = None
    max_memory_used_mb: int | None = None
    init_duration_ms: float | None = None
    restore_duration_ms: float | None = None
    billed_restore_duration_ms: int | None = None
    status: str = "success"
    error_type: str | None = None

    @property
    def cold(self) -> bool:
        """A cold start: the record carries Init Duration (Lambda reports it exactly for cold
        starts) or Restore Duration (SnapStart: a fresh environment restored from a snapshot,
        which must not be mixed into warm statistics either)."""
        return self.init_duration_ms is not None or self.restore_duration_ms is not None


# Kinds a LogRecord can have. Text and JSON forms of the same record share one kind.
RECORD_KINDS = (
    "START",
    "END",
    "REPORT",
    "INIT_START",
    "INIT_REPORT",
    "RESTORE_START",
    "RESTORE_REPORT",
    "XRAY",
    "TIMEOUT",  # "<time> <request id> Task timed out after 3.00 seconds"
    "RUNTIME_ERROR",  # "RequestId: <id> Error: Runtime exited ..."
    "RUNTIME_DONE",  # platform.runtimeDone
    "FAULT",  # platform.fault
    "EXTENSION",
    "LOGS",  # extension Logs API subscription line
    "PLATFORM",  # any other platform.* JSON record; fields["type"] names it
)


@dataclass(frozen=True, slots=True)
class LogRecord:
    """A platform log record of any kind.

    `kind` is one of RECORD_KINDS; `format` is "text" or "json"; `time` is the JSON record's
    own `time` (text records carry none); `fields` holds the kind's values with units in the
    names (e.g. `init_duration_ms`, `phase`, `status`, `runtime_version`); `report` is set for
    kind "REPORT".
    """

    kind: str
    request_id: str | None = None
    fields: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    format: str = "text"
    time: str | None = None
    report: Report | None = None


def _record(kind: str, request_id: str | None = None, fmt: str = "text", time: str | None = None,
            report: Report | None = None, **fields: Any) -> LogRecord:
    return LogRecord(kind, request_id, MappingProxyType(fields), fmt, time, report)


# --------------------------------------------------------------------------------------------
# Text REPORT lines
# --------------------------------------------------------------------------------------------

REPORT_MARK = "REPORT RequestId:"
_REQUEST_ID = re.compile(r"REPORT RequestId:[ \t]*(\S+)")
# One pass over the line finds every field in any order. Longer names come first in the
# alternation, and scanning left to right reaches "Billed Duration" at its "B" before the
# plain "Duration" inside it. Separators: tab, spaces, or (seen in one real capture) none.
_REPORT_FIELD = re.compile(
    r"(Billed Restore Duration|Restore Duration|Billed Duration|Init Duration|Max Memory Used"
    r"|Memory Size|Duration):[ \t]*(\d+(?:\.\d+)?)"
    r"|(Status|Error Type):[ \t]*(\S+)"
)
# Python refuses int() of more than 4300 digits; no real value comes near, so longer digit
# runs make the field unreadable rather than raising.
MAX_INT_DIGITS = 18
# A whole canonical line (Lambda's own order, SnapStart's Restore fields included) in one
# match: the bulk fast path. Anything it does not match exactly (integers longer than
# MAX_INT_DIGITS included) falls back to the field scan, so both give the same Report. It never
# crosses a newline, and each match ends after its line's newline.
# Groups: request id, Duration, Billed, Memory Size, Max Memory Used, Init, Restore,
# Billed Restore, Status, Error Type.
# Quantifiers are possessive (`*+`, `++`): each is followed by a character its class cannot
# match, so giving characters back could never lead to a match, and the engine keeps no state
# for it (about 15% faster). The same holds in the JSON and prefix patterns below.
_INT = rf"(\d{{1,{MAX_INT_DIGITS}}}+)"
_DECIMAL = r"(\d++(?:\.\d++)?+)"
CANONICAL_REPORT = re.compile(
    r"REPORT RequestId:[ \t]*+(\S++)[ \t]++"
    rf"Duration:[ \t]*+{_DECIMAL}[ \t]*+ms[ \t]++"
    rf"Billed Duration:[ \t]*+{_INT}[ \t]*+ms[ \t]++"
    rf"Memory Size:[ \t]*+{_INT}[ \t]*+MB[ \t]++"
    rf"Max Memory Used:[ \t]*+{_INT}[ \t]*+MB"
    rf"(?:[ \t]++Init Duration:[ \t]*+{_DECIMAL}[ \t]*+ms)?"
    rf"(?:[ \t]++Restore Duration:[ \t]*+{_DECIMAL}[ \t]*+ms)?"
    rf"(?:[ \t]++Billed Restore Duration:[ \t]*+{_INT}[ \t]*+ms)?"
    r"(?:[ \t]++Status:[ \t]*+(\w++)(?:[ \t]++Error Type:[ \t]*+([\w.]++))?)?"
    r"[ \t]*+(?:\r?\n|$)"
)

def _to_int(text: str) -> int | None:
    if "." in text:
        whole, _, frac = text.partition(".")
        if frac.strip("0"):
            return None  # Billed Duration and MB are whole numbers; a fraction is not ours
        text = whole
    if len(text) > MAX_INT_DIGITS:
        return None
    return int(text)


def _int_or_none(text: str | None) -> int | None:
    return None if text is None else _to_int(text)


def _float_or_none(text: str | None) -> float | None:
    return None if text is None else float(text)


# A REPORT as a plain tuple of Report's fields, in their order: what the readers below return,
# so the bulk reader builds no Report (Report(*values) is the record).
ReportValues = tuple


def _canonical_values(groups: tuple) -> ReportValues:
    """Report's field values from CANONICAL_REPORT's groups."""
    rid, dur, billed, mem, used, init, restore, brestore, status, etype = groups
    return (rid, float(dur), int(billed), int(mem), int(used),
            None if init is None else float(init), None if restore is None else float(restore),
            None if brestore is None else int(brestore), "success" if status is None else status, etype)


def _text_report_values(line: str, start: int) -> ReportValues | None:
    """The REPORT whose mark starts at `start` in one physical line, or None: one match for a
    canonical line, else the field scan (first of each field wins; Duration is required)."""
    m = CANONICAL_REPORT.match(line, start)
    if m is not None:
        return _canonical_values(m.groups())
    rid_match = _REQUEST_ID.match(line, start)
    if rid_match is None:
        return None
    found: dict[str, str] = {}
    for name, number, word_name, word in _REPORT_FIELD.findall(line, rid_match.end()):
        found.setdefault(name or word_name, number or word)
    get = found.get
    duration = get("Duration")
    if duration is None:
        return None  # every REPORT Lambda writes has Duration; without it this is not one
    return (rid_match.group(1), float(duration), _int_or_none(get("Billed Duration")),
            _int_or_none(get("Memory Size")), _int_or_none(get("Max Memory Used")),
            _float_or_none(get("Init Duration")), _float_or_none(get("Restore Duration")),
            _int_or_none(get("Billed Restore Duration")), get("Status", "success"), get("Error Type"))


def _parse_text_report_line(line: str) -> Report | None:
    """A REPORT from one physical line (no newline inside), or None."""
    start = line.find(REPORT_MARK)
    values = None if start < 0 else _text_report_values(line, start)
    return None if values is None else Report(*values)


# --------------------------------------------------------------------------------------------
# JSON platform records
# --------------------------------------------------------------------------------------------

_JSON_DECODER = json.JSONDecoder()


def _load_json_object(text: str) -> dict | None:
    """The JSON object starting at the first '{' of `text` (after any tool prefix), or None."""
    start = text.find("{")
    if start < 0:
        return None
    try:
        obj, _ = _JSON_DECODER.raw_decode(text, start)
    except (ValueError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _platform_report_values(record: Any) -> ReportValues | None:
    """A platform.report's `record` object as Report's field values, or None."""
    if not isinstance(record, dict):
        return None
    request_id = record.get("requestId")
    metrics = record.get("metrics")
    if not isinstance(request_id, str) or not isinstance(metrics, dict):
        return None
    get = metrics.get
    duration = _number(get("durationMs"))
    if duration is None:
        return None
    status = record.get("status")
    error_type = record.get("errorType")
    return (request_id, duration, _whole(get("billedDurationMs")), _whole(get("memorySizeMB")),
            _whole(get("maxMemoryUsedMB")), _number(get("initDurationMs")), _number(get("restoreDurationMs")),
            _whole(get("billedRestoreDurationMs")), status if isinstance(status, str) and status else "success",
            error_type if isinstance(error_type, str) else None)


# platform.report exactly as Lambda serialises it (compact, this key order, plain numbers and
# strings without escapes): read by one regex. Anything else goes through json; both agree
# because float()/int() parse these digit strings exactly as json does.
# JSON forbids leading zeros (json.loads would reject them); longer integers take the json path.
_JSON_INT = rf"(0|[1-9]\d{{0,{MAX_INT_DIGITS - 1}}}+)"
_JSON_NUM = r"((?:0|[1-9]\d*+)(?:\.\d++)?+)"
_JSON_CANONICAL_BODY = (
    r'\{"time":"([^"\\\x00-\x1f]*+)","type":"platform\.report","record":\{"requestId":"([^"\\\x00-\x1f]*+)",'
    r'"metrics":\{'
    rf'"durationMs":{_JSON_NUM},"billedDurationMs":{_JSON_INT},"memorySizeMB":{_JSON_INT},'
    rf'"maxMemoryUsedMB":{_JSON_INT}'
    rf'(?:,"initDurationMs":{_JSON_NUM})?\}},"status":"(\w++)"(?:,"errorType":"([\w.]++)")?\}}\}}[ \t]*+'
)
_JSON_CANONICAL = re.compile(_JSON_CANONICAL_BODY + r"(?:\r?\n)?$")
# The same record inside a block of lines (the bulk reader's finditer): ends at its line's end.
# Groups: time, request id, Duration, Billed, Memory Size, Max Memory Used, Init, Status, Error Type.
CANONICAL_PLATFORM_REPORT = re.compile(_JSON_CANONICAL_BODY + r"(?:\r?\n|$)")


def _json_report_values(text: str) -> ReportValues | None:
    """The platform.report record of one line (after any tool prefix), or None."""
    start = text.find("{")
    if text.startswith('{"time":"', start):
        m = _JSON_CANONICAL.match(text, start)
        if m is not None:
            _, rid, dur, billed, mem, used, init, status, etype = m.groups()
            return (rid, float(dur), int(billed), int(mem), int(used), None if init is None else float(init),
                    None, None, status, etype)
    obj = _load_json_object(text)
    if obj is None or obj.get("type") != "platform.report":
        return None
    return _platform_report_values(obj.get("record"))


def _parse_json_report(text: str) -> Report | None:
    values = _json_report_values(text)
    return None if values is None else Report(*values)


# --------------------------------------------------------------------------------------------
# parse_report: the public entry point
# --------------------------------------------------------------------------------------------


def parse_report(text: str) -> Report | None:
    """The last REPORT record in `text`, or None when it holds none. Never raises for a str.

    `text` may be one log line (with or without a tool prefix), a JSON log record, a
    CloudWatch event message (REPORT then XRAY after a newline), or a whole multi-line log
    such as a decoded `X-Amz-Log-Result` tail.
    """
    if not isinstance(text, str):
        return None
    try:
        if "\n" not in text and "\r" not in text:
            return scan_report_line(text)
        # A pretty-printed JSON record spans lines; try it whole before line by line.
        stripped = text.strip()
        if stripped.startswith("{") and "platform.report" in stripped:
            report = _parse_json_report(stripped)
            if report is not None:
                return report
        for line in reversed(text.splitlines()):
            report = scan_report_line(line)
            if report is not None:
                return report
        return None
    except RecursionError:  # pragma: no cover - only absurdly nested JSON reaches this
        return None


def report_values(line: str) -> ReportValues | None:
    """`scan_report_line` as Report's field values (no Report built), or None. The cheap
    substring tests run first: most log lines are neither a text REPORT nor a JSON
    platform.report, and they cost one `in` each."""
    start = line.find(REPORT_MARK)
    if start >= 0:
        return _text_report_values(line, start)
    if "platform.report" in line:
        return _json_report_values(line)
    return None


def scan_report_line(line: str) -> Report | None:
    """The REPORT in one line, or None."""
    values = report_values(line)
    return None if values is None else Report(*values)


def scan_prefixed_report_values(line: str) -> tuple[ReportValues, str | None, str | None] | None:
    """(Report's field values, timestamp, log stream) of one tool-printed line, or None.

    Gives exactly `report_values(line)` and `split_prefix(line)[:2]`; a canonical REPORT line
    behind a known prefix is read by one regex match, anything else by those two functions.
    """
    m = PREFIXED_CANONICAL_REPORT.match(line)
    if m is not None:
        groups = m.groups()  # 1-5 the tool prefix (see _TOOL_PREFIX), then CANONICAL_REPORT's
        return _canonical_values(groups[5:]), groups[0] or groups[3] or groups[4], groups[1] or groups[2]
    values = report_values(line)
    if values is None:
        return None
    ts, stream, _ = split_prefix(line)
    return values, ts, stream


def scan_prefixed_report_line(line: str) -> tuple[Report, str | None, str | None] | None:
    """`scan_prefixed_report_values` with the values as a Report: (Report, timestamp, log
    stream), or None."""
    hit = scan_prefixed_report_values(line)
    return None if hit is None else (Report(*hit[0]), hit[1], hit[2])


def iter_reports(lines: Iterable[str]) -> Iterator[Report]:
    """Every REPORT in `lines` (one log line each), in order. The bulk fast path."""
    scan = scan_report_line
    for line in lines:
        if "REPORT" in line or "platform.report" in line:
            report = scan(line)
            if report is not None:
                yield report


# --------------------------------------------------------------------------------------------
# LogResult (Invoke LogType=Tail)
# --------------------------------------------------------------------------------------------


def decode_log_result(value: str) -> str:
    """Decode the base64 `LogResult` of `Invoke(LogType="Tail")` into log text.

    Raises ValueError, naming the problem, when `value` is not valid base64: a silent empty
    string would make a missing REPORT look like a function that logged nothing. Lambda cuts
    the log at 4 KB of bytes, which can split a multi-byte character at the start; such
    bytes decode as U+FFFD instead of failing.
    """
    if not isinstance(value, str):
        raise ValueError(f"LogResult must be a base64 string, got {type(value).__name__}")
    compact = "".join(value.split())
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"LogResult is not valid base64 ({exc}): {value[:40]!r}") from None
    return raw.decode("utf-8", errors="replace")


# --------------------------------------------------------------------------------------------
# Other records
# --------------------------------------------------------------------------------------------

# Tool prefixes in front of a CloudWatch message. Each group: (timestamp, stream).
# (Possessive quantifiers, as in CANONICAL_REPORT: each is followed by what its class excludes.)
_ISO_TIME = r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d++)?+(?:Z|[+-]\d\d:?+\d\d)?+"
_STREAM = r"\d{4}/\d\d/\d\d/[^\s\[]*+\[[^\]\s]*+\][0-9A-Za-z]++"
_TOOL_PREFIX = (rf"(?:({_ISO_TIME})[ \t]++({_STREAM})[ \t]++|({_STREAM})[ \t]++({_ISO_TIME})[ \t]++"
                rf"|({_ISO_TIME})[ \t]++)?")
# A tool prefix (same alternatives and order as _PREFIXES below) and a canonical REPORT line in
# one match. Groups: 1 ts, 2 stream (aws logs tail); 3 stream, 4 ts (sam logs); 5 ts (console);
# 6.. CANONICAL_REPORT's groups. The bulk reader matches it at each line start of a block.
PREFIXED_CANONICAL_REPORT = re.compile(_TOOL_PREFIX + CANONICAL_REPORT.pattern)
# The same prefixes and a canonical platform.report (split_prefix's console lookahead for "{" is
# the record's own "{" here). Groups: 1-5 as above, 6.. CANONICAL_PLATFORM_REPORT's groups.
PREFIXED_PLATFORM_REPORT = re.compile(_TOOL_PREFIX + CANONICAL_PLATFORM_REPORT.pattern)
_PREFIXES = (
    # aws logs tail: "<ISO time> <stream> <message>"
    re.compile(rf"(?P<ts>{_ISO_TIME})[ \t]+(?P<stream>{_STREAM})[ \t]+"),
    # sam logs: "<stream> <time> <message>"
    re.compile(rf"(?P<stream>{_STREAM})[ \t]+(?P<ts>{_ISO_TIME})[ \t]+"),
    # console copy: "<time><tab or spaces><message>"
    re.compile(rf"(?P<ts>{_ISO_TIME})[ \t]+(?=[A-Z_]+ |\{{)"),
)


def split_prefix(line: str) -> tuple[str | None, str | None, str]:
    """(timestamp, log stream, message) of a line that a tool printed; both None without a prefix.

    Knows `aws logs tail` (time, stream), `sam logs` (stream, time) and console copies (time).
    The timestamp is returned as printed: tools differ in zone and precision.
    """
    if not line[:1].isdigit():
        return None, None, line
    for pattern in _PREFIXES:
        m = pattern.match(line)
        if m is not None:
            groups = m.groupdict()
            return groups.get("ts"), groups.get("stream"), line[m.end():]
    return None, None, line


_TEXT_KINDS = ("START", "END", "REPORT", "INIT_START", "INIT_REPORT", "RESTORE_START",
               "RESTORE_REPORT", "XRAY", "EXTENSION", "LOGS")
_SEP = r"[ \t]+"
_START = re.compile(rf"START RequestId:[ \t]*(\S+)(?:{_SEP}Version:[ \t]*(\S+))?")
_END = re.compile(r"END RequestId:[ \t]*(\S+)")
_RUNTIME_VERSION = re.compile(
    rf"(INIT_START|RESTORE_START) Runtime Version:[ \t]*(\S+)(?:{_SEP}Runtime Version ARN:[ \t]*(\S+))?")
_INIT_REPORT = re.compile(
    rf"INIT_REPORT Init Duration:[ \t]*(\d+(?:\.\d+)?)[ \t]*ms(?:{_SEP}Phase:[ \t]*(\w+))?"
    rf"(?:{_SEP}Status:[ \t]*(\w+))?(?:{_SEP}Error Type:[ \t]*(\S+))?")
_RESTORE_REPORT = re.compile(
    rf"RESTORE_REPORT Restore Duration:[ \t]*(\d+(?:\.\d+)?)[ \t]*ms"
    rf"(?:{_SEP}Status:[ \t]*(\w+))?(?:{_SEP}Error Type:[ \t]*(\S+))?")
_XRAY = re.compile(
    rf"XRAY TraceId:[ \t]*(\S+)(?:{_SEP}SegmentId:[ \t]*(\S+))?(?:{_SEP}Sampled:[ \t]*(true|false))?")
_EXTENSION = re.compile(rf"(EXTENSION|LOGS) Name:[ \t]*(\S+){_SEP}State:[ \t]*(\S+)"
                        rf"(?:{_SEP}(Events|Types):[ \t]*(\[[^\]]*\]))?")
_TIMEOUT = re.compile(rf"(?:({_ISO_TIME}){_SEP})?(\S+){_SEP}Task timed out after (\d+(?:\.\d+)?) seconds")
_RUNTIME_ERROR = re.compile(r"RequestId:[ \t]*(\S+)[ \t]+Error:[ \t]*(.*)")
_FAULT_ID = re.compile(r"RequestId:[ \t]*(\S+)")


def _parse_text_record(line: str) -> LogRecord | None:
    _, _, message = split_prefix(line)
    message = message.lstrip()
    word = message.split(" ", 1)[0]
    if word == "REPORT":
        report = _parse_text_report_line(message)
        return _record("REPORT", report.request_id, report=report) if report else None
    if word == "START":
        m = _START.match(message)
        return _record("START", m.group(1), version=m.group(2)) if m else None
    if word == "END":
        m = _END.match(message)
        return _record("END", m.group(1)) if m else None
    if word in ("INIT_START", "RESTORE_START"):
        m = _RUNTIME_VERSION.match(message)
        return _record(word, None, runtime_version=m.group(2), runtime_version_arn=m.group(3)) if m else None
    if word == "INIT_REPORT":
        m = _INIT_REPORT.match(message)
        if m is None:
            return None
        return _record("INIT_REPORT", None, init_duration_ms=float(m.group(1)), phase=m.group(2),
                       status=m.group(3), error_type=m.group(4))
    if word == "RESTORE_REPORT":
        m = _RESTORE_REPORT.match(message)
        if m is None:
            return None
        return _record("RESTORE_REPORT", None, restore_duration_ms=float(m.group(1)),
                       status=m.group(2), error_type=m.group(3))
    if word == "XRAY":
        m = _XRAY.match(message)
        if m is None:
            return None
        sampled = None if m.group(3) is None else m.group(3) == "true"
        return _record("XRAY", None, trace_id=m.group(1), segment_id=m.group(2), sampled=sampled)
    if word in ("EXTENSION", "LOGS"):
        m = _EXTENSION.match(message)
        if m is None:
            return None
        extra = {m.group(4).lower(): m.group(5)} if m.group(4) else {}
        return _record(word, None, name=m.group(2), state=m.group(3), **extra)
    if word == "RequestId:":
        m = _RUNTIME_ERROR.match(message)
        # rstrip, not a lazy regex: `(.*?)\s*$` is quadratic on long runs of spaces
        return _record("RUNTIME_ERROR", m.group(1), error_message=m.group(2).rstrip()) if m else None
    if "Task timed out after" in message:
        m = _TIMEOUT.match(message)
        if m is not None:
            return _record("TIMEOUT", m.group(2), time=m.group(1), timeout_s=float(m.group(3)))
    return None


_PLATFORM_KINDS = {
    "platform.start": "START",
    "platform.end": "END",
    "platform.report": "REPORT",
    "platform.initStart": "INIT_START",
    "platform.initReport": "INIT_REPORT",
    "platform.restoreStart": "RESTORE_START",
    "platform.restoreReport": "RESTORE_REPORT",
    "platform.runtimeDone": "RUNTIME_DONE",
    "platform.fault": "FAULT",
    "platform.extension": "EXTENSION",
    "platform.logsSubscription": "LOGS",
}


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _parse_json_record(obj: dict) -> LogRecord | None:
    kind_name = obj.get("type")
    if not isinstance(kind_name, str) or not kind_name.startswith("platform."):
        return None  # application JSON logs have no platform type
    time = _str_or_none(obj.get("time"))
    record = obj.get("record")
    kind = _PLATFORM_KINDS.get(kind_name, "PLATFORM")
    rec = record if isinstance(record, dict) else {}
    metrics = rec.get("metrics") if isinstance(rec.get("metrics"), dict) else {}
    request_id = _str_or_none(rec.get("requestId"))
    if kind == "REPORT":
        values = _platform_report_values(record)
        if values is None:
            return None
        return _record("REPORT", values[0], "json", time, Report(*values))
    if kind == "START":
        return _record("START", request_id, "json", time, version=_str_or_none(rec.get("version")))
    if kind in ("INIT_START", "RESTORE_START"):
        fields: dict[str, Any] = dict(
            runtime_version=_str_or_none(rec.get("runtimeVersion")),
            runtime_version_arn=_str_or_none(rec.get("runtimeVersionArn")),
            initialization_type=_str_or_none(rec.get("initializationType")),
            phase=_str_or_none(rec.get("phase")),
        )
        if "instanceMaxMemory" in rec:
            fields["instance_max_memory_bytes"] = _whole(rec.get("instanceMaxMemory"))
        return _record(kind, None, "json", time, **fields)
    if kind == "INIT_REPORT":
        return _record("INIT_REPORT", None, "json", time,
                       init_duration_ms=_number(metrics.get("durationMs")),
                       phase=_str_or_none(rec.get("phase")), status=_str_or_none(rec.get("status")),
                       error_type=_str_or_none(rec.get("errorType")),
                       initialization_type=_str_or_none(rec.get("initializationType")))
    if kind == "RESTORE_REPORT":
        return _record("RESTORE_REPORT", None, "json", time,
                       restore_duration_ms=_number(metrics.get("durationMs")),
                       status=_str_or_none(rec.get("status")), error_type=_str_or_none(rec.get("errorType")))
    if kind == "RUNTIME_DONE":
        return _record("RUNTIME_DONE", request_id, "json", time, status=_str_or_none(rec.get("status")),
                       error_type=_str_or_none(rec.get("errorType")),
                       duration_ms=_number(metrics.get("durationMs")),
                       produced_bytes=_whole(metrics.get("producedBytes")))
    if kind == "FAULT":
        # platform.fault carries a plain string: "RequestId: <id> Process exited before ..."
        text = record if isinstance(record, str) else ""
        m = _FAULT_ID.search(text)
        return _record("FAULT", m.group(1) if m else request_id, "json", time, message=text or None)
    if kind == "END":
        return _record("END", request_id, "json", time)
    return _record(kind, request_id, "json", time, type=kind_name,
                   **({"name": rec["name"]} if isinstance(rec.get("name"), str) else {}))


def parse_record(text: str) -> LogRecord | None:
    """The platform record in one log line or CloudWatch message, or None (application output).

    A multi-line message (REPORT then XRAY) gives its first record; use `parse_report` to find
    the REPORT anywhere in a longer text. Never raises for a str.
    """
    if not isinstance(text, str):
        return None
    try:
        first = text.lstrip("\r\n")
        if '"platform.' in first:
            # A JSON record, maybe behind a tool prefix, maybe pretty-printed over lines.
            obj = _load_json_object(first)
            record = _parse_json_record(obj) if obj is not None else None
            if record is not None:
                return record
        line = first.split("\n", 1)[0].rstrip("\r")
        return _parse_text_record(line)
    except RecursionError:  # pragma: no cover
        return None


# --------------------------------------------------------------------------------------------
# Writers: exactly what Lambda writes (text format and JSON log format)
# --------------------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return f"{value:.2f}"


def format_start(request_id: str, version: str = "$LATEST") -> str:
    """`START RequestId: <id> Version: <version>` (Lambda separates these with a space)."""
    return f"START RequestId: {request_id} Version: {version}"


def format_end(request_id: str) -> str:
    return f"END RequestId: {request_id}"


def format_report(report: Report) -> str:
    """Lambda's text REPORT line, byte for byte: tab-separated, in Lambda's field order.

    Metric fields each end in a tab (so a line without Status ends in a tab); `Status` and
    `Error Type` come last, only when status is not "success", with no tab after them, as in
    real captures. Durations carry two decimals as Lambda prints them, so a Report whose
    durations have more precision reads back rounded to 0.01 ms. Lambda ends the CloudWatch
    message with a newline; callers writing an event add it.
    """
    parts = [f"REPORT RequestId: {report.request_id}\tDuration: {_ms(report.duration_ms)} ms\t"]
    if report.billed_duration_ms is not None:
        parts.append(f"Billed Duration: {report.billed_duration_ms} ms\t")
    if report.memory_size_mb is not None:
        parts.append(f"Memory Size: {report.memory_size_mb} MB\t")
    if report.max_memory_used_mb is not None:
        parts.append(f"Max Memory Used: {report.max_memory_used_mb} MB\t")
    if report.init_duration_ms is not None:
        parts.append(f"Init Duration: {_ms(report.init_duration_ms)} ms\t")
    if report.restore_duration_ms is not None:
        parts.append(f"Restore Duration: {_ms(report.restore_duration_ms)} ms\t")
    if report.billed_restore_duration_ms is not None:
        parts.append(f"Billed Restore Duration: {report.billed_restore_duration_ms} ms\t")
    if report.status != "success":
        parts.append(f"Status: {report.status}")
        if report.error_type is not None:
            parts.append(f"\tError Type: {report.error_type}")
    return "".join(parts)


def _utc(when: datetime) -> datetime:
    """Aware datetimes are converted to UTC; naive ones are taken to be UTC already."""
    return when.astimezone(timezone.utc) if when.tzinfo is not None else when


def format_time(when: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a Z, as Lambda writes record times."""
    when = _utc(when)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def format_timeout(request_id: str, timeout_s: float, when: datetime) -> str:
    """`2024-01-01T00:00:00.000Z <id> Task timed out after 3.00 seconds`."""
    return f"{format_time(when)} {request_id} Task timed out after {timeout_s:.2f} seconds"


def format_init_start(runtime_version: str, runtime_version_arn: str) -> str:
    return f"INIT_START Runtime Version: {runtime_version}\tRuntime Version ARN: {runtime_version_arn}"


def format_init_report(init_duration_ms: float, phase: str, status: str, error_type: str | None = None) -> str:
    """`INIT_REPORT Init Duration: 137.69 ms\tPhase: init\tStatus: error\tError Type: ...`:
    written when INIT fails or times out."""
    line = f"INIT_REPORT Init Duration: {_ms(init_duration_ms)} ms\tPhase: {phase}\tStatus: {status}"
    return line + (f"\tError Type: {error_type}" if error_type else "")


def format_platform_record(kind: str, time: datetime, record: Any) -> str:
    """One JSON-format platform record: `{"time": ..., "type": kind, "record": record}`,
    compact as CloudWatch stores it. `kind` is the full type, e.g. "platform.initStart"."""
    return json.dumps({"time": format_time(time), "type": kind, "record": record},
                      separators=(",", ":"), ensure_ascii=False)


def format_platform_start(request_id: str, version: str, time: datetime) -> str:
    """`platform.start` with the request id and the version that ran ("$LATEST", "8", ...)."""
    return format_platform_record("platform.start", time, {"requestId": request_id, "version": version})


def format_platform_report(report: Report, time: datetime) -> str:
    """`platform.report` with metrics present only when set, then status and errorType."""
    metrics: dict[str, Any] = {"durationMs": report.duration_ms}
    optional = (
        ("billedDurationMs", report.billed_duration_ms),
        ("memorySizeMB", report.memory_size_mb),
        ("maxMemoryUsedMB", report.max_memory_used_mb),
        ("initDurationMs", report.init_duration_ms),
        ("restoreDurationMs", report.restore_duration_ms),
        ("billedRestoreDurationMs", report.billed_restore_duration_ms),
    )
    for key, value in optional:
        if value is not None:
            metrics[key] = value
    record: dict[str, Any] = {"requestId": report.request_id, "metrics": metrics, "status": report.status}
    if report.error_type is not None:
        record["errorType"] = report.error_type
    return format_platform_record("platform.report", time, record)
