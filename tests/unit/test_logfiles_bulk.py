"""The bulk path of `lambdabench parse`: text read a block at a time into row tuples, and the
table writer formatting a column at a time. Both must give exactly what the record-at-a-time
path gives: the same rows wherever a block ends, and json.dumps / csv.writer's bytes."""

from __future__ import annotations

import csv
import io
import json

import pytest

from lambdabench.logfiles import (
    ROW_FIELDS,
    FoundReport,
    ReadStats,
    TableWriter,
    found_row,
    iter_file_reports,
    iter_file_rows,
    row,
)
from lambdabench.logs import Report

from .test_logfiles_fast_path import FIRST, assert_agrees, corpus_lines

PREFIXES = ["", "2024-01-01T00:00:00.000000+00:00 2024/01/01/[$LATEST]abcdef0123456789abcdef0123456789 ",
            "2024/01/01/[12]abcdef0123456789abcdef0123456789 2024-01-01T00:00:00.000000 ",
            "2023-12-15T14:48:35.171+08:00\t"]


def corpus_log(shared_data) -> bytes:
    lines = [FIRST] + [p + line for p in PREFIXES for line in corpus_lines(shared_data)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def rows_of(data: bytes, **options) -> tuple[list[tuple], ReadStats]:
    stats = ReadStats("-")
    return [r for rows in iter_file_rows("-", stats, stdin=io.BytesIO(data), **options) for r in rows], stats


def test_rows_are_the_reports_as_tuples(shared_data):
    data = corpus_log(shared_data)
    rows, stats = rows_of(data)
    found = list(iter_file_reports("-", ReadStats("-"), stdin=io.BytesIO(data)))
    assert rows == [found_row(f) for f in found]
    assert [tuple(row(f).values()) for f in found] == rows
    assert (stats.records, stats.reports) == (1 + 4 * len(corpus_lines(shared_data)), 4 * 88)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("block_chars", [1, 7, 300, 4096])
def test_rows_do_not_depend_on_where_blocks_end(shared_data, block_chars, newline):
    expected, expected_stats = rows_of(corpus_log(shared_data))
    rows, stats = rows_of(corpus_log(shared_data).replace(b"\n", newline.encode()), block_chars=block_chars)
    assert rows == expected
    assert (stats.records, stats.reports) == (expected_stats.records, expected_stats.reports)


def test_last_line_without_newline_and_crlf_lines_are_counted():
    data = (f"{FIRST}\r\nREPORT RequestId: a\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\t"
            "Max Memory Used: 9 MB\t\r\nREPORT RequestId: b Duration: 2.5 ms").encode()
    rows, stats = rows_of(data)
    assert [(r[1], r[4], r[5], r[6]) for r in rows] == [(2, "a", 1.0, 1), (3, "b", 2.5, None)]
    assert (stats.records, stats.reports) == (3, 2)


def tricky_rows() -> list[FoundReport]:
    plain = Report("r1", 1.5, 2, 128, 60)
    return [
        FoundReport(plain, "a.log", 1),
        FoundReport(Report("r\"2\\", 1e16, 10**17, 10240, 1, 0.1, 2.25, 3, "timeout", "Runtime.X"), "a.log", 2,
                    "2024-01-01T00:00:00Z", "2024/01/01/[$LATEST]abc"),
        FoundReport(Report("r,3\n", 3.0, None, None, None, None, None, None, "error", None), "dir,x/b.log", 3,
                    "tz\u00e9", "str\"eam"),
        FoundReport(Report("r\u00e94\x7f\x01", 4.0), "b.log", 4, None, "s\r"),  # csv quotes a lone \r too
    ]


@pytest.mark.parametrize("pick", [slice(0, 1), slice(0, 2), slice(1, 2), slice(0, 4), slice(2, 4), slice(3, 4)])
def test_jsonl_is_json_dumps_of_each_row(pick):
    founds = tricky_rows()[pick]
    out = io.StringIO()
    writer = TableWriter(out, "jsonl")
    writer.write_rows([found_row(f) for f in founds])
    writer.close()
    assert out.getvalue() == "".join(json.dumps(row(f), separators=(",", ":")) + "\n" for f in founds)


@pytest.mark.parametrize("pick", [slice(0, 1), slice(0, 2), slice(1, 2), slice(0, 4), slice(2, 4), slice(3, 4)])
def test_csv_is_csv_writer_of_each_row(pick):
    founds = tricky_rows()[pick]
    out = io.StringIO()
    writer = TableWriter(out, "csv")
    writer.write_rows([found_row(f) for f in founds])
    writer.close()
    expected = io.StringIO()
    reference = csv.writer(expected, lineterminator="\n")
    reference.writerow(ROW_FIELDS)
    for f in founds:
        reference.writerow(["" if v is None else ("true" if v else "false") if isinstance(v, bool) else v
                            for v in row(f).values()])
    assert out.getvalue() == expected.getvalue()


def test_lines_the_block_reader_must_hand_to_the_general_path():
    text = ("REPORT RequestId: r{n}\tDuration: 1.00 ms\tBilled Duration: {billed} ms\tMemory Size: 128 MB\t"
            "Max Memory Used: 9 MB\t")
    record = ('{{"time":"2024-01-01T00:00:00.000Z","type":"platform.report","record":{{"requestId":"j{n}",'
              '"metrics":{{"durationMs":1.5,"billedDurationMs":{billed},"memorySizeMB":128,"maxMemoryUsedMB":9}},'
              '"status":"success"}}}}')
    tail = "2024-01-01T00:00:00.000000+00:00 2024/01/01/[$LATEST]{stream} "
    lines = [
        text.format(n=1, billed="1" * 19),  # too long for an int: the field scan leaves it None
        record.format(n=2, billed="1" * 19),  # json reads it whole
        text.format(n=3, billed="18" * 9),
        tail.format(stream="platform.report") + text.format(n=4, billed=2),  # both marks, one line
        tail.format(stream="{x") + record.format(n=5, billed=2),  # the record is not the first "{"
        record.format(n=6, billed=2) + " REPORT",  # says REPORT: the text path reads it
        tail.format(stream="abc") + record.format(n=7, billed=2),
        "2023-12-15T14:48:35.171+08:00\t" + record.format(n=8, billed=2),
        "x " + text.format(n=9, billed=2),  # not a tool prefix
    ]
    found = assert_agrees(lines)
    rows, _ = rows_of(("\n".join([FIRST, *lines]) + "\n").encode())
    assert [(r[4], r[6]) for r in rows] == [("r1", None), ("j2", int("1" * 19)), ("r3", int("18" * 9)),
                                            ("r4", 2), ("j6", 2), ("j7", 2), ("j8", 2), ("r9", 2)]
    assert found == 8
