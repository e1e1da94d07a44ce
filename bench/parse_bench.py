"""Bulk REPORT parsing speed: `lambdabench parse` against two baselines, same files, same run.

Two 1M-line logs: a seeded CloudWatch log as `aws logs tail` prints it (about a quarter REPORT
lines, cold starts with INIT_START, timeouts and errors, one function in five using the JSON log
format with application JSON lines), and a log cycling through the real corpus lines
(../shared/data/report_corpus.jsonl: every variant seen in the wild, request ids made fresh).
Three readers on each:

- lambdabench: lambdabench.logfiles.iter_file_rows (what `lambdabench parse` runs; rows as plain
               tuples), and iter_file_reports (the same records as Report objects) beside it;
- simple:      bench/simple_reader.py, what a careful user writes (substring prefilter, a regex
               and a findall per REPORT line, `json` for platform.report, one regex for the prefix);
- naive:       the old baseline: per line, one regex search per field, no prefilter.

Beside them, in memory, the regex floor (`regex_floor`): only the calls into `re` and `str` that a
reader built on lambdabench's record patterns cannot avoid (read the blocks, find each mark and its
line start, one canonical match and its groups()), producing nothing. It is printed as a share of
half the simple reader's time, the most a reader twice as fast may spend on everything.

In memory, medians of N interleaved runs (CPU speed drifts on a shared machine). lambdabench and
simple must give identical rows (line, timestamp, log stream and every field), naive the same
records at the same lines, or the benchmark fails. End to end, each reader is a process writing
JSONL or CSV to a file: `lambdabench parse FILE --format F`, `python bench/simple_reader.py FILE
--format F`, `python bench/parse_bench.py --naive FILE --format F`; lambdabench's and the simple
script's outputs must be byte-identical (naive reads no timestamps, so only its row count is shown).

The child processes run with Python's bytecode cache, as an installed tool does (this machine sets
PYTHONDONTWRITEBYTECODE, which would make every `lambdabench parse` recompile its modules, about
30 ms of CPU a run here that a user never pays, while the simple script's stdlib imports are compiled
already); one untimed run of each command comes first, so the cache is written before the timed runs.

Run: .venv/bin/python bench/parse_bench.py [--lines 1000000] [--runs 3] [--seed 42] [--skip-naive]
"""

from __future__ import annotations

import argparse
import json
import os
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

from lambdabench.logfiles import ReadStats, TableWriter, iter_file_reports, iter_file_rows, text_blocks
from lambdabench.logs import (
    PREFIXED_CANONICAL_REPORT,
    PREFIXED_PLATFORM_REPORT,
    REPORT_MARK,
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


def naive_rows(path: Path) -> list[tuple]:
    """The naive reader's records as rows (no timestamp or log stream: it reads none)."""
    return [(str(path), number, None, None, r.request_id, r.duration_ms, r.billed_duration_ms, r.memory_size_mb,
             r.max_memory_used_mb, r.init_duration_ms, r.restore_duration_ms, r.billed_restore_duration_ms,
             r.status, r.error_type, r.cold) for number, r in naive(path)]


def simple(path: Path) -> list[tuple]:
    """The simple reader's records as rows (what its script prints)."""
    source = str(path)
    return [(source, *r, r[8] is not None or r[9] is not None) for r in simple_reader.records(source)]


def lambdabench_rows(path: Path) -> list[tuple]:
    return [row for rows in iter_file_rows(path, ReadStats(str(path))) for row in rows]


def lambdabench_reports(path: Path) -> list[tuple[int, Report]]:
    return [(found.line, found.report) for found in iter_file_reports(path, ReadStats(str(path)))]


def regex_floor(path: Path) -> list[int]:
    """Not a reader: the calls into `re` and `str` a reader built on lambdabench's record patterns
    makes per record whatever else it does (find each mark, its line start, the one canonical
    match, groups()), on the same blocks, with no line numbers, conversions or rows. Returns the
    canonical (text, JSON) matches found."""
    found = [0, 0]
    with open(path, encoding="utf-8") as f:
        for block in text_blocks(f):
            find, rfind = block.find, block.rfind
            for kind, (mark_text, match) in enumerate(((REPORT_MARK, PREFIXED_CANONICAL_REPORT.match),
                                                       ("platform.report", PREFIXED_PLATFORM_REPORT.match))):
                mark = find(mark_text)
                while mark >= 0:
                    m = match(block, rfind("\n", 0, mark) + 1)
                    if m is not None:
                        m.groups()
                        found[kind] += 1
                    mark = find(mark_text, mark + len(mark_text))
    return found


def by_line(rows: list[tuple]) -> list[tuple[int, Report]]:
    return [(r[1], Report(*r[4:14])) for r in rows]


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


def child_environment() -> dict[str, str]:
    """This process's environment with the bytecode cache allowed (see the module docstring)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_process(argv: list[str], out_path: Path) -> tuple[float, float]:
    """(wall s, CPU s of the child) of one command writing its stdout to `out_path`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    with open(out_path, "wb") as out:
        # Run from the output folder, so `-m lambdabench` imports the installed (or PYTHONPATH) copy.
        subprocess.run(argv, stdout=out, stderr=subprocess.DEVNULL, check=True, cwd=out_path.parent,
                       env=child_environment())
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def print_table(title: str, unit_count: int, times: dict[str, dict[str, list[float]]],
                baselines: tuple[str, ...]) -> None:
    print(title)
    print(f"{'':28}{'clock':>6}{'median':>9}{'min':>9}{'max':>9}{'lines/s':>12}"
          + "".join(f"{'vs ' + b.split()[0]:>12}" for b in baselines))
    for name, clocks in times.items():
        for clock in ("wall", "cpu"):
            values = clocks[clock]
            med = statistics.median(values)
            ratios = "".join(f"{statistics.median(times[b][clock]) / med:>11.2f}x" for b in baselines)
            print(f"{name:28}{clock:>6}{med:>8.2f}s{min(values):>8.2f}s{max(values):>8.2f}s"
                  f"{unit_count / med:>12,.0f}{ratios}")


def baselines(times: dict[str, dict[str, list[float]]]) -> tuple[str, ...]:
    """The readers timed in `times` that lambdabench is compared with (every one not its own)."""
    return tuple(name for name in times if not name.startswith("lambdabench"))


def in_memory(path: Path, runs: int, with_naive: bool = True) -> tuple[dict, float, int, int]:
    """Interleaved timings of the readers on `path`; checks that their records agree."""
    readers = {"lambdabench (rows)": lambdabench_rows, "lambdabench (Reports)": lambdabench_reports,
               "simple": simple}
    if with_naive:
        readers["naive (old baseline)"] = naive_rows
    times = {name: {"wall": [], "cpu": []} for name in readers}
    floor_cpu = []
    results = {}
    for _ in range(runs):
        for name, fn in readers.items():
            wall, cpu, results[name] = timed(fn, path)
            times[name]["wall"].append(wall)
            times[name]["cpu"].append(cpu)
        floor_cpu.append(timed(regex_floor, path)[1])
    ours = results["lambdabench (rows)"]
    checks = [("simple", ours, results["simple"]),
              ("lambdabench (Reports)", by_line(ours), results["lambdabench (Reports)"])]
    if with_naive:
        checks.append(("naive (old baseline)", by_line(ours), by_line(results["naive (old baseline)"])))
    for name, fast, base in checks:
        if fast != base:
            diff = next(((a, b) for a, b in zip(fast, base) if a != b), (len(fast), len(base)))
            raise SystemExit(f"MISMATCH between lambdabench and {name} on {path.name}: {diff}")
    return times, statistics.median(floor_cpu), len(ours), sum(1 for _ in open(path, encoding="utf-8"))


def naive_script(path: str, fmt: str) -> int:
    """The naive reader as a script printing what `lambdabench parse` prints (no timestamps)."""
    table = TableWriter(sys.stdout, fmt)
    table.write_rows(naive_rows(Path(path)))
    table.close()
    return 0


def end_to_end(path: Path, runs: int, tmp: Path, with_naive: bool = True) -> None:
    bench_dir = Path(__file__).resolve().parent
    lines = sum(1 for _ in open(path, encoding="utf-8"))
    for fmt in ("jsonl", "csv"):
        commands = {
            f"lambdabench parse {fmt}": [sys.executable, "-m", "lambdabench", "parse", str(path), "--format", fmt],
            f"simple script {fmt}": [sys.executable, str(bench_dir / "simple_reader.py"), str(path), "--format", fmt],
        }
        if with_naive:
            commands[f"naive script {fmt}"] = [sys.executable, str(bench_dir / "parse_bench.py"), "--naive",
                                               str(path), "--format", fmt]
        times = {name: {"wall": [], "cpu": []} for name in commands}
        outputs = {name: tmp / f"{path.stem}_{name.replace(' ', '_')}.out" for name in commands}
        for name, argv in commands.items():  # untimed: writes the bytecode cache, warms the page cache
            run_process(argv, outputs[name])
        for _ in range(runs):
            for name, argv in commands.items():
                wall, cpu = run_process(argv, outputs[name])
                times[name]["wall"].append(wall)
                times[name]["cpu"].append(cpu)
        ours, theirs = (outputs[f"{who} {fmt}"].read_bytes() for who in ("lambdabench parse", "simple script"))
        if ours != theirs:
            raise SystemExit(f"MISMATCH: `lambdabench parse --format {fmt}` and the simple script differ on {path.name}")
        rows = [sum(1 for _ in open(outputs[name], "rb")) - (fmt == "csv") for name in commands]
        naive_note = f"; naive prints {rows[2]:,} rows, no timestamps" if with_naive else ""
        print_table(f"  end to end, --format {fmt}: lambdabench and the simple script print identical bytes "
                    f"({rows[0]:,} rows, {len(ours) / 1e6:.0f} MB){naive_note}",
                    lines, times, baselines(times))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--naive", metavar="FILE", help="run the naive reader as a script on FILE")
    parser.add_argument("--format", dest="fmt", choices=["jsonl", "csv"], default="csv")
    parser.add_argument("--skip-naive", action="store_true", help="leave the old naive baseline out (faster)")
    args = parser.parse_args()
    if args.naive:
        return naive_script(args.naive, args.fmt)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        t0 = time.perf_counter()
        cloudwatch = tmp / "cloudwatch.log"
        expected_reports = generate(cloudwatch, args.lines, args.seed)
        corpus = tmp / "corpus.log"
        corpus_log(corpus, args.lines, args.seed)
        print(f"generated {cloudwatch.name} ({cloudwatch.stat().st_size / 1e6:.0f} MB, {expected_reports:,} REPORT) "
              f"and {corpus.name} ({corpus.stat().st_size / 1e6:.0f} MB, from {CORPUS.name}) in "
              f"{time.perf_counter() - t0:.1f} s; seed {args.seed}", file=sys.stderr)
        for path, what in ((cloudwatch, "seeded `aws logs tail` log"), (corpus, "real corpus lines")):
            times, floor_cpu, records, lines = in_memory(path, args.runs, not args.skip_naive)
            if path is cloudwatch and records != expected_reports:
                raise SystemExit(f"MISMATCH: {records:,} reports read, {expected_reports:,} written")
            print(f"\n{path.name}: {what}, {lines:,} lines, {records:,} REPORT records; "
                  f"medians of {args.runs} interleaved runs")
            print_table("  in memory: identical records from every reader", lines, times, baselines(times))
            half_simple = statistics.median(times["simple"]["cpu"]) / 2
            print(f"  the regex floor (regex_floor: reading, find, match and groups() per record, no rows) "
                  f"takes {floor_cpu:.2f} s CPU: {floor_cpu / half_simple:.0%} of the {half_simple:.2f} s "
                  f"a reader 2x the simple one may spend in all")
            end_to_end(path, args.runs, tmp, not args.skip_naive)
    return 0


if __name__ == "__main__":
    sys.exit(main())
