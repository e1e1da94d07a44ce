"""Reading REPORT records out of log *files*, and summarising them (`lambdabench parse`).

Owns the file side of log parsing; `lambdabench.logs` owns the records themselves.
Input kinds, recognised from the first bytes (after gunzip when the file is gzip):

- plain text: raw Lambda logs, `aws logs tail` output (`<time> <stream> <message>`),
  `sam logs` output (`<stream> <time> <message>`), console copies (`<time>\\t<message>`),
  JSON log format lines (`{"time": ..., "type": "platform.report", ...}`);
- `filter_log_events` / `get_log_events` JSON: a document `{"events": [...]}` (any layout,
  also a bare list of events, or a subscription payload with `logEvents`), or one event dict
  per line;
- the CloudWatch console CSV export (`timestamp,message`, Logs Insights `@timestamp,@message`;
  messages may hold quoted newlines);
- `.gz` of any of these; `-` is a stream the caller passes in (stdin).

Unreadable input (missing file, bad gzip, binary, broken JSON or CSV, bad UTF-8) raises
`UsageError` naming the file and line. Lines that are not REPORT records are counted, never fatal.
The text path is the bulk fast path: one substring test per line, a parse only for candidates.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import re
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Iterable, Iterator, NamedTuple

from lambdabench import limits
from lambdabench.errors import UsageError
from lambdabench.logs import (
    Report,
    format_time,
    parse_report,
    scan_prefixed_report_line,
    scan_report_line,
    split_prefix,
)

STDIN = "-"
_GZIP_MAGIC = b"\x1f\x8b"
_SNIFF_BYTES = 64 * 1024


class FoundReport(NamedTuple):
    """A REPORT record and where it was found. (An immutable named tuple rather than a frozen
    dataclass: the bulk reader makes hundreds of thousands and tuples build 3x faster.)

    `line` is the 1-based line of the file where the record starts (after gunzip); for a JSON
    events *document* (`{"events": [...]}`), whose layout says nothing, it is the 1-based
    position of the event in its list. `timestamp` is the event's time: ISO 8601 UTC for
    CloudWatch events, otherwise as the tool printed it; None when the input has none.
    """

    report: Report
    source: str
    line: int
    timestamp: str | None = None
    log_stream: str | None = None


@dataclass
class ReadStats:
    """Counts of one file read: `records` lines (or events) seen, `reports` found, the rest skipped."""

    source: str
    kind: str = "text"
    records: int = 0
    reports: int = 0

    @property
    def skipped(self) -> int:
        return self.records - self.reports

    def describe(self) -> str:
        """e.g. "2 REPORT records, 6 other lines skipped" (events for JSON and CSV input)."""
        unit = "line" if self.kind == "text" else "event"
        return (f"{self.reports} REPORT record{'' if self.reports == 1 else 's'}, "
                f"{self.skipped} other {unit}{'' if self.skipped == 1 else 's'} skipped")


# --------------------------------------------------------------------------------------------
# Opening: gzip, binary check, stdin
# --------------------------------------------------------------------------------------------


class _Prepend(io.RawIOBase):
    """A raw stream yielding `head` then the rest of `stream`: lets us sniff non-seekable stdin."""

    def __init__(self, head: bytes, stream: IO[bytes]):
        self._head = memoryview(head)
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head.nbytes:
            n = min(len(buffer), self._head.nbytes)
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._stream.read(len(buffer))
        if not data:
            return 0
        buffer[: len(data)] = data
        return len(data)


def _display_name(path: str) -> str:
    return "<stdin>" if path == STDIN else path


def _open_binary(path: str, stdin: IO[bytes] | None) -> IO[bytes]:
    if path == STDIN:
        if stdin is None:
            raise UsageError("'-' means standard input, but no input stream was given")
        return stdin
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file", "check the path, or pass '-' to read standard input") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory",
                         "pass log files, not a folder (a shell glob such as DIR/*.log works)") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot open ({exc.strerror or exc})", "check the file's permissions") from None


def _read_head(stream: IO[bytes], name: str, line_hint: int = 1) -> bytes:
    try:
        return stream.read(_SNIFF_BYTES)
    except (OSError, EOFError, zlib.error) as exc:
        raise UsageError(f"{name}:{line_hint}: cannot decompress ({exc})",
                         "the gzip file is damaged or truncated; fetch it again") from None


def _decompressed(raw: IO[bytes], name: str) -> tuple[bytes, IO[bytes], bool]:
    """(first bytes, a stream from the very start, gzipped?) of the file's content."""
    head = _read_head(raw, name)
    stream: IO[bytes] = io.BufferedReader(_Prepend(head, raw))
    if head[:2] != _GZIP_MAGIC:
        return head, stream, False
    unzipped = gzip.GzipFile(fileobj=stream, mode="rb")
    head = _read_head(unzipped, name)
    return head, io.BufferedReader(_Prepend(head, unzipped)), True


# --------------------------------------------------------------------------------------------
# Sniffing the kind of input
# --------------------------------------------------------------------------------------------

_CSV_HEADER = re.compile(r'^\ufeff?"?@?timestamp"?,', re.IGNORECASE)
# "[INFO] ..." is a text log line; "[{" or "[]" opens a JSON list of events.
_JSON_LIST_START = re.compile(r"\[\s*[{\]]")
_DOCUMENT_START = re.compile(
    r'\{\s*"(events|logEvents|searchedLogStreams|nextToken|nextForwardToken|nextBackwardToken|messageType|owner)"')


def _is_event(obj: Any) -> bool:
    """A CloudWatch event dict, not an application JSON log line (those carry string times)."""
    if not isinstance(obj, dict) or not isinstance(obj.get("message"), str):
        return False
    ts = obj.get("timestamp")
    return (isinstance(ts, int) and not isinstance(ts, bool)) or "ingestionTime" in obj or "eventId" in obj


def _sniff(head: bytes) -> str:
    """'text', 'csv', 'events-lines' (one event dict per line) or 'events-document'."""
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    stripped = text.lstrip()
    if not stripped:
        return "text"
    if _JSON_LIST_START.match(stripped):
        return "events-document"
    if _CSV_HEADER.match(stripped):
        first = stripped.split("\n", 1)[0].lower()
        if "message" in first:
            return "csv"
    if stripped[0] != "{":
        return "text"
    first_line = stripped.split("\n", 1)[0].strip()
    try:
        obj = json.loads(first_line)
    except ValueError:
        # Not a whole JSON value on the first line: a pretty-printed document ("{" alone on
        # its first line), a long one-line document cut by the sniff window, or text.
        if first_line == "{" or _DOCUMENT_START.match(stripped):
            return "events-document"
        return "text"
    if isinstance(obj, dict) and ("events" in obj or "logEvents" in obj):
        return "events-document"
    if _is_event(obj):
        return "events-lines"
    return "text"


# --------------------------------------------------------------------------------------------
# Readers per kind
# --------------------------------------------------------------------------------------------

_JSON_TIME = re.compile(r'"time"\s*:\s*"([^"]+)"')


def _event_time(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    try:
        return format_time(datetime.fromtimestamp(value / 1000.0, tz=timezone.utc))
    except (OverflowError, OSError, ValueError):
        return None


def _text_reports(lines: Iterable[str], stats: ReadStats) -> Iterator[FoundReport]:
    scan_text = scan_prefixed_report_line
    scan = scan_report_line
    source = stats.source
    number = 0
    found = 0
    try:
        for number, line in enumerate(lines, 1):
            # Most lines are START/END/application output: one or two C-speed tests each.
            if "REPORT" in line:
                hit = scan_text(line)
                if hit is not None:
                    found += 1
                    yield FoundReport(hit[0], source, number, hit[1], hit[2])
            elif "platform.report" in line:
                report = scan(line)
                if report is not None:
                    found += 1
                    ts, stream, _ = split_prefix(line)
                    if ts is None:
                        m = _JSON_TIME.search(line)
                        ts = m.group(1) if m else None
                    yield FoundReport(report, source, number, ts, stream)
    finally:
        stats.records = number
        stats.reports = found


def _events_from_document(doc: Any) -> tuple[list[Any], str | None]:
    if isinstance(doc, list):
        return doc, None
    if isinstance(doc, dict):
        if isinstance(doc.get("events"), list):
            return doc["events"], None
        if isinstance(doc.get("logEvents"), list):  # subscription payload
            stream = doc.get("logStream")
            return doc["logEvents"], stream if isinstance(stream, str) else None
    raise ValueError("expected a JSON object with an 'events' list (filter_log_events/get_log_events output)")


def _event_reports(events: Iterable[tuple[int, Any]], stats: ReadStats,
                   default_stream: str | None = None) -> Iterator[FoundReport]:
    for number, event in events:
        stats.records += 1
        if not isinstance(event, dict) or not isinstance(event.get("message"), str):
            raise UsageError(f"{stats.source}:{number}: not a CloudWatch event (no 'message' string)",
                             "pass filter_log_events/get_log_events output: events with 'timestamp' and 'message'")
        report = parse_report(event["message"])
        if report is None:
            continue
        stats.reports += 1
        stream = event.get("logStreamName")
        yield FoundReport(report, stats.source, number, _event_time(event.get("timestamp")),
                          stream if isinstance(stream, str) else default_stream)


def _event_lines(lines: Iterable[str], source: str) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except ValueError as exc:
            raise UsageError(f"{source}:{number}: broken JSON event ({exc})",
                             "each line must be one JSON event dict; check the file was not cut off") from None


def _csv_reports(text: IO[str], stats: ReadStats) -> Iterator[FoundReport]:
    reader = csv.reader(text)
    source = stats.source
    try:
        header = next(reader, None)
        if header is None:
            return
        names = [h.strip().lstrip("\ufeff").lstrip("@").lower() for h in header]
        if "message" not in names:
            raise UsageError(f"{source}:1: CSV without a 'message' column (columns: {', '.join(header)})",
                             "export from the CloudWatch console keeps the timestamp and message columns")
        i_msg = names.index("message")
        i_ts = names.index("timestamp") if "timestamp" in names else None
        i_stream = names.index("logstream") if "logstream" in names else None
        start = reader.line_num + 1
        for row in reader:
            number, start = start, reader.line_num + 1
            if not row:
                continue
            stats.records += 1
            message = row[i_msg] if i_msg < len(row) else ""
            report = parse_report(message)
            if report is None:
                continue
            stats.reports += 1
            ts = row[i_ts] if i_ts is not None and i_ts < len(row) else None
            if ts is not None and ts.isdigit():
                ts = _event_time(int(ts))
            stream = row[i_stream] if i_stream is not None and i_stream < len(row) else None
            yield FoundReport(report, source, number, ts or None, stream or None)
    except csv.Error as exc:
        raise UsageError(f"{source}:{reader.line_num}: broken CSV ({exc})",
                         "the CloudWatch console export quotes messages; check the file was not cut off") from None


# --------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------


def iter_file_reports(path: str | Path, stats: ReadStats | None = None,
                      stdin: IO[bytes] | None = None) -> Iterator[FoundReport]:
    """Every REPORT in one log file, in file order. `path` "-" reads `stdin` (a binary stream).

    `stats`, when given, is filled in as the file is read (kind, records seen, reports found).
    Raises UsageError, naming the file and line, for input that cannot be read.
    """
    path = str(path)
    name = _display_name(path)
    stats = stats if stats is not None else ReadStats(name)
    stats.source = name
    raw = _open_binary(path, stdin)
    try:
        head, stream, _ = _decompressed(raw, name)
        if b"\x00" in head:
            raise UsageError(f"{name}:1: binary data, not a log",
                             "pass text logs, CloudWatch JSON or CSV exports, or a .gz of one")
        kind = _sniff(head)
        stats.kind = kind
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="strict",
                                newline="" if kind == "csv" else None)
        lines_seen = _LineCounter(text)
        try:
            if kind == "text":
                # The bulk path counts its own lines (no per-line wrapper); errors use stats.records.
                yield from _text_reports(text, stats)
            elif kind == "csv":
                yield from _csv_reports(text, stats)
            elif kind == "events-lines":
                yield from _event_reports(_event_lines(lines_seen, name), stats)
            else:
                try:
                    doc = json.loads(text.read())
                except json.JSONDecodeError as exc:
                    raise UsageError(f"{name}:{exc.lineno}: broken JSON ({exc.msg}, column {exc.colno})",
                                     "pass the complete output of filter_log_events/get_log_events") from None
                try:
                    events, stream_name = _events_from_document(doc)
                except ValueError as exc:
                    raise UsageError(f"{name}:1: {exc}", "use `aws logs filter-log-events ... > events.json`") from None
                yield from _event_reports(enumerate(events, 1), stats, stream_name)
        except UnicodeDecodeError:
            # The text layer decodes in blocks, so its position is only near the bad byte;
            # a file (not stdin) is re-read as bytes to name the exact line.
            line = _first_undecodable_line(path) if path != STDIN else None
            where = f"{name}:{line}" if line else f"{name}: near line {_lines_read(stats, lines_seen) + 1}"
            raise UsageError(f"{where}: not UTF-8 text (binary data?)",
                             "pass text logs, CloudWatch JSON or CSV exports, or a .gz of one") from None
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise UsageError(f"{name}:{_lines_read(stats, lines_seen) + 1}: cannot decompress ({exc})",
                             "the gzip file is damaged or truncated; fetch it again") from None
        except OSError as exc:
            raise UsageError(f"{name}:{_lines_read(stats, lines_seen) + 1}: read failed ({exc})",
                             "the gzip file is damaged or truncated; fetch it again") from None
    finally:
        if path != STDIN:
            raw.close()


def _first_undecodable_line(path: str) -> int | None:
    try:
        with open(path, "rb") as f:
            stream: IO[bytes] = gzip.GzipFile(fileobj=f) if f.read(2) == _GZIP_MAGIC else f
            f.seek(0)
            for number, raw_line in enumerate(stream, 1):
                try:
                    raw_line.decode("utf-8")
                except UnicodeDecodeError:
                    return number
    except (OSError, EOFError, zlib.error):
        return None
    return None


def _lines_read(stats: ReadStats, counter: "_LineCounter") -> int:
    return stats.records if stats.kind == "text" else counter.count


class _LineCounter:
    """Iterates a text stream's lines and remembers how many were read (for error messages)."""

    __slots__ = ("_lines", "count")

    def __init__(self, lines: Iterable[str]):
        self._lines = lines
        self.count = 0

    def __iter__(self) -> Iterator[str]:
        for line in self._lines:
            self.count += 1
            yield line


def read_reports(paths: Iterable[str | Path],
                 stdin: IO[bytes] | None = None) -> tuple[list[FoundReport], list[ReadStats]]:
    """All REPORT records of several files, with one ReadStats per file."""
    found: list[FoundReport] = []
    all_stats: list[ReadStats] = []
    for path in paths:
        stats = ReadStats(_display_name(str(path)))
        found.extend(iter_file_reports(path, stats, stdin))
        all_stats.append(stats)
    return found, all_stats


# --------------------------------------------------------------------------------------------
# Table rows and summaries
# --------------------------------------------------------------------------------------------

ROW_FIELDS: tuple[str, ...] = (
    "source", "line", "timestamp", "log_stream",
    "request_id", "duration_ms", "billed_duration_ms", "memory_size_mb", "max_memory_used_mb",
    "init_duration_ms", "restore_duration_ms", "billed_restore_duration_ms", "status", "error_type",
    "cold",
)


def row(found: FoundReport) -> dict[str, Any]:
    r = found.report
    return {
        "source": found.source, "line": found.line, "timestamp": found.timestamp, "log_stream": found.log_stream,
        "request_id": r.request_id, "duration_ms": r.duration_ms, "billed_duration_ms": r.billed_duration_ms,
        "memory_size_mb": r.memory_size_mb, "max_memory_used_mb": r.max_memory_used_mb,
        "init_duration_ms": r.init_duration_ms, "restore_duration_ms": r.restore_duration_ms,
        "billed_restore_duration_ms": r.billed_restore_duration_ms, "status": r.status,
        "error_type": r.error_type, "cold": r.cold,
    }


@dataclass(frozen=True)
class MemorySummary:
    """REPORT statistics for one memory size (None = the records carry no Memory Size).

    Duration percentiles use successful invocations only and keep warm and cold apart (cold =
    Init or Restore Duration present): a cold start's Duration excludes INIT but runs on a fresh
    environment, and timeouts sit at the limit. Cost per million is the mean over records that
    carry Billed Duration, from Billed Duration alone (INIT is already in it since 2025-08-01),
    request fee included; timeouts and errors are billed, so they count.
    """

    memory_size_mb: int | None
    count: int
    cold_count: int
    status_counts: dict[str, int]
    warm_samples: int  # successful warm invocations behind the warm percentiles
    cold_samples: int  # successful cold starts behind the cold percentiles
    warm_p50_ms: float | None
    warm_p95_ms: float | None
    warm_p99_ms: float | None
    cold_p50_ms: float | None
    cold_p95_ms: float | None
    cold_p99_ms: float | None
    init_p50_ms: float | None
    restore_p50_ms: float | None
    max_memory_used_mb: int | None
    billed_count: int
    cost_per_million_usd: float | None
    cost_region: str = "us-east-1"
    cost_architecture: str = limits.DEFAULT_ARCHITECTURE
    # Percentile method, named so readers can reproduce the numbers.
    percentile_method: str = field(default="linear interpolation (numpy default)")

    @property
    def cold_share(self) -> float:
        return self.cold_count / self.count if self.count else 0.0


def _percentiles(values: list[float]) -> tuple[float | None, float | None, float | None]:
    if not values:
        return None, None, None
    import numpy as np

    p50, p95, p99 = np.percentile(np.asarray(values, dtype=float), [50, 95, 99])
    return float(p50), float(p95), float(p99)


def check_pricing(architecture: str = limits.DEFAULT_ARCHITECTURE, region: str = "us-east-1",
                  price_gb_s: float | None = None) -> None:
    """Raise UsageError now for a region/architecture/price the summary could not price,
    rather than after reading every file."""
    from lambdabench.pricing import invocation_cost

    invocation_cost(1024, 1, architecture=architecture, region=region, price_gb_s=price_gb_s)


def summarize(reports: Iterable[Report], *, architecture: str = limits.DEFAULT_ARCHITECTURE,
              region: str = "us-east-1", price_gb_s: float | None = None) -> list[MemorySummary]:
    """One MemorySummary per memory size found, in ascending memory order (unknown last).

    A memory size or Billed Duration the price model refuses (outside Lambda's limits, so not
    from a real log) gets no cost rather than failing the whole summary.
    """
    from lambdabench.pricing import invocation_cost

    groups: dict[int | None, list[Report]] = {}
    for r in reports:
        groups.setdefault(r.memory_size_mb, []).append(r)
    out: list[MemorySummary] = []
    for memory in sorted(groups, key=lambda m: (m is None, m or 0)):
        items = groups[memory]
        statuses: dict[str, int] = {}
        for r in items:
            statuses[r.status] = statuses.get(r.status, 0) + 1
        ok = [r for r in items if r.status == "success"]
        warm_ms = [r.duration_ms for r in ok if not r.cold]
        cold_ms = [r.duration_ms for r in ok if r.cold]
        warm, cold = _percentiles(warm_ms), _percentiles(cold_ms)
        init = _percentiles([r.init_duration_ms for r in items if r.init_duration_ms is not None])[0]
        restore = _percentiles([r.restore_duration_ms for r in items if r.restore_duration_ms is not None])[0]
        used = [r.max_memory_used_mb for r in items if r.max_memory_used_mb is not None]
        billed = [r.billed_duration_ms for r in items if r.billed_duration_ms is not None]
        cost = None
        if memory is not None and billed:
            try:
                total = 0.0
                for ms in billed:
                    total += invocation_cost(memory, ms, architecture=architecture, region=region,
                                             price_gb_s=price_gb_s).total_usd
                cost = total / len(billed) * 1_000_000
            except UsageError:
                cost = None
        out.append(MemorySummary(
            memory_size_mb=memory, count=len(items), cold_count=sum(1 for r in items if r.cold),
            status_counts=statuses, warm_samples=len(warm_ms), cold_samples=len(cold_ms),
            warm_p50_ms=warm[0], warm_p95_ms=warm[1], warm_p99_ms=warm[2],
            cold_p50_ms=cold[0], cold_p95_ms=cold[1], cold_p99_ms=cold[2],
            init_p50_ms=init, restore_p50_ms=restore,
            max_memory_used_mb=max(used) if used else None, billed_count=len(billed),
            cost_per_million_usd=cost, cost_region=region, cost_architecture=architecture,
        ))
    return out


# --------------------------------------------------------------------------------------------
# Output: the table and the summary in csv / jsonl / text
# --------------------------------------------------------------------------------------------


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


# One encoder for every row: json.dumps(..., separators=...) builds a new JSONEncoder per
# call, which costs more than encoding the row. Same settings, so the same bytes.
_encode_json = json.JSONEncoder(separators=(",", ":")).encode
_WRITE_BATCH = 4096


def _csv_cells(found: FoundReport) -> tuple[Any, ...]:
    """`row(found)` in ROW_FIELDS order as CSV cells (`_csv_value` of each), without the dict."""
    r = found.report
    return (found.source, found.line, "" if found.timestamp is None else found.timestamp,
            "" if found.log_stream is None else found.log_stream, r.request_id, r.duration_ms,
            "" if r.billed_duration_ms is None else r.billed_duration_ms,
            "" if r.memory_size_mb is None else r.memory_size_mb,
            "" if r.max_memory_used_mb is None else r.max_memory_used_mb,
            "" if r.init_duration_ms is None else r.init_duration_ms,
            "" if r.restore_duration_ms is None else r.restore_duration_ms,
            "" if r.billed_restore_duration_ms is None else r.billed_restore_duration_ms,
            r.status, "" if r.error_type is None else r.error_type, "true" if r.cold else "false")


class TableWriter:
    """Writes FoundReports as CSV (header first, empty cells for absent values) or JSON lines
    to a text stream the caller owns, row by row so a big log never sits in memory."""

    def __init__(self, out: IO[str], fmt: str = "csv"):
        if fmt not in ("csv", "jsonl"):
            raise ValueError(f"unknown table format {fmt!r}")
        self._out = out
        self._fmt = fmt
        self._csv = csv.writer(out, lineterminator="\n") if fmt == "csv" else None
        self._header_written = False

    def _header(self) -> None:
        # Written with the first row (or at close), so input rejected up front leaves stdout empty.
        if self._csv is not None and not self._header_written:
            self._csv.writerow(ROW_FIELDS)
        self._header_written = True

    def write(self, found: FoundReport) -> None:
        self._write_rows([found])

    def write_all(self, founds: Iterable[FoundReport]) -> None:
        """Write every row of `founds` as it is read, a few thousand at a time (one call per row
        costs more than formatting it); rows read before the reader raises are still written."""
        batch: list[FoundReport] = []
        try:
            for found in founds:
                batch.append(found)
                if len(batch) == _WRITE_BATCH:
                    self._write_rows(batch)
                    batch = []
        finally:
            if batch:
                self._write_rows(batch)

    def _write_rows(self, founds: list[FoundReport]) -> None:
        if not self._header_written:
            self._header()
        if self._csv is not None:
            self._csv.writerows(map(_csv_cells, founds))
        else:
            self._out.write("".join([_encode_json(row(found)) + "\n" for found in founds]))

    def close(self) -> None:
        self._header()
        self._out.flush()


SUMMARY_FIELDS: tuple[str, ...] = (
    "memory_size_mb", "count", "cold_count", "cold_share", "success", "timeout", "error", "other_status",
    "warm_samples", "cold_samples", "warm_p50_ms", "warm_p95_ms", "warm_p99_ms",
    "cold_p50_ms", "cold_p95_ms", "cold_p99_ms", "init_p50_ms", "restore_p50_ms",
    "max_memory_used_mb", "billed_count", "cost_per_million_usd", "cost_architecture", "cost_region",
)


def summary_row(s: MemorySummary) -> dict[str, Any]:
    known = ("success", "timeout", "error")
    return {
        "memory_size_mb": s.memory_size_mb, "count": s.count, "cold_count": s.cold_count,
        "cold_share": round(s.cold_share, 6),
        "success": s.status_counts.get("success", 0), "timeout": s.status_counts.get("timeout", 0),
        "error": s.status_counts.get("error", 0),
        "other_status": sum(n for k, n in s.status_counts.items() if k not in known),
        "warm_samples": s.warm_samples, "cold_samples": s.cold_samples,
        "warm_p50_ms": s.warm_p50_ms, "warm_p95_ms": s.warm_p95_ms, "warm_p99_ms": s.warm_p99_ms,
        "cold_p50_ms": s.cold_p50_ms, "cold_p95_ms": s.cold_p95_ms, "cold_p99_ms": s.cold_p99_ms,
        "init_p50_ms": s.init_p50_ms, "restore_p50_ms": s.restore_p50_ms,
        "max_memory_used_mb": s.max_memory_used_mb,
        "billed_count": s.billed_count, "cost_per_million_usd": s.cost_per_million_usd,
        "cost_architecture": s.cost_architecture, "cost_region": s.cost_region,
    }


def _fmt_ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} ms"


def _summary_text(s: MemorySummary) -> str:
    memory = "unknown memory (records carry no Memory Size)" if s.memory_size_mb is None else f"{s.memory_size_mb} MB"
    statuses = ", ".join(f"{k} {n}" for k, n in sorted(s.status_counts.items(), key=lambda kv: (-kv[1], kv[0])))
    lines = [
        f"Memory {memory}: {s.count} invocation{'' if s.count == 1 else 's'}, "
        f"cold {s.cold_count} ({100 * s.cold_share:.1f}%)",
        f"  Status          {statuses}",
        f"  Warm duration   p50 {_fmt_ms(s.warm_p50_ms)}   p95 {_fmt_ms(s.warm_p95_ms)}   "
        f"p99 {_fmt_ms(s.warm_p99_ms)}   (n={s.warm_samples})",
    ]
    if s.cold_count:
        phases = "; ".join(f"{name} p50 {_fmt_ms(value)}" for name, value in
                           (("Init", s.init_p50_ms), ("Restore", s.restore_p50_ms)) if value is not None)
        lines.append(f"  Cold duration   p50 {_fmt_ms(s.cold_p50_ms)}   p95 {_fmt_ms(s.cold_p95_ms)}   "
                     f"p99 {_fmt_ms(s.cold_p99_ms)}   (n={s.cold_samples}; {phases})")
    if s.max_memory_used_mb is not None:
        of = f" of {s.memory_size_mb} MB" if s.memory_size_mb is not None else ""
        lines.append(f"  Max memory used {s.max_memory_used_mb} MB{of}")
    if s.cost_per_million_usd is not None:
        lines.append(f"  Cost            ${s.cost_per_million_usd:.4f} per million invocations "
                     f"({s.cost_architecture}, {s.cost_region}; mean over {s.billed_count} Billed Duration"
                     f"{'' if s.billed_count == 1 else 's'}, "
                     f"request fee included)")
    else:
        lines.append("  Cost            - (no Memory Size or Billed Duration that Lambda could bill)")
    lines.append("  (durations: successful invocations only; percentiles by linear interpolation)")
    return "\n".join(lines) + "\n"


def format_summaries(summaries: list[MemorySummary], fmt: str = "text") -> list[str]:
    """The summaries as text blocks (one per memory size), CSV (header + rows) or JSON lines."""
    if fmt == "text":
        blocks = [_summary_text(s) for s in summaries]
        return ["\n".join(blocks)] if blocks else []
    rows = [summary_row(s) for s in summaries]
    if fmt == "jsonl":
        return [json.dumps(r, separators=(",", ":")) + "\n" for r in rows]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(SUMMARY_FIELDS)
        for r in rows:
            writer.writerow([_csv_value(r[k]) for k in SUMMARY_FIELDS])
        return [buffer.getvalue()]
    raise ValueError(f"unknown summary format {fmt!r}")
