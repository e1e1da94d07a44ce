"""The block scanner (`scan_report_block`, the bulk path of `lambdabench parse`) finds exactly the
records the per-line readers find, line for line, on the real corpus and on fuzzed input."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdabench.logs import (
    format_platform_report,
    format_report,
    parse_report,
    scan_found_line,
    scan_report_block,
)

from .test_logs_fuzz import FRAGMENTS, PREFIXES, REAL_LINES, WHEN, mutated_lines, reports

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Characters other than "\n" that str.splitlines breaks at: a text log's line may hold them
# (the reader splits at "\n" only), but parse_report would read them as several lines.
OTHER_BREAKS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def per_line(lines: list[str]) -> list[tuple]:
    """What the block scanner must give: each line read on its own."""
    return [(i, *hit) for i, line in enumerate(lines) if (hit := scan_found_line(line)) is not None]


def assert_agrees(lines: list[str], final_newline: bool = True) -> None:
    block = "\n".join(lines) + ("\n" if final_newline else "")
    got = list(zip(*scan_report_block(block)))
    assert got == per_line([line + "\n" for line in lines[:-1]] + [lines[-1] + ("\n" if final_newline else "")])
    if not any(c in OTHER_BREAKS for c in block):
        assert [(i, r) for i, r, _, _ in got] == [
            (i, r) for i, line in enumerate(lines) if (r := parse_report(line)) is not None]


def corpus_entries(shared_data) -> list[dict]:
    with open(shared_data / "report_corpus.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def corpus_lines(shared_data) -> list[str]:
    return [physical for entry in corpus_entries(shared_data) for physical in entry["line"].split("\n")]


def test_block_scanner_agrees_with_parse_report_on_every_corpus_line(shared_data):
    lines = corpus_lines(shared_data)
    assert_agrees(lines)
    assert_agrees(lines, final_newline=False)
    # Every REPORT entry is found, in order (but the base64 LogResult ones, which are not log lines).
    expected = [e["expected"]["request_id"] for e in corpus_entries(shared_data)
                if e["expected"]["record_type"] == "REPORT" and not e["variant"].startswith("invoke-logresult")]
    assert [r.request_id for r in scan_report_block("\n".join(lines)).report] == expected
    assert len(expected) == 88


def test_block_scanner_agrees_behind_every_tool_prefix(shared_data):
    prefixes = ["", "2024-01-01T00:00:00.000000+00:00 2024/01/01/[$LATEST]abcdef0123456789abcdef0123456789 ",
                "2024/01/01/[12]abcdef0123456789abcdef0123456789 2024-01-01T00:00:00.000000 ",
                "2023-12-15T14:48:35.171+08:00\t"]
    assert_agrees([p + line for p in prefixes for line in corpus_lines(shared_data)])


def test_block_scanner_numbers_lines_from_zero_and_reads_a_last_line_without_newline():
    report_line = REAL_LINES[0]
    got = scan_report_block(f"START RequestId: a\n\n{report_line}\nEND RequestId: a\n{report_line}")
    assert got.line_index == [2, 4]
    assert got.report == [parse_report(report_line)] * 2
    assert scan_report_block("") == ([], [], [], [])


@SETTINGS
@given(st.lists(st.one_of(
    st.sampled_from(REAL_LINES),
    mutated_lines(),
    st.builds(lambda p, r, as_json: p + (format_platform_report(r, WHEN) if as_json else format_report(r)),
              PREFIXES, reports(), st.booleans()),
    st.lists(st.one_of(st.sampled_from([f for f in FRAGMENTS if f != "\n"]), st.text(max_size=6)),
             max_size=12).map("".join),
), min_size=1, max_size=12), st.booleans())
def test_block_scanner_agrees_with_the_per_line_readers_on_fuzzed_lines(lines, final_newline):
    lines = [part for line in lines for part in line.split("\n")]
    assert_agrees(lines, final_newline)
