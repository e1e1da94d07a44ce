"""The REPORT reader a careful user writes in an afternoon: the honest baseline for parse_bench.py.

A substring prefilter, then one regex per text REPORT line (Lambda's field order, any
whitespace), JSON `platform.report` records parsed with `json`, the `aws logs tail` prefix
split by one more regex. As a script it prints what `lambdabench parse FILE --format jsonl|csv`
prints, so the two can be timed end to end on the same file:

    python bench/simple_reader.py FILE [--format jsonl|csv] > out
"""

from __future__ import annotations

import csv
import json
import re
import sys

TEXT = re.compile(
    r"REPORT RequestId: (\S+)\s+Duration: (\d+(?:\.\d+)?) ms\s+Billed Duration: (\d+) ms\s+"
    r"Memory Size: (\d+) MB\s+Max Memory Used: (\d+) MB"
    r"(?:\s+Init Duration: (\d+(?:\.\d+)?) ms)?(?:\s+Restore Duration: (\d+(?:\.\d+)?) ms)?"
    r"(?:\s+Billed Restore Duration: (\d+) ms)?(?:\s+Status: (\w+))?(?:\s+Error Type: (\S+))?")
PREFIX = re.compile(r"(\S+) (\d{4}/\d\d/\d\d/\S+) ")
FIELDS = ("source", "line", "timestamp", "log_stream", "request_id", "duration_ms", "billed_duration_ms",
          "memory_size_mb", "max_memory_used_mb", "init_duration_ms", "restore_duration_ms",
          "billed_restore_duration_ms", "status", "error_type", "cold")


def _opt_float(text):
    return float(text) if text is not None else None


def _opt_int(text):
    return int(text) if text is not None else None


def records(path: str):
    """(line number, timestamp, log stream, request_id, duration_ms, billed_duration_ms,
    memory_size_mb, max_memory_used_mb, init_duration_ms, restore_duration_ms,
    billed_restore_duration_ms, status, error_type) per REPORT record."""
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if "REPORT RequestId:" in line:
                m = TEXT.search(line)
                if m is None:
                    continue
                rid, dur, billed, mem, used, init, restore, brestore, status, etype = m.groups()
                p = PREFIX.match(line)
                yield (number, p and p.group(1), p and p.group(2), rid, float(dur), int(billed), int(mem), int(used),
                       _opt_float(init), _opt_float(restore), _opt_int(brestore), status or "success", etype)
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
                p = PREFIX.match(line) if brace else None
                yield (number, p.group(1) if p else obj.get("time"), p and p.group(2), rec["requestId"],
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
