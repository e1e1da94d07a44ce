"""Golden outputs: report.json, summary.csv and the console summaries (verbose and compact) for fixed inputs, byte for byte.

The inputs are fixed: two recorded local sweeps (tests/golden/inputs/*.results.jsonl: the tiny
test handler in tests/data/sweep_tiny, and scenarios/demo.toml), replayed through the analysis,
and synthetic sweeps written by tests/synthetic_results.py with fixed seeds. A refactor of the
records, the analysis or the exports must leave every file below unchanged; a change that is meant
to alter them regenerates them on purpose and explains the diff in its commit:

    .venv/bin/python tests/functional/test_golden_outputs.py --update

Nothing compared holds a timestamp or a machine path (inputs are copied to a temporary folder, and
the outputs carry only what the results header says).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

from lambdabench.analysis.analyze import analyze
from lambdabench.analysis.export import REPORT_JSON, SUMMARY_CSV, write_outputs
from lambdabench.report.console import render_summary
from lambdabench.records import FORMAT_VERSION
from lambdabench.results import read_results, write_results_file

TESTS = Path(__file__).resolve().parents[1]
GOLDEN = TESTS / "golden"
INPUTS = GOLDEN / "inputs"
CONSOLE = "console.txt"  # the --verbose summary (per-scenario blocks, every warning)
CONSOLE_COMPACT = "console_compact.txt"  # the default summary: one table, warnings grouped

_spec = importlib.util.spec_from_file_location("synthetic_results", TESTS / "synthetic_results.py")
synthetic = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(synthetic)


def _replay(name: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copyfile(INPUTS / f"{name}.results.jsonl", folder / "results.jsonl"))

    return make


def _synthetic(**kw: Any) -> Callable[[Path], Path]:
    return lambda folder: synthetic.write_sweep(folder, **kw)


# name -> how to make its results.jsonl in a folder
CASES: dict[str, Callable[[Path], Path]] = {
    "sweep_tiny": _replay("sweep_tiny"),
    "demo": _replay("demo"),
    "synthetic": _synthetic(memory_mb=(128, 256, 512, 1024), burst=(4, 2)),
    "synthetic_faults": _synthetic(
        memory_mb=(128, 512, 1769), burst=(10, 2), cold=3, warm=12, seed=7,
        failures={512: {"error": 1, "timeout": 1}, 1769: {"oom": 1}}, throttled={128: 3}, mismatches={1769: 2},
    ),
    "synthetic_partial": _synthetic(memory_mb=(128, 256, 512), cold=2, warm=5, warmup=1, stop_after=10),
    "synthetic_slo_cold_share": _synthetic(
        memory_mb=(256, 512, 1024, 2048), cold=4, warm=20, seed=3, sigma=0.2,
        recommend={"strategy": "slo", "p95_slo_ms": 250.0, "cold_share": 0.1, "percentile": 99.0},
        original_config={"memory_mb": 1024, "timeout_s": 30, "architecture": "x86_64"},
    ),
    "synthetic_host": _synthetic(
        memory_mb=(512, 1769, 4096), burst=(6, 2), cold=2, warm=10, seed=5,
        emulator={"emulator_version": "test", "cpu_mechanism": "rlimit", "memory_mechanism": "rlimit",
                  "host_cores": 2, "cpu_period_ms": 20, "warnings": ["cpu quota unavailable"]},
    ),
    "synthetic_aws": _synthetic(memory_mb=(128, 1024, 3008), burst=(6, 1), target="aws", region="eu-west-1",
                                architecture="arm64", seed=11),
}


def render(name: str, workdir: Path) -> dict[str, bytes]:
    """The three outputs of one case, as bytes."""
    results_file = CASES[name](workdir / name)
    analysis = analyze(read_results(results_file))
    out = workdir / f"{name}-out"
    write_outputs(analysis, out)
    return {
        REPORT_JSON: (out / REPORT_JSON).read_bytes(),
        SUMMARY_CSV: (out / SUMMARY_CSV).read_bytes(),
        CONSOLE: render_summary(analysis, verbose=True).encode("utf-8"),
        CONSOLE_COMPACT: render_summary(analysis).encode("utf-8"),
    }


@pytest.mark.parametrize("name", sorted(CASES))
def test_outputs_match_the_golden_files_byte_for_byte(name, tmp_path):
    outputs = render(name, tmp_path)
    for file, data in outputs.items():
        expected = (GOLDEN / name / file).read_bytes()
        assert data == expected, f"{name}/{file} differs from tests/golden (regenerate on purpose with --update)"


@pytest.mark.parametrize("name", sorted(CASES))
def test_results_file_round_trips_through_records_byte_for_byte(name, tmp_path):
    source = CASES[name](tmp_path / name)
    if json.loads(source.read_text(encoding="utf-8").split("\n", 1)[0])["format_version"] < FORMAT_VERSION:
        # A recording of an older format comes out migrated; the migrated file then round-trips.
        source = write_results_file(tmp_path / "migrated.jsonl", read_results(source))
    copy = write_results_file(tmp_path / "copy.jsonl", read_results(source))
    assert copy.read_bytes() == source.read_bytes()


@pytest.mark.parametrize("name", ["demo", "sweep_tiny"])
def test_migrating_a_version_1_recording_only_adds_the_later_formats_keys(name, tmp_path):
    source = INPUTS / f"{name}.results.jsonl"
    migrated = write_results_file(tmp_path / "migrated.jsonl", read_results(source))
    old = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines()]
    new = [json.loads(line) for line in migrated.read_text(encoding="utf-8").splitlines()]
    assert old[0]["format_version"] == 1 and new[0] == {**old[0], "format_version": FORMAT_VERSION}
    for before, after in zip(old[1:], new[1:]):
        if before["type"] == "invocation":
            # format 2's host_limited, format 3's search phase and step (None: a grid sweep)
            assert list(after) == [*before, "host_limited", "search_phase", "search_step"]
            assert after["search_phase"] is None and after["search_step"] is None
            assert {k: after[k] for k in before} == before
        else:
            assert after == before


def _update() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for name in sorted(CASES):
            folder = GOLDEN / name
            folder.mkdir(parents=True, exist_ok=True)
            for file, data in render(name, Path(tmp)).items():
                (folder / file).write_bytes(data)
            print(f"wrote {folder}")


if __name__ == "__main__" and "--update" in sys.argv:
    _update()
