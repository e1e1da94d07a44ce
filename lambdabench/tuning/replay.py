"""Recorded samples served as measurements, with no real time passing: how the tuner is evaluated.

Owns reading a sample file and drawing from it. Two inputs:
- a CSV with columns memory_mb,duration_ms and optionally billed_duration_ms, init_duration_ms,
  max_memory_used_mb, status, cold;
- a finished sweep's results.jsonl (the header line is skipped, as are event records and warm-up
  invokes; records carry the same field names).
An invocation at a size draws one row of that size (seeded); only sizes present can be measured.
Billed duration is the row's, else ceil(duration_ms) (1 ms billing).
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from lambdabench import limits
from lambdabench.errors import UsageError
from lambdabench.records import InvocationRecord, in_statistics
from lambdabench.tuning.samples import STATUSES, Sample

REQUIRED = ("memory_mb", "duration_ms")
OPTIONAL = ("billed_duration_ms", "init_duration_ms", "max_memory_used_mb", "status", "cold")
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def _bad(path: Path, line: int, what: str, fix: str) -> UsageError:
    return UsageError(f"{path}, line {line}: {what}", fix)


def _number(path: Path, line: int, key: str, raw: Any, *, integer: bool = False,
            required: bool = True) -> float | int | None:
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        if required:
            raise _bad(path, line, f"{key} is empty", f"give every row a {key}")
        return None
    if isinstance(raw, bool):
        raise _bad(path, line, f"{key} {raw!r} is not a number", f"write {key} as a number")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise _bad(path, line, f"{key} {raw!r} is not a number", f"write {key} as a number such as 12.5") from None
    if not math.isfinite(value) or value < 0:
        raise _bad(path, line, f"{key} {raw!r} is not a finite number >= 0", f"write {key} as a number >= 0")
    if integer:
        if value != int(value):
            raise _bad(path, line, f"{key} {raw!r} is not a whole number", f"write {key} in whole units")
        return int(value)
    return value


def _row_to_sample(path: Path, line: int, row: Mapping[str, Any]) -> Sample:
    memory = _number(path, line, "memory_mb", row.get("memory_mb"), integer=True)
    if not limits.is_valid_memory_mb(memory):
        raise _bad(path, line, f"memory_mb {memory} is outside Lambda's range",
                   f"use whole MB from {limits.MEMORY_MIN_MB} to {limits.MEMORY_MAX_MB}")
    status = row.get("status")
    status = "ok" if status is None or str(status).strip() == "" else str(status).strip()
    if status not in STATUSES:
        raise _bad(path, line, f"status {status!r} is not one of {', '.join(STATUSES)}",
                   "use the status names of results.jsonl")
    duration = _number(path, line, "duration_ms", row.get("duration_ms"), required=status == "ok")
    billed = _number(path, line, "billed_duration_ms", row.get("billed_duration_ms"), integer=True, required=False)
    if duration is None:
        duration = float(billed or 0)
    if billed is None:
        billed = int(math.ceil(duration))
    init = _number(path, line, "init_duration_ms", row.get("init_duration_ms"), required=False)
    peak = _number(path, line, "max_memory_used_mb", row.get("max_memory_used_mb"), integer=True, required=False)
    cold_raw = row.get("cold")
    cold: bool | None
    if cold_raw is None or (isinstance(cold_raw, str) and cold_raw.strip() == ""):
        cold = None
    elif isinstance(cold_raw, bool):
        cold = cold_raw
    elif str(cold_raw).strip().lower() in _TRUE:
        cold = True
    elif str(cold_raw).strip().lower() in _FALSE:
        cold = False
    else:
        raise _bad(path, line, f"cold {cold_raw!r} is not true or false", "write cold as true/false (or 1/0)")
    return Sample(int(memory), float(duration), int(billed), status, init, peak, cold)


def load_samples(path: Path | str) -> list[Sample]:
    """Every row of a CSV or results.jsonl as a Sample; bad input raises UsageError naming the line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"sample file {path} does not exist", "check the samples path (relative to the scenario)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read sample file {path}: {exc}", "give a UTF-8 CSV or a results.jsonl") from None
    if path.suffix == ".jsonl":
        return _load_jsonl(path, text)
    return _load_csv(path, text)


def _load_csv(path: Path, text: str) -> list[Sample]:
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [k for k in REQUIRED if k not in header]
    if missing:
        raise _bad(path, 1, f"header lacks {', '.join(missing)} (found: {', '.join(header) or 'nothing'})",
                   "the first line must name the columns, at least memory_mb,duration_ms")
    reader.fieldnames = header
    out = [_row_to_sample(path, i, row) for i, row in enumerate(reader, start=2)]
    if not out:
        raise _bad(path, 2, "no rows after the header", "add one row per recorded invocation")
    return out


def _load_jsonl(path: Path, text: str) -> list[Sample]:
    out = []
    for i, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            if i == len(text.splitlines()):
                continue  # a torn last line of a killed sweep, as results.py reads it
            raise _bad(path, i, f"not JSON ({exc.msg})", "give a results.jsonl written by lambdabench sweep") from None
        if not isinstance(record, dict):
            raise _bad(path, i, "not a JSON object", "give a results.jsonl written by lambdabench sweep")
        kind = record.get("type", "invocation")
        if kind != "invocation":
            continue
        try:
            counted = in_statistics(InvocationRecord.from_json(record))
        except (KeyError, TypeError, ValueError):
            raise _bad(path, i, "not an invocation record (no memory_mb/timeout_s)",
                       "give a results.jsonl written by lambdabench sweep") from None
        if not counted:  # the analysis's own rule: warm-ups, state mismatches, host-limited samples
            continue
        if record.get("status") == "throttled":
            continue  # no REPORT, no duration: a throttle says nothing about the size
        out.append(_row_to_sample(path, i, record))
    if not out:
        raise _bad(path, 1, "no invocation records", "give a results.jsonl of a sweep that measured something")
    return out


@dataclass
class ReplaySource:
    """Draws recorded samples per size; `measure` has the search's signature."""

    by_size: dict[int, list[Sample]]
    rng: np.random.Generator

    @classmethod
    def from_samples(cls, samples: Iterable[Sample], seed: int = 0, *, warm_only: bool = True) -> "ReplaySource":
        """`warm_only` drops samples known to be cold starts: the search measures warm invokes,
        and cold and warm are never mixed."""
        by: dict[int, list[Sample]] = {}
        for s in samples:
            if warm_only and s.cold is True:
                continue
            by.setdefault(s.memory_mb, []).append(s)
        return cls(by, np.random.default_rng(seed))

    @classmethod
    def from_file(cls, path: Path | str, seed: int = 0, *, warm_only: bool = True) -> "ReplaySource":
        return cls.from_samples(load_samples(path), seed, warm_only=warm_only)

    @property
    def sizes_mb(self) -> tuple[int, ...]:
        return tuple(sorted(self.by_size))

    def measure(self, memory_mb: int, n: int) -> Sequence[Sample]:
        rows = self.by_size.get(memory_mb)
        if rows is None:
            raise UsageError(f"no recorded samples at {memory_mb} MB",
                             f"sizes available: {', '.join(map(str, self.sizes_mb))}")
        idx = self.rng.integers(0, len(rows), size=n)
        return [rows[i] for i in idx]
