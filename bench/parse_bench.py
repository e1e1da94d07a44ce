"""Bulk REPORT parsing speed: `lambdabench parse` against two baselines, same files, same run.

In memory, on a seeded 1M-line CloudWatch log as `aws logs tail` prints it (about a quarter REPORT
lines, some cold starts with INIT_START, timeouts and errors, one function in five using the JSON
log format with application JSON lines), median of N interleaved runs each:

- lambdabench: lambdabench.logfiles.iter_file_reports (what `lambdabench parse` runs);
- simple:      bench/simple_reader.py, what a careful user writes (substring prefilter, one regex
               per REPORT line, `json` for platform.report), building the same Reports;
- naive:       per line, one regex search per field (text fields, else JSON fields), no prefilter.

All three must give identical Reports at identical line numbers, or the benchmark fails.

End to end, on a log of the same size built from the real corpus lines
(../shared/data/report_corpus.jsonl, every request id fresh): `lambdabench parse FILE --format
jsonl` and `--format csv` against `python bench/simple_reader.py FILE --format ...`, each a
process of its own writing to a file; rows that differ between the two are counted and shown.

Run: .venv/bin/python bench/parse_bench.py [--lines 1000000] [--runs 3] [--seed 42]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import statistics
import subprocess
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
import simple_reader  # noqa: E402  (the baseline lives beside this file, importable and runnable)

MEMORY_SIZES = (128, 256, 512, 1024, 1769, 3008)
REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "data" / "report_corpus.jsonl"


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


def simple(path: Path) -> list[tuple[int, Report]]:
    return [(r[0], Report(*r[3:])) for r in simple_reader.records(str(path))]


def reader(path: Path) -> list[tuple[int, Report]]:
    stats = ReadStats(str(path))
    return [(found.line, found.report) for found in iter_file_reports(path, stats)]


def timed(fn, path: Path) -> tuple[float, float, list]:
    """(wall s, CPU s, result) of one run. CPU time is reported too because this machine is
    shared: waiting for a core inflates wall time but not the work done."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn(path)
    return time.perf_counter() - wall, time.process_time() - cpu, result


def corpus_log(path: Path, lines: int, seed: int) -> int:
    """Write `lines` lines cycling through the corpus's real lines (each physical line of each
    entry), every request id replaced by a fresh one; return the lines written."""
    rnd = random.Random(seed)
    entries = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    templates = []
    for entry in entries:
        rid = (entry.get("expected") or {}).get("request_id")
        for physical in entry["line"].split("\n"):
            if physical.strip():
                templates.append((physical, rid if rid and rid in physical else None))
    written = 0
    with open(path, "w", encoding="utf-8") as f:
        while written < lines:
            for physical, rid in templates:
                if rid is not None:
                    physical = physical.replace(rid, str(uuid.UUID(int=rnd.getrandbits(128), version=4)))
                f.write(physical + "\n")
                written += 1
                if written == lines:
                    break
    return written


def run_process(argv: list[str], out_path: Path) -> tuple[float, float]:
    """(wall s, CPU s of the child) of one command writing its stdout to `out_path`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    with open(out_path, "wb") as out:
        # Run from the output folder, so `-m lambdabench` imports the installed (or PYTHONPATH) copy.
        subprocess.run(argv, stdout=out, stderr=subprocess.DEVNULL, check=True, cwd=out_path.parent)
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def rows_by_line(path: Path, fmt: str) -> dict[int, str]:
    """Output rows keyed by the input line they came from (the `line` column)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    if fmt == "jsonl":
        return {json.loads(text)["line"]: text for text in lines}
    return {int(text.split(",", 2)[1]): text for text in lines[1:]}


def print_table(title: str, unit_count: int, unit: str, times: dict[str, dict[str, list[float]]],
                baseline: str) -> None:
    print(title)
    print(f"{'':24}{'clock':>6}{'median':>10}{'min':>10}{'max':>10}{unit + '/s (median)':>22}{'vs ' + baseline:>14}")
    for name, clocks in times.items():
        for clock in ("wall", "cpu"):
            values = clocks[clock]
            med = statistics.median(values)
            ratio = statistics.median(times[baseline][clock]) / med
            print(f"{name:24}{clock:>6}{med:>9.2f}s{min(values):>9.2f}s{max(values):>9.2f}s"
                  f"{unit_count / med:>22,.0f}{ratio:>13.2f}x")


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
        readers = {"lambdabench": reader, "simple": simple, "naive": naive}
        times = {name: {"wall": [], "cpu": []} for name in readers}
        results = {}
        # Interleave so drift on a shared machine hits every reader alike.
        for _ in range(args.runs):
            for name, fn in readers.items():
                wall, cpu, results[name] = timed(fn, path)
                times[name]["wall"].append(wall)
                times[name]["cpu"].append(cpu)
        for name in ("simple", "naive"):
            fast, base = results["lambdabench"], results[name]
            if fast != base:
                diff = next(((a, b) for a, b in zip(fast, base) if a != b), (len(fast), len(base)))
                print(f"MISMATCH between lambdabench and {name}: {diff}", file=sys.stderr)
                return 1
        if len(results["lambdabench"]) != expected_reports:
            print(f"MISMATCH: {len(results['lambdabench']):,} reports read, {expected_reports:,} written",
                  file=sys.stderr)
            return 1
        print(f"in memory: identical results from all three readers, {expected_reports:,} REPORT records "
              f"from {total_lines:,} lines; median of {args.runs} interleaved runs")
        print_table("", total_lines, "lines", times, "simple")

        corpus = Path(tmp) / "corpus.log"
        corpus_lines = corpus_log(corpus, args.lines, args.seed)
        commands = {}
        for fmt in ("jsonl", "csv"):
            commands[f"lambdabench parse {fmt}"] = (
                [sys.executable, "-m", "lambdabench", "parse", str(corpus), "--format", fmt], fmt)
            commands[f"simple script {fmt}"] = (
                [sys.executable, str(Path(__file__).resolve().parent / "simple_reader.py"), str(corpus),
                 "--format", fmt], fmt)
        e2e = {name: {"wall": [], "cpu": []} for name in commands}
        outputs = {name: Path(tmp) / f"{name.replace(' ', '_')}.out" for name in commands}
        for _ in range(args.runs):
            for name, (argv, _fmt) in commands.items():
                wall, cpu = run_process(argv, outputs[name])
                e2e[name]["wall"].append(wall)
                e2e[name]["cpu"].append(cpu)
        print()
        print(f"end to end: {corpus_lines:,} lines built from {CORPUS.name} (fresh request ids), "
              f"{corpus.stat().st_size / 1e6:.1f} MB; one process per run, median of {args.runs} interleaved runs")
        for fmt in ("jsonl", "csv"):
            ours = rows_by_line(outputs[f"lambdabench parse {fmt}"], fmt)
            theirs = rows_by_line(outputs[f"simple script {fmt}"], fmt)
            same = sum(1 for n, text in ours.items() if theirs.get(n) == text)
            differ = [n for n in ours if n in theirs and theirs[n] != ours[n]]
            print(f"  {fmt}: {len(ours):,} rows from lambdabench, {len(theirs):,} from the simple script; "
                  f"{same:,} identical, {len(differ):,} differ, {len(ours.keys() - theirs.keys()):,} only lambdabench's, "
                  f"{len(theirs.keys() - ours.keys()):,} only the script's")
            if differ:
                print(f"    e.g. lambdabench: {ours[differ[0]][:240]}\n         simple:      {theirs[differ[0]][:240]}")
            pair = {k: e2e[k] for k in (f"lambdabench parse {fmt}", f"simple script {fmt}")}
            print_table("", corpus_lines, "lines", pair, f"simple script {fmt}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
