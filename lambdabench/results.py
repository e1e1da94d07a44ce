"""The results file of a sweep: `results.jsonl`, written record by record, read into pandas.

Line 1 is the header (`type` = "header"): format version, tool version, scenario, target,
region, emulator mechanisms, start time, original configuration, the plan. Every other line
is one record: `type` = "invocation" for a measured invocation, or "event" for something
that happened to the sweep (configuration applied, a hook failed, restore done, interrupted ...).
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
from lambdabench.records import (
    FIELDS,
    FORMAT_VERSION,
    READABLE_VERSIONS,
    STATUSES,
    InvocationRecord,
    in_statistics,
    migrate,
)

__all__ = ["FORMAT_VERSION", "STATUSES", "INVOCATION_FIELDS", "RESULTS_FILE", "Results", "ResultsWriter",
           "dump_line", "read_results", "results_path", "write_results_file"]

RESULTS_FILE = "results.jsonl"

# The keys of an invocation line after "type", in file order (the schema lives in lambdabench.records).
INVOCATION_FIELDS: tuple[str, ...] = FIELDS
# The column of `Results.invocations` saying whether a record enters statistics (derived, not in the file).
IN_STATISTICS = "in_statistics"


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

    def write_invocation(self, record: InvocationRecord, *, sync: bool = True) -> None:
        """`sync=False` (burst records): flushed to the OS, which a killed process cannot lose; the
        caller fsyncs once per wave with `sync()` (only a machine crash could lose that wave)."""
        self._write({"type": "invocation", **record.to_json()}, sync=sync)

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
    """A results file read back: its header, its invocation records (also as a DataFrame), and events."""

    path: Path
    header: dict[str, Any]
    invocations: pd.DataFrame
    events: list[dict[str, Any]] = field(default_factory=list)
    records: tuple[InvocationRecord, ...] = ()
    # "invocation" | "event" per line after the header, so the file can be written back as it was.
    layout: tuple[str, ...] = field(default=(), repr=False)

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
    numbers: list[int] = []
    events: list[dict[str, Any]] = []
    layout: list[str] = []
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
            numbers.append(number)
            layout.append(kind)
        elif kind == "event":
            events.append(record)
            layout.append(kind)
    if header is None:
        raise UsageError(f"{file}: no header line", "this is not a lambdabench results file")
    version = header.get("format_version")
    if version not in READABLE_VERSIONS:
        raise UsageError(
            f"{file}: format_version {version!r} is not one this lambdabench reads "
            f"({', '.join(map(str, READABLE_VERSIONS))})",
            "re-run the sweep with this version of lambdabench",
        )
    try:
        records = tuple(migrate(version, header, rows))
    except (KeyError, TypeError, ValueError):
        number = next(n for row, n in zip(rows, numbers) if not _readable(row))
        raise UsageError(
            f"{file}:{number}: invocation record without a readable memory_mb/timeout_s",
            "the results file was edited or damaged; restore it from a copy",
        ) from None
    return Results(path=file, header=header, invocations=invocations_frame(records), events=events,
                   records=records, layout=tuple(layout))


def invocations_frame(records: Iterable[InvocationRecord]) -> pd.DataFrame:
    """One row per record, its fields as columns, plus IN_STATISTICS (`records.in_statistics`)."""
    rows = [{"type": "invocation", **r.to_json(), IN_STATISTICS: in_statistics(r)} for r in records]
    return pd.DataFrame(rows, columns=["type", *FIELDS, IN_STATISTICS])


def _readable(row: dict[str, Any]) -> bool:
    try:
        InvocationRecord.from_json(row)
    except (KeyError, TypeError, ValueError):
        return False
    return True


def write_results_file(path: Path | str, results: Results) -> Path:
    """Write `results` as a results.jsonl of this format (header, then records and events in their order).

    A file of this format is written back byte for byte; an older one comes out migrated.
    """
    records = iter(results.records)
    events = iter(results.events)
    lines = [dump_line({**results.header, "format_version": FORMAT_VERSION})]
    for kind in results.layout:
        if kind == "invocation":
            lines.append(dump_line({"type": "invocation", **next(records).to_json()}))
        else:
            lines.append(dump_line(next(events)))
    target = Path(path)
    target.write_text("".join(lines), encoding="utf-8")
    return target
