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
The text path is the bulk path (`iter_file_rows`): a block of lines at a time, str.find from one
line holding a REPORT mark to the next, one regex match per canonical record, plain row tuples.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import operator
import re
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Iterable, Iterator, NamedTuple, Sequence

from lambdabench import limits
from lambdabench.errors import UsageError
from lambdabench.logs import (
    PREFIXED_CANONICAL_REPORT,
    PREFIXED_PLATFORM_REPORT,
    REPORT_MARK,
    Report,
    ReportValues,
    format_time,
    parse_report,
    report_values,
    split_prefix,
)

STDIN = "-"
_GZIP_MAGIC = b"\x1f\x8b"
_SNIFF_BYTES = 64 * 1024


# One REPORT as a plain tuple, in ROW_FIELDS order: the bulk path's record (no objects to build).
Row = tuple


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


def _scan_line(line: str) -> tuple[ReportValues, str | None, str | None] | None:
    """(Report's field values, timestamp, log stream) of one text log line on which
    PREFIXED_CANONICAL_REPORT has failed, or None: the general path. (That match failing,
    `scan_prefixed_report_values` is `report_values` and `split_prefix`, done here without
    trying it again.) A JSON record no tool prefixed keeps its own time."""
    values = report_values(line)
    if values is None:
        return None
    ts, stream, _ = split_prefix(line)
    if ts is None and "REPORT" not in line:
        m = _JSON_TIME.search(line)
        ts = m.group(1) if m else None
    return values, ts, stream


def _report_row(source: str, number: int, hit: tuple[ReportValues, str | None, str | None]) -> Row:
    values, ts, stream = hit
    return (source, number, ts, stream, *values, values[5] is not None or values[6] is not None)


# Text is read in blocks of about this many characters (cut at a line end): big enough that
# str.find over a block replaces the per-line Python loop, small enough to stream a huge log
# (and to name a line near a decoding error).
BLOCK_CHARS = 256 * 1024


def text_blocks(text: IO[str], block_chars: int = BLOCK_CHARS) -> Iterator[str]:
    """The text in blocks of whole lines, each about `block_chars` characters (the last may lack
    its newline)."""
    read, readline = text.read, text.readline
    while True:
        block = read(block_chars)
        if not block:
            return
        if block[-1] != "\n":
            block += readline()
        yield block


_LINE = operator.itemgetter(1)


def _block_rows(block: str, source: str, first: int) -> list[Row]:
    """The rows of one block of whole lines whose first line is number `first`, in line order.

    Exactly the rows `scan_prefixed_report_values` gives line by line (a JSON record without a
    tool prefix keeping its own time), but most lines are never looked at: str.find jumps from
    one line holding "REPORT RequestId:" (then "platform.report") to the next, where one match
    from the line's start reads a canonical record behind a known tool prefix or none (the match
    `scan_prefixed_report_values` tries first). Any other line holding a mark goes to `_scan_line`.
    """
    rows: list[Row] = []
    general: list[int] = []  # start offsets of lines left to _scan_line
    find, rfind, count = block.find, block.rfind, block.count
    text_match, json_match = PREFIXED_CANONICAL_REPORT.match, PREFIXED_PLATFORM_REPORT.match
    line, at = first, 0  # the line starting at offset `at`
    mark = find(REPORT_MARK)
    while mark >= 0:
        ls = rfind("\n", 0, mark) + 1
        line += count("\n", at, ls)
        at = ls
        m = text_match(block, ls)
        if m is None:
            general.append(ls)
            mark = find("\n", mark)
            mark = find(REPORT_MARK, mark) if mark >= 0 else -1
            continue
        ts1, stream1, stream2, ts2, ts3, rid, dur, billed, mem, used, init, restore, brestore, status, etype = \
            m.groups()
        rows.append((source, line, ts1 or ts2 or ts3, stream1 or stream2, rid, float(dur), int(billed),
                     int(mem), int(used), None if init is None else float(init),
                     None if restore is None else float(restore), None if brestore is None else int(brestore),
                     status or "success", etype, init is not None or restore is not None))
        mark = find(REPORT_MARK, m.end())  # the match ends after its line's newline
    text_rows = len(rows)
    line, at = first, 0
    mark = find("platform.report")
    while mark >= 0:
        ls = rfind("\n", 0, mark) + 1
        line += count("\n", at, ls)
        at = ls
        end = find("\n", mark)
        end = len(block) if end < 0 else end + 1
        if find(REPORT_MARK, ls, end) >= 0:  # the text loop above has read this line
            mark = find("platform.report", end)
            continue
        m = json_match(block, ls)
        # The general path reads the line the same way when nothing in it says REPORT and the
        # record opens at the line's first "{" (a stream name may hold one); the prefix's time,
        # if any, wins over the record's, as split_prefix does.
        if m is None or find("REPORT", ls, end) >= 0 or find("{", ls, mark) != m.start(6) - 9:
            general.append(ls)
        else:
            ts1, stream1, stream2, ts2, ts3, time, rid, dur, billed, mem, used, init, status, etype = m.groups()
            rows.append((source, line, ts1 or ts2 or ts3 or time or None, stream1 or stream2, rid, float(dur),
                         int(billed), int(mem), int(used), None if init is None else float(init), None, None,
                         status, etype, init is not None))
        mark = find("platform.report", end)
    if general:
        general.sort()
        line, at = first, 0
        for ls in general:
            line += count("\n", at, ls)
            at = ls
            end = find("\n", ls)
            hit = _scan_line(block[ls:] if end < 0 else block[ls:end + 1])
            if hit is not None:
                rows.append(_report_row(source, line, hit))
    if general or 0 < text_rows < len(rows):
        rows.sort(key=_LINE)
    return rows


def _text_row_batches(text: IO[str], stats: ReadStats, block_chars: int) -> Iterator[list[Row]]:
    source = stats.source
    first = 1  # number of the next block's first line
    for block in text_blocks(text, block_chars):
        rows = _block_rows(block, source, first)
        first += block.count("\n") + (block[-1] != "\n")
        stats.records = first - 1
        if rows:
            stats.reports += len(rows)
            yield rows


_ROW_BATCH = 4096


def _row_batches(founds: Iterable[FoundReport]) -> Iterator[list[Row]]:
    batch: list[Row] = []
    try:
        for found in founds:
            batch.append(found_row(found))
            if len(batch) == _ROW_BATCH:
                yield batch
                batch = []
    except Exception:
        if batch:  # the rows read before the reader raised still reach the caller
            yield batch
        raise
    if batch:
        yield batch


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
    for rows in iter_file_rows(path, stats, stdin):
        for r in rows:
            yield FoundReport(Report(r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13]),
                              r[0], r[1], r[2], r[3])


def iter_file_rows(path: str | Path, stats: ReadStats | None = None, stdin: IO[bytes] | None = None, *,
                   block_chars: int = BLOCK_CHARS) -> Iterator[list[Row]]:
    """`iter_file_reports` as plain row tuples (ROW_FIELDS order), a list of rows at a time.

    The bulk path: no Report or FoundReport objects, and the rows of a block of text (about
    `block_chars` characters, cut at a line end) come from one pass over the block. Same
    records, same order, same ReadStats, same errors.
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
                yield from _text_row_batches(text, stats, block_chars)
            elif kind == "csv":
                yield from _row_batches(_csv_reports(text, stats))
            elif kind == "events-lines":
                yield from _row_batches(_event_reports(_event_lines(lines_seen, name), stats))
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
                yield from _row_batches(_event_reports(enumerate(events, 1), stats, stream_name))
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


def found_row(found: FoundReport) -> Row:
    """`found` as a Row: the values of `row(found)`, in ROW_FIELDS order."""
    r = found.report
    return (found.source, found.line, found.timestamp, found.log_stream, r.request_id, r.duration_ms,
            r.billed_duration_ms, r.memory_size_mb, r.max_memory_used_mb, r.init_duration_ms,
            r.restore_duration_ms, r.billed_restore_duration_ms, r.status, r.error_type, r.cold)


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


# One encoder for every row: json.dumps(..., separators=...) builds a new JSONEncoder per
# call, which costs more than encoding the row. Same settings, so the same bytes.
_encode_json = json.JSONEncoder(separators=(",", ":")).encode
# The table is formatted a batch at a time, looking at each column once: plain strings (none
# that json would escape or csv would quote) and numbers go into the line as they are, by one
# %-template per batch (JSON) or a join per row (CSV); only columns mixing None with values, or
# holding a string to escape, are converted value by value. The bytes are exactly
# json.dumps(row(found)) and csv.writer's: both write numbers with repr, None as null / empty.
_COLUMN_KINDS = tuple("bool" if name == "cold" else
                      "str" if name in ("source", "timestamp", "log_stream", "request_id", "status", "error_type")
                      else "number" for name in ROW_FIELDS)


def _csv_plain(text: str) -> bool:
    """Nothing in `text` that csv.writer (QUOTE_MINIMAL, ",", '"') quotes. Four substring scans:
    each is a memchr, some 60x faster over a batch's cells than one regex character class."""
    return '"' not in text and "," not in text and "\n" not in text and "\r" not in text


def _json_plain(text: str) -> bool:
    """Nothing in `text` that json (ensure_ascii) escapes: printable ASCII but quote and backslash."""
    return text.isascii() and text.isprintable() and '"' not in text and "\\" not in text


_JSON_BOOL = {True: "true", False: "false"}.__getitem__


def _json_template(columns: list[tuple]) -> tuple[str, list[Sequence]]:
    """A %-template for one batch's JSON lines and the columns it takes, in order.

    Per column: a number column without None goes in raw as %r (json writes int and float
    with their repr), plain strings raw inside quotes, an all-None column as a literal null;
    only a column mixing None with values, or holding a string json escapes, is converted.
    """
    parts: list[str] = []
    args: list[Sequence] = []
    for name, kind, values in zip(ROW_FIELDS, _COLUMN_KINDS, columns):
        parts.append(f'"{name}":')
        nones = values.count(None)
        if nones == len(values):
            parts.append("null")
            continue
        if kind == "bool":
            parts.append("%s")
            args.append(list(map(_JSON_BOOL, values)))
        elif kind == "str" and not _json_plain("".join(map(str, values)) if nones else "".join(values)):
            parts.append("%s")
            args.append(list(map(_encode_json, values)))
        elif nones:
            parts.append("%s")
            plain = '"%s"' if kind == "str" else "%r"
            args.append(["null" if v is None else plain % v for v in values])
        else:
            parts.append('"%s"' if kind == "str" else "%r")
            args.append(values)
    template = "{" + ",".join(parts[i] + parts[i + 1] for i in range(0, len(parts), 2)) + "}\n"
    return template, args


def _csv_column(values: tuple, kind: str) -> Sequence[str] | None:
    """The column's CSV cells, or None when a cell needs quoting (csv.writer then writes the rows)."""
    if kind == "bool":
        return ["true" if v else "false" for v in values]
    nones = values.count(None)
    if kind == "str":
        cells = ["" if v is None else v for v in values] if nones else values
        return cells if _csv_plain("".join(cells)) else None
    if not nones:
        return list(map(repr, values))
    if nones == len(values):
        return [""] * nones
    return ["" if v is None else repr(v) for v in values]


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


class TableWriter:
    """Writes rows (Row tuples or FoundReports) as CSV (header first, empty cells for absent
    values) or JSON lines to a text stream the caller owns, a batch at a time so a big log
    never sits in memory."""

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
        self.write_rows([found_row(found)])

    def write_all(self, founds: Iterable[FoundReport]) -> None:
        """Write every row of `founds` as it is read, a few thousand at a time (one call per row
        costs more than formatting it); rows read before the reader raises are still written."""
        self.write_batches(_row_batches(founds))

    def write_batches(self, batches: Iterable[Sequence[Row]]) -> None:
        """Write each batch of rows (what `iter_file_rows` yields) as it arrives."""
        for rows in batches:
            self.write_rows(rows)

    def write_rows(self, rows: Sequence[Row]) -> None:
        if not self._header_written:
            self._header()
        if not rows:
            return
        columns = list(zip(*rows))
        if self._csv is None:
            template, args = _json_template(columns)
            self._out.write("".join(map(template.__mod__, zip(*args))))
            return
        cells = list(map(_csv_column, columns, _COLUMN_KINDS))
        if None in cells:
            self._csv.writerows([[_csv_value(v) for v in r] for r in rows])
        else:
            self._out.write("\n".join(map(",".join, zip(*cells))) + "\n")

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
