"""Bulk REPORT parsing speed: `lambdabench parse`'s reader against a naive baseline, same file, same run.

Generates a seeded 1M-line CloudWatch log as `aws logs tail` prints it (about a quarter REPORT
lines, some cold starts with INIT_START, timeouts and errors, one function in five using the JSON
log format with application JSON lines), then times, median of N runs each:

- reader:   lambdabench.logfiles.iter_file_reports (what `lambdabench parse` runs), and
- baseline: per line, one regex search per field (text fields, else JSON fields), no prefilter.

Both must give identical Reports at identical line numbers, or the benchmark fails.
Run: .venv/bin/python bench/parse_bench.py [--lines 1000000] [--runs 3] [--seed 42]
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from lambdabench.logfiles import ReadStats, iter_file_reports
from lambdabench.logs import (
    Report,
    format_end,
    format_init_start,
    format_platform_record,
    format_platform_report,
    format_platform_start,
    format_report,
    format_start,
)

MEMORY_SIZES = (128, 256, 512, 1024, 1769, 3008)


def generate(path: Path, lines: int, seed: int) -> int:
    """Write about `lines` lines; return how many REPORT records were written."""
    rnd = random.Random(seed)
    t = datetime(2025, 11, 13, 12, 0, 0, tzinfo=timezone.utc)
    streams = {}
    written = reports = 0
    with open(path, "w", encoding="utf-8") as f:
        while written < lines:
            memory = rnd.choice(MEMORY_SIZES)
            json_format = rnd.random() < 0.2
            cold = rnd.random() < 0.08
            if cold or memory not in streams:
                streams[memory] = f"2025/11/13/[$LATEST]{uuid.UUID(int=rnd.getrandbits(128)).hex}"
            stream = streams[memory]
            rid = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
            duration = round(rnd.lognormvariate(4.0, 0.8) * 128 / min(memory, 1769) * 4, 2)
            init = round(rnd.uniform(70, 900), 2) if cold else None
            status, error = "success", None
            roll = rnd.random()
            if roll < 0.01:
                status = "timeout"
            elif roll < 0.02:
                status, error = "error", rnd.choice(["Runtime.OutOfMemory", "Runtime.ExitError"])
            billed = int(-(-(duration + (init or 0)) // 1))
            report = Report(rid, duration, billed, memory, rnd.randint(40, min(memory, 400)), init,
                            status=status, error_type=error)

            def emit(message: str) -> None:
                nonlocal written, t
                t += timedelta(microseconds=rnd.randint(100, 50_000))
                f.write(f"{t.strftime('%Y-%m-%dT%H:%M:%S.%f')}+00:00 {stream} {message}\n")
                written += 1

            if json_format:
                if cold:
                    emit(format_platform_record("platform.initStart", t, {
                        "initializationType": "on-demand", "phase": "init",
                        "runtimeVersion": "python:3.12.v16",
                        "runtimeVersionArn": "arn:aws:lambda:us-east-1::runtime:ab"}))
                emit(format_platform_start(rid, "$LATEST", t))
                emit('{"timestamp":"%s","level":"INFO","message":"handled %d items","requestId":"%s"}'
                     % (t.isoformat(), rnd.randint(1, 99), rid))
                emit(format_platform_record("platform.runtimeDone", t, {
                    "requestId": rid, "status": status, "metrics": {"durationMs": duration, "producedBytes": 42}}))
                emit(format_platform_report(report, t))
            else:
                if cold:
                    emit(format_init_start("python:3.12.v16", "arn:aws:lambda:us-east-1::runtime:ab"))
                emit(format_start(rid))
                emit(f"[INFO]\t{t.isoformat()}Z\t{rid}\thandled {rnd.randint(1, 99)} items")
                emit(format_end(rid))
                emit(format_report(report))
            reports += 1
    return reports


# --- the naive baseline: one regex search per field, on every line -----------------------------

TEXT_FIELDS = {
    "request_id": re.compile(r"REPORT RequestId:\s*(\S+)"),
    "duration_ms": re.compile(r"(?<!Billed )(?<!Init )(?<!Restore )Duration:\s*(\d+(?:\.\d+)?)\s*ms"),
    "billed_duration_ms": re.compile(r"Billed Duration:\s*(\d+)\s*ms"),
    "memory_size_mb": re.compile(r"Memory Size:\s*(\d+)\s*MB"),
    "max_memory_used_mb": re.compile(r"Max Memory Used:\s*(\d+)\s*MB"),
    "init_duration_ms": re.compile(r"Init Duration:\s*(\d+(?:\.\d+)?)\s*ms"),
    "restore_duration_ms": re.compile(r"(?<!Billed )Restore Duration:\s*(\d+(?:\.\d+)?)\s*ms"),
    "billed_restore_duration_ms": re.compile(r"Billed Restore Duration:\s*(\d+)\s*ms"),
    "status": re.compile(r"Status:\s*(\w+)"),
    "error_type": re.compile(r"Error Type:\s*(\S+)"),
}
JSON_FIELDS = {
    "request_id": re.compile(r'"type":"platform\.report".*"requestId":"([^"]+)"'),
    "duration_ms": re.compile(r'"durationMs":(\d+(?:\.\d+)?)'),
    "billed_duration_ms": re.compile(r'"billedDurationMs":(\d+)'),
    "memory_size_mb": re.compile(r'"memorySizeMB":(\d+)'),
    "max_memory_used_mb": re.compile(r'"maxMemoryUsedMB":(\d+)'),
    "init_duration_ms": re.compile(r'"initDurationMs":(\d+(?:\.\d+)?)'),
    "restore_duration_ms": re.compile(r'"restoreDurationMs":(\d+(?:\.\d+)?)'),
    "billed_restore_duration_ms": re.compile(r'"billedRestoreDurationMs":(\d+)'),
    "status": re.compile(r'"status":"(\w+)"'),
    "error_type": re.compile(r'"errorType":"([^"]+)"'),
}
FLOATS = {"duration_ms", "init_duration_ms", "restore_duration_ms"}


def naive(path: Path) -> list[tuple[int, Report]]:
    out = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            for fields in (TEXT_FIELDS, JSON_FIELDS):
                values = {}
                for name, pattern in fields.items():
                    m = pattern.search(line)
                    if m is not None:
                        values[name] = float(m.group(1)) if name in FLOATS else (
                            m.group(1) if name in ("request_id", "status", "error_type") else int(m.group(1)))
                if "request_id" in values and "duration_ms" in values:
                    values.setdefault("status", "success")
                    out.append((number, Report(**values)))
                    break
    return out


def reader(path: Path) -> list[tuple[int, Report]]:
    stats = ReadStats(str(path))
    return [(found.line, found.report) for found in iter_file_reports(path, stats)]


def timed(fn, path: Path) -> tuple[float, float, list]:
    """(wall s, CPU s, result) of one run. CPU time is reported too because this machine is
    shared: waiting for a core inflates wall time but not the work done."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn(path)
    return time.perf_counter() - wall, time.process_time() - cpu, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cloudwatch.log"
        t0 = time.perf_counter()
        expected_reports = generate(path, args.lines, args.seed)
        total_lines = sum(1 for _ in open(path, encoding="utf-8"))
        print(f"generated {total_lines:,} lines ({path.stat().st_size / 1e6:.1f} MB), {expected_reports:,} REPORT "
              f"({expected_reports / total_lines:.1%}) in {time.perf_counter() - t0:.1f} s; seed {args.seed}",
              file=sys.stderr)
        # Interleave so drift on a shared machine hits both sides alike.
        times: dict[str, dict[str, list[float]]] = {"reader": {"wall": [], "cpu": []},
                                                    "baseline": {"wall": [], "cpu": []}}
        fast = base = None
        for _ in range(args.runs):
            wall, cpu, fast = timed(reader, path)
            times["reader"]["wall"].append(wall)
            times["reader"]["cpu"].append(cpu)
            wall, cpu, base = timed(naive, path)
            times["baseline"]["wall"].append(wall)
            times["baseline"]["cpu"].append(cpu)
        if fast != base:
            if len(fast) == len(base):
                diff = next((a, b) for a, b in zip(fast, base) if a != b)
            else:
                diff = (len(fast), len(base))
            print(f"MISMATCH between reader and baseline: {diff}", file=sys.stderr)
            return 1
        if len(fast) != expected_reports:
            print(f"MISMATCH: {len(fast)} reports read, {expected_reports} written", file=sys.stderr)
            return 1
    print(f"identical results: {len(fast):,} REPORT records from {total_lines:,} lines; median of {args.runs} runs")
    print(f"{'':10}{'clock':>6}{'median':>10}{'min':>10}{'max':>10}{'lines/s (median)':>20}")
    for name in ("reader", "baseline"):
        for clock in ("wall", "cpu"):
            values = times[name][clock]
            med = statistics.median(values)
            print(f"{name:10}{clock:>6}{med:>9.2f}s{min(values):>9.2f}s{max(values):>9.2f}s{total_lines / med:>20,.0f}")
    for clock in ("wall", "cpu"):
        f, b = times["reader"][clock], times["baseline"][clock]
        print(f"{clock:>4}: reader is {statistics.median(b) / statistics.median(f):.2f}x the baseline's speed "
              f"(worst pairing {min(b) / max(f):.2f}x, best {max(b) / min(f):.2f}x; goal >= 5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
