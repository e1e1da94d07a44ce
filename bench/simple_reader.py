"""The REPORT reader a careful user writes in an afternoon: the honest baseline for parse_bench.py.

A substring prefilter; for a text REPORT line a regex for the request id and a findall of its
"Name: value" pairs (any order, any whitespace); JSON `platform.report` records parsed with
`json`; the tool prefix (`aws logs tail`, `sam logs`, a console copy) split by one more regex. As a script it prints what `lambdabench parse FILE --format jsonl|csv`
prints, so the two can be timed end to end on the same file:

    python bench/simple_reader.py FILE [--format jsonl|csv] > out
"""

from __future__ import annotations

import csv
import json
import re
import sys

REQUEST_ID = re.compile(r"REPORT RequestId:\s*(\S+)")
# Every "Name: value" pair after the request id, in any order: real lines put Init Duration
# first or drop a separator ("400 msMemory Size"), and Lambda Managed Instances write Duration only.
NUMBERS = re.compile(r"(Billed Restore Duration|Restore Duration|Billed Duration|Init Duration|Max Memory Used"
                     r"|Memory Size|Duration):\s*(\d+(?:\.\d+)?)")
WORDS = re.compile(r"(Status|Error Type):\s*(\S+)")
# Tool prefixes: `aws logs tail` (time, stream), `sam logs` (stream, time), a console copy (time).
TIME, STREAM = r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d\S*", r"\d{4}/\d\d/\d\d/\S+"
PREFIX = re.compile(rf"(?:({TIME})\s+({STREAM})|({STREAM})\s+({TIME})|({TIME}))\s")
FIELDS = ("source", "line", "timestamp", "log_stream", "request_id", "duration_ms", "billed_duration_ms",
          "memory_size_mb", "max_memory_used_mb", "init_duration_ms", "restore_duration_ms",
          "billed_restore_duration_ms", "status", "error_type", "cold")


def _opt_float(text):
    return float(text) if text is not None else None


def _opt_int(text):
    return int(text) if text is not None else None


def _prefix(line):
    p = PREFIX.match(line)
    if p is None:
        return None, None
    ts1, stream1, stream2, ts2, ts3 = p.groups()
    return ts1 or ts2 or ts3, stream1 or stream2


def records(path: str):
    """(line number, timestamp, log stream, request_id, duration_ms, billed_duration_ms,
    memory_size_mb, max_memory_used_mb, init_duration_ms, restore_duration_ms,
    billed_restore_duration_ms, status, error_type) per REPORT record."""
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if "REPORT RequestId:" in line:
                m = REQUEST_ID.search(line)
                rest = line[m.end():]
                values = dict(NUMBERS.findall(rest))
                if "Duration" not in values:
                    continue
                words = dict(WORDS.findall(rest))
                ts, stream = _prefix(line)
                yield (number, ts, stream, m.group(1), float(values["Duration"]),
                       _opt_int(values.get("Billed Duration")), _opt_int(values.get("Memory Size")),
                       _opt_int(values.get("Max Memory Used")), _opt_float(values.get("Init Duration")),
                       _opt_float(values.get("Restore Duration")), _opt_int(values.get("Billed Restore Duration")),
                       words.get("Status", "success"), words.get("Error Type"))
            elif "platform.report" in line:
                brace = line.find("{")
                try:
                    obj = json.loads(line[brace:])
                except ValueError:
                    continue
                if obj.get("type") != "platform.report":
                    continue
                rec = obj["record"]
                mt = rec["metrics"]
                ts, stream = _prefix(line) if brace else (None, None)
                yield (number, ts or obj.get("time"), stream, rec["requestId"],
                       float(mt["durationMs"]), mt.get("billedDurationMs"), mt.get("memorySizeMB"),
                       mt.get("maxMemoryUsedMB"), _opt_float(mt.get("initDurationMs")),
                       _opt_float(mt.get("restoreDurationMs")), mt.get("billedRestoreDurationMs"),
                       rec.get("status") or "success", rec.get("errorType"))


def main(argv: list[str]) -> int:
    path = argv[0]
    fmt = argv[argv.index("--format") + 1] if "--format" in argv else "csv"
    out = sys.stdout
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(FIELDS)
    for r in records(path):
        cold = r[8] is not None or r[9] is not None
        row = (path, r[0], *r[1:], cold)
        if fmt == "jsonl":
            out.write(json.dumps(dict(zip(FIELDS, row)), separators=(",", ":")) + "\n")
        else:
            writer.writerow(["" if v is None else ("true" if v else "false") if isinstance(v, bool) else v
                             for v in row])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
