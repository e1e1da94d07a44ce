"""`lambdabench parse` as a user runs it: a real process, real files, stdin, exit statuses."""

from __future__ import annotations

import csv
import gzip
import io
import json
import subprocess
import sys
from pathlib import Path

LOGS = Path(__file__).resolve().parent.parent / "data" / "logs"


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lambdabench", "parse", *args], input=stdin,
                          capture_output=True, cwd=LOGS, timeout=120)


def test_csv_table_of_several_files_with_counts_on_stderr():
    result = run("aws_logs_tail.log", "console_export.csv", "filter_log_events.json")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout.decode())))
    assert [(r["source"], r["line"], r["request_id"], r["cold"], r["status"]) for r in rows] == [
        ("aws_logs_tail.log", "5", "f07f3f34-5f33-5d85-8251-5ebb926d93bb", "true", "success"),
        ("aws_logs_tail.log", "8", "a57f6444-9aa3-542d-bd9c-05d43c4cc03e", "false", "success"),
        ("console_export.csv", "4", "fe1467d6-1458-4e20-8e40-9aaa4be7a0f4", "false", "success"),
        ("console_export.csv", "7", "83269395-33ee-45a8-8a99-38f67b6faf72", "false", "error"),
        ("filter_log_events.json", "2", "1e5c8abd-3d36-461b-8c0f-a56b952715b3", "true", "timeout"),
        ("filter_log_events.json", "3", "6960f94b-add0-473c-ab1a-f854a3f92817", "false", "timeout"),
    ]
    assert rows[0]["duration_ms"] == "826.23" and rows[0]["init_duration_ms"] == "590.33"
    assert rows[3]["error_type"] == "Runtime.InvalidEntrypoint"
    assert result.stderr.decode().splitlines() == [
        "aws_logs_tail.log: 2 REPORT records, 6 other lines skipped",
        "console_export.csv: 2 REPORT records, 1 other event skipped",
        "filter_log_events.json: 2 REPORT records, 1 other event skipped",
    ]


def test_jsonl_from_gzipped_stdin():
    result = run("--format", "jsonl", "-", stdin=(LOGS / "aws_logs_tail.log.gz").read_bytes())
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [(r["source"], r["line"], r["billed_duration_ms"], r["memory_size_mb"]) for r in rows] == [
        ("<stdin>", 5, 1417, 512), ("<stdin>", 8, 598, 512)]


def test_summary_per_memory_size_prices_from_billed_duration():
    result = run("--summary", "--format", "jsonl", "raw_crlf.log", "json_format.log")
    assert result.returncode == 0, result.stderr
    rows = {r["memory_size_mb"]: r for r in map(json.loads, result.stdout.decode().splitlines())}
    assert sorted(rows) == [128, 256]
    r128 = rows[128]
    # raw_crlf: 3000/700/3068 ms billed; json_format: one 5000 ms timeout, all at 128 MB
    assert (r128["count"], r128["cold_count"], r128["success"], r128["timeout"]) == (4, 2, 2, 2)
    mean_billed_s = (3000 + 700 + 3068 + 5000) / 4 / 1000
    expected = (0.125 * mean_billed_s * 0.0000166667 + 0.0000002) * 1e6
    assert abs(r128["cost_per_million_usd"] - expected) < 1e-9
    assert (r128["warm_p50_ms"], r128["cold_p50_ms"], r128["max_memory_used_mb"]) == (619.31, 3003.16, 118)


def test_summary_text_names_memory_and_cost():
    result = run("--summary", "aws_logs_tail.log")
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert out.splitlines()[0] == "Memory 512 MB: 2 invocations, cold 1 (50.0%)"
    assert "per million invocations (x86_64, us-east-1" in out


def test_summary_with_unknown_region_is_bad_usage_before_reading():
    result = run("--summary", "--region", "mars-1", "aws_logs_tail.log")
    assert result.returncode == 2
    err = result.stderr.decode()
    assert "mars-1" in err and "--price-gb-s" in err and "Traceback" not in err
    assert result.stdout == b""


def test_missing_file_is_exit_2_naming_it_without_traceback():
    result = run("aws_logs_tail.log", "missing.log")
    assert result.returncode == 2
    err = result.stderr.decode()
    assert "error: missing.log: no such file" in err and "Traceback" not in err


def test_bad_gzip_binary_and_broken_json_are_exit_2_with_file_and_line():
    for name, message in [("truncated.log.gz", "truncated.log.gz:1: cannot decompress"),
                          ("binary.bin", "binary.bin:1: binary data, not a log"),
                          ("broken_events.json", "broken_events.json:5: broken JSON")]:
        result = run(name)
        assert result.returncode == 2, name
        assert f"error: {message}" in result.stderr.decode()
        assert result.stdout == b"", name


def test_no_reports_is_a_warning_not_a_failure():
    result = run("no_reports.log")
    assert result.returncode == 0
    assert result.stdout.decode().startswith("source,line,")
    assert "warning: no REPORT records found" in result.stderr.decode()


def test_no_file_and_bad_format_are_usage_errors():
    assert run().returncode == 2
    assert run("--format", "xml", "aws_logs_tail.log").returncode == 2


def test_a_gzipped_events_file_from_a_pipe(tmp_path):
    events = json.loads((LOGS / "filter_log_events.json").read_text())
    data = gzip.compress(json.dumps(events).encode())
    result = run("-", stdin=data)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.decode().splitlines()) == 3  # header + 2 reports
