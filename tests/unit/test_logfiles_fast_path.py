"""The text reader's fast path (`iter_file_reports` on a text log: a substring prefilter, then one
regex per canonical line behind a known tool prefix) finds exactly the records that the per-line
`parse_report` finds, line for line, on the real corpus and on fuzzed input."""

from __future__ import annotations

import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdabench.logfiles import ReadStats, iter_file_reports
from lambdabench.logs import format_platform_report, format_report, parse_report, split_prefix

from .test_logs_fuzz import FRAGMENTS, PREFIXES, REAL_LINES, WHEN, mutated_lines, reports

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# A first line that makes every input sniff as a text log (not JSON events or CSV).
FIRST = "START RequestId: 0 Version: $LATEST"


def read(lines: list[str]) -> tuple[list, ReadStats]:
    stats = ReadStats("-")
    data = ("\n".join([FIRST, *lines]) + "\n").encode("utf-8")
    found = list(iter_file_reports("-", stats, stdin=io.BytesIO(data)))
    return found, stats


def assert_agrees(lines: list[str]) -> int:
    """The reader's records equal parse_report of each line (1-based, after FIRST); returns the count."""
    found, stats = read(lines)
    expected = [(number, report) for number, line in enumerate(lines, 2)
                if (report := parse_report(line)) is not None]
    assert [(f.line, f.report) for f in found] == expected
    assert (stats.records, stats.reports) == (len(lines) + 1, len(expected))
    for f in found:
        ts, stream, _ = split_prefix(lines[f.line - 2])
        assert f.log_stream == stream
        if ts is not None:
            assert f.timestamp == ts
    return len(found)


def corpus_entries(shared_data) -> list[dict]:
    with open(shared_data / "report_corpus.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def corpus_lines(shared_data) -> list[str]:
    return [physical for entry in corpus_entries(shared_data) for physical in entry["line"].split("\n")]


def test_fast_path_agrees_with_parse_report_on_every_corpus_line(shared_data):
    # Every REPORT entry is found, in order (but the base64 LogResult ones, which are not log lines).
    found, _ = read(corpus_lines(shared_data))
    expected = [e["expected"]["request_id"] for e in corpus_entries(shared_data)
                if e["expected"]["record_type"] == "REPORT" and not e["variant"].startswith("invoke-logresult")]
    assert [f.report.request_id for f in found] == expected
    assert assert_agrees(corpus_lines(shared_data)) == len(expected) == 88


def test_fast_path_agrees_behind_every_tool_prefix(shared_data):
    prefixes = ["2024-01-01T00:00:00.000000+00:00 2024/01/01/[$LATEST]abcdef0123456789abcdef0123456789 ",
                "2024/01/01/[12]abcdef0123456789abcdef0123456789 2024-01-01T00:00:00.000000 ",
                "2023-12-15T14:48:35.171+08:00\t"]
    lines = [p + line for p in prefixes for line in corpus_lines(shared_data)]
    assert assert_agrees(lines) == 3 * 88


@SETTINGS
@given(st.lists(st.one_of(
    st.sampled_from(REAL_LINES),
    mutated_lines(),
    st.builds(lambda p, r, as_json: p + (format_platform_report(r, WHEN) if as_json else format_report(r)),
              PREFIXES, reports(), st.booleans()),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)), max_size=12).map("".join),
), min_size=1, max_size=12))
def test_fast_path_agrees_with_parse_report_on_fuzzed_lines(lines):
    # The reader reads lines as text files have them: universal newlines, no other line breaks
    # (which parse_report would split at), no BOM or NUL (which the reader refuses up front).
    text = "\n".join(lines).replace("\r\n", "\n").replace("\r", "\n")
    for c in "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\x00\ufeff":
        text = text.replace(c, " ")
    text = text.encode("utf-8", "replace").decode("utf-8")  # a lone surrogate cannot be in a UTF-8 file
    assert_agrees(text.split("\n"))
