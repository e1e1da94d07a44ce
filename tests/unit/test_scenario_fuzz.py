"""Fuzzed scenario files: whatever a file holds, it loads or raises ScenarioError naming file, key and fix.

The files are built from a valid scenario by replacing, deleting or adding a value at one or more keys
(every key of every section, nested keys included), with values chosen to break loaders: wrong TOML
types, out-of-range and 5,000-digit numbers, NaN and infinities, null bytes, 5,000-character strings and
paths, dates, unknown keys, missing tables. Each hypothesis example writes a batch of files, so the
10,000 files cost a few hundred examples.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdabench.scenario import Scenario, ScenarioError, load_scenario

FILES_PER_EXAMPLE = 25
EXAMPLES = 420  # 10,500 files

BASE: dict[str, Any] = {
    "name": "fuzz",
    "function": {"name": "fn-1", "code": "fn", "handler": "app.handler", "runtime": "python3.12",
                 "architecture": "x86_64", "environment": {"AB": "1", "CD_2": "x"}, "log_format": "Text",
                 "ephemeral_storage_mb": 512},
    "target": {"kind": "local", "region": "us-east-1", "profile": "p", "endpoint_url": "http://localhost:1"},
    "sweep": {"memory_mb": [128, 256], "timeout_s": [10], "architectures": ["x86_64"],
              "payloads": [{"weight": 0.5, "payload": {"k": [1, 2]}, "label": "a"},
                           {"weight": 1, "payload_file": "e.json"}],
              "seed": 0, "order": "sequential"},
    "recommend": {"strategy": "slo", "balanced_weight": 0.5, "p95_slo_ms": 100.0, "cold_share": 0.1,
                  "percentile": 95.0},
    "scenario": [{"kind": "cold", "invocations": 2}, {"kind": "warm", "invocations": 3, "warmup": 1},
                 {"kind": "burst", "concurrency": 2, "waves": 1, "pause_s": 0.5}],
    "hooks": {"before_each": {"command": ["./h.sh", "a b"], "timeout_s": 5},
              "after_config": {"command": ["sh", "-c", "cat >/dev/null"]}},
}
# Keys the base leaves out, so that they are fuzzed too.
EXTRA_PATHS = [("sweep", "payload"), ("sweep", "payload_file"), ("function", "environment", "X"),
               ("hooks", "before_config"), ("hooks", "after_each", "function"), ("hooks", "before_each", "function"),
               # the adaptive search's keys, a memory range, and the replay target's samples file
               ("sweep", "search"), ("sweep", "budget_invocations"), ("sweep", "tolerance"),
               ("sweep", "memory_mb", "min"), ("sweep", "memory_mb", "max"), ("target", "samples")]


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, prefix + (key,))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            out += _paths(child, prefix + (i,))
    return out


PATHS = _paths(BASE) + EXTRA_PATHS


class HugeInt:
    """An integer literal too long for Python's int(str) (4,300 digits): tomllib raises ValueError."""

    def __init__(self, digits: int):
        self.digits = digits


LONG = "x" * 5000
_strings = st.one_of(
    st.sampled_from(["", " ", "\x00", "fn\x00", "a\x00b", LONG, "/" + LONG, "../" * 1700, "~", "~nobody-x/y",
                     "fn/" + "d" * 300, "/dev/null", "/proc/self/mem", ".", "..", "x86_64", "arm64", "aws",
                     "local", "warm", "burst", "cold", "slo", "cost", "adaptive", "grid", "replay", "s.csv", "JSON", "text", "X", "A" * 300,
                     "a.b" * 2000, "app." + "h" * 5000, "python2.7", "http://", "us-east-1", "e.json", "fn",
                     "\ud7ff\ue000", "\t\n\r", '"', "\\", "\x7f\x1b[31m"]),
    st.text(max_size=40),
)
_scalars = st.one_of(
    st.booleans(),
    st.sampled_from([0, -1, 1, 127, 128, 10240, 10241, 900, 901, 2**63 - 1, -(2**63), 10**30]),
    st.integers(),
    st.builds(HugeInt, st.sampled_from([4301, 5000])),
    st.sampled_from([float("nan"), float("inf"), float("-inf"), 0.0, -0.0, 1e308, 5e-324, 0.5, 1.5, 100.0]),
    st.floats(),
    _strings,
    st.sampled_from([dt.date(2024, 1, 31), dt.time(7, 32), dt.datetime(1979, 5, 27, 7, 32),
                     dt.datetime(1979, 5, 27, 7, 32, tzinfo=dt.timezone.utc)]),
)
VALUES = st.recursive(
    _scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(_strings, children, max_size=3)),
    max_leaves=6,
)

MUTATION = st.one_of(
    st.tuples(st.just("set"), st.sampled_from(PATHS), VALUES),
    st.tuples(st.just("delete"), st.sampled_from(PATHS), st.none()),
    st.tuples(st.just("unknown"), st.integers(0, 63), _strings),  # (which table, the new key)
)


def _get(doc: Any, path: tuple) -> Any:
    for key in path:
        doc = doc[key]
    return doc


def _tables(doc: Any, prefix: tuple = ()) -> list[tuple]:
    """Paths of every table in `doc` (the top level included)."""
    out = [prefix] if isinstance(doc, dict) else []
    if isinstance(doc, dict):
        for key, child in doc.items():
            out += _tables(child, prefix + (key,))
    elif isinstance(doc, list):
        for i, child in enumerate(doc):
            out += _tables(child, prefix + (i,))
    return out


def mutate(doc: dict, kind: str, path: Any, value: Any) -> None:
    """Apply one mutation; a path that no longer exists (an earlier mutation changed its parent) is skipped."""
    if kind == "unknown":
        tables = _tables(doc)
        _get(doc, tables[path % len(tables)])[value or "unknown_key"] = 1
        return
    parent: Any = doc
    for key in path[:-1]:
        if isinstance(parent, dict) and key in parent or isinstance(parent, list) and isinstance(key, int) \
                and key < len(parent):
            parent = parent[key]
        else:
            return
    last = path[-1]
    if isinstance(parent, dict) and isinstance(last, int):
        return  # a list index into what an earlier mutation made a table: TOML keys are strings
    if isinstance(parent, dict):
        if kind == "delete":
            parent.pop(last, None)
        else:
            parent[last] = value
    elif isinstance(parent, list) and isinstance(last, int) and last < len(parent):
        if kind == "delete":
            del parent[last]
        else:
            parent[last] = value


# --- a small TOML writer: everything as `key = value` with inline tables, which TOML allows anywhere ----
def toml_string(text: str) -> str:
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, HugeInt):
        return "9" * value.digits
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def toml_document(doc: dict) -> str:
    return "".join(f"{toml_string(key)} = {toml_value(value)}\n" for key, value in doc.items())


def _folder(folder: Path) -> Path:
    (folder / "fn").mkdir()
    (folder / "fn" / "app.py").write_text("def handler(event, context):\n    return event\n")
    (folder / "e.json").write_text('{"k": 1}')
    (folder / "h.sh").write_text("#!/bin/sh\ncat >/dev/null\n")
    (folder / "h.sh").chmod(0o755)
    (folder / "s.csv").write_text("memory_mb,duration_ms\n128,10\n256,5\n")
    return folder


def check_file(folder: Path, index: int, text: str) -> None:
    path = folder / f"s{index % FILES_PER_EXAMPLE}.toml"
    path.write_text(text, encoding="utf-8")
    try:
        assert isinstance(load_scenario(path), Scenario)
    except ScenarioError as err:
        assert err.path == path.resolve()
        assert str(err).startswith(f"{path.resolve()}: ")
        assert err.fix and err.problem
        # The writer only emits valid TOML, so every problem lies at a key, except a 5,000-digit
        # integer, which Python's TOML reader cannot hold (a whole-file problem).
        assert err.key or "digits" in err.problem, str(err)


def test_the_unfuzzed_base_scenario_loads(tmp_path):
    folder = _folder(tmp_path)
    path = folder / "base.toml"
    path.write_text(toml_document(BASE), encoding="utf-8")
    scenario = load_scenario(path)
    assert scenario.recommend.strategy == "slo" and scenario.sweep.memory_mb == (128, 256)
    assert [p.label for p in scenario.sweep.payloads] == ["a", "payloads[1]"]
    assert scenario.hooks.before_each.command == (str(folder.resolve() / "h.sh"), "a b")
    assert scenario.hooks.after_config.command == ("sh", "-c", "cat >/dev/null")


def test_every_fuzzed_scenario_file_loads_or_names_file_key_and_fix(tmp_path):
    folder = _folder(tmp_path)
    written = [0]

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.lists(st.lists(MUTATION, min_size=1, max_size=3), min_size=FILES_PER_EXAMPLE,
                    max_size=FILES_PER_EXAMPLE))
    def run(files):
        for mutations in files:
            doc = copy.deepcopy(BASE)
            for kind, path, value in mutations:
                mutate(doc, kind, path, value)
            check_file(folder, written[0], toml_document(doc))
            written[0] += 1

    run()
    assert written[0] >= 10_000


def _load_with(tmp_path: Path, section: str, key: str, value: Any) -> ScenarioError:
    doc = copy.deepcopy(BASE)
    doc[section][key] = value
    path = _folder(tmp_path) / "s.toml"
    path.write_text(toml_document(doc), encoding="utf-8")
    try:
        load_scenario(path)
    except ScenarioError as err:
        return err
    raise AssertionError("loaded")


def test_a_null_byte_in_the_code_path_names_the_key(tmp_path):
    err = _load_with(tmp_path, "function", "code", "fn\x00")
    assert err.key == "function.code"
    assert err.problem == '"fn\\u0000" contains a null character, which no path can hold'


def test_a_code_path_too_long_for_the_file_system_names_the_key(tmp_path):
    err = _load_with(tmp_path, "function", "code", "d" * 5000)
    assert err.key == "function.code"
    assert err.problem == f'code folder "{"d" * 77}..." cannot be used: File name too long'


def test_a_five_thousand_digit_integer_is_a_scenario_error(tmp_path):
    err = _load_with(tmp_path, "sweep", "seed", HugeInt(5000))
    assert err.key is None and "5000 digits" in err.problem
    assert err.fix == "shorten the long number; Lambda's limits all have a few digits"
