"""The results file of a sweep: `results.jsonl`, written record by record, read into pandas.

Line 1 is the header (`type` = "header"): format version, tool version, scenario, target,
region, emulator mechanisms, start time, original configuration, the plan. Every other line
is one record: `type` = "invocation" for a measured invocation, or "event" for something
that happened to the sweep (configuration applied, restore done, interrupted ...).
Each record is written and flushed (and fsynced) as it completes, so a killed sweep loses
nothing that finished; a torn last line (killed mid-write) is ignored on reading.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from lambdabench.errors import UsageError

FORMAT_VERSION = 1
RESULTS_FILE = "results.jsonl"

# Every invocation record carries at least these keys (None where a value does not apply).
INVOCATION_FIELDS: tuple[str, ...] = (
    "invocation_id",  # stable id of the planned invocation; --resume skips ids already present
    "memory_mb",
    "timeout_s",
    "architecture",
    "scenario",  # cold | warm | burst
    "wave",  # burst wave number (0-based); None for cold and warm
    "request_id",
    "status",  # ok | error | timeout | throttled | oom
    "cold",  # the REPORT had Init Duration (None when there was no REPORT, e.g. throttled)
    "warmup",  # a warm-up invoke: recorded, never in statistics
    "state_mismatch",  # cold/warm state differs from what the scenario wanted
    "duration_ms",
    "billed_duration_ms",
    "init_duration_ms",
    "max_memory_used_mb",
    "client_ms",  # client round trip of the Invoke call
    "cost_usd",  # from Billed Duration, request fee included; None without a REPORT
    "error_type",
    "started_at",  # ISO-8601 UTC with microseconds, when the Invoke call was sent
)

STATUSES = ("ok", "error", "timeout", "throttled", "oom")


def dump_line(record: dict[str, Any]) -> str:
    return json.dumps(record, separators=(",", ":"), sort_keys=False, default=str) + "\n"


class ResultsWriter:
    """Appends records to results.jsonl; each write is flushed and fsynced before returning.

    Opening an existing file (resume) keeps its header and appends after the last whole line.
    """

    def __init__(self, path: Path, header: dict[str, Any] | None = None):
        self.path = Path(path)
        existing = self.path.exists() and self.path.stat().st_size > 0
        if not existing and header is None:
            raise ValueError("a new results file needs a header")
        if existing:
            _truncate_torn_tail(self.path)
        self._file = open(self.path, "a", encoding="utf-8")
        if not existing:
            self._write({"type": "header", "format_version": FORMAT_VERSION, **header})

    def _write(self, record: dict[str, Any], *, sync: bool = True) -> None:
        self._file.write(dump_line(record))
        self._file.flush()
        if sync:
            os.fsync(self._file.fileno())

    def write_invocation(self, record: dict[str, Any], *, sync: bool = True) -> None:
        """`sync=False` (burst records): flushed to the OS, which a killed process cannot lose; the
        caller fsyncs once per wave with `sync()` (only a machine crash could lose that wave)."""
        missing = [k for k in INVOCATION_FIELDS if k not in record]
        if missing:
            raise ValueError(f"invocation record lacks {missing}")
        self._write({"type": "invocation", **record}, sync=sync)

    def sync(self) -> None:
        if not self._file.closed:
            os.fsync(self._file.fileno())

    def write_event(self, event: str, **fields: Any) -> None:
        self._write({"type": "event", "event": event, **fields})

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def __enter__(self) -> "ResultsWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _truncate_torn_tail(path: Path) -> None:
    """Drop a last line that was cut off mid-write so appends start on a fresh line."""
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        keep = data.rfind(b"\n") + 1
        with open(path, "r+b") as f:
            f.truncate(keep)


@dataclass(frozen=True)
class Results:
    """A results file read back: its header, invocations as a DataFrame, and events."""

    path: Path
    header: dict[str, Any]
    invocations: pd.DataFrame
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def completed_ids(self) -> set[str]:
        if self.invocations.empty:
            return set()
        return set(self.invocations["invocation_id"].dropna())


def results_path(path: Path | str) -> Path:
    p = Path(path)
    return p / RESULTS_FILE if p.is_dir() else p


def read_results(path: Path | str) -> Results:
    """Read a results file (or the folder holding one). Raises UsageError on a bad file."""
    file = results_path(path)
    if not file.exists():
        raise UsageError(
            f"{file}: no results file here",
            "pass the output folder of a sweep (it holds results.jsonl)",
        )
    header: dict[str, Any] | None = None
    rows: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    lines = file.read_text(encoding="utf-8").split("\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines) or (number == len(lines) - 1 and lines[-1] == ""):
                continue  # a torn last line from a killed sweep: everything before it stands
            raise UsageError(
                f"{file}:{number}: not a JSON record",
                "the results file was edited or damaged; restore it from a copy",
            ) from None
        kind = record.get("type") if isinstance(record, dict) else None
        if kind == "header":
            header = record
        elif kind == "invocation":
            rows.append(record)
        elif kind == "event":
            events.append(record)
    if header is None:
        raise UsageError(f"{file}: no header line", "this is not a lambdabench results file")
    if header.get("format_version") != FORMAT_VERSION:
        raise UsageError(
            f"{file}: format_version {header.get('format_version')!r} is not {FORMAT_VERSION}",
            "re-run the sweep with this version of lambdabench",
        )
    frame = pd.DataFrame(rows, columns=_columns(rows))
    return Results(path=file, header=header, invocations=frame, events=events)


def _columns(rows: Iterable[dict[str, Any]]) -> list[str]:
    columns = ["type", *INVOCATION_FIELDS]
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    return columns
