"""The CLI's last resort: an exception no command foresaw is one line and exit 1, its traceback only with --debug.

The unforeseen failure used here is real: `lambdabench report DIR` where DIR/results.jsonl is a folder
(the results reader opens it and the OS answers IsADirectoryError). If that case ever gets its own
message, pick another failure no command handles.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lambdabench", *args], capture_output=True, text=True,
                          timeout=120)


def _broken_sweep_folder(tmp_path: Path) -> Path:
    out = tmp_path / "sweep"
    (out / "results.jsonl").mkdir(parents=True)
    return out


def test_an_unexpected_exception_is_one_line_naming_the_command_and_exit_1(tmp_path):
    out = _broken_sweep_folder(tmp_path)
    proc = run("report", str(out))
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == (f"error: lambdabench report failed unexpectedly: IsADirectoryError: [Errno 21] Is a "
                           f"directory: '{out / 'results.jsonl'}' (rerun with --debug for the traceback)\n")


def test_with_debug_the_unexpected_exception_shows_its_traceback(tmp_path):
    out = _broken_sweep_folder(tmp_path)
    proc = run("--debug", "report", str(out))
    assert proc.returncode == 1
    assert proc.stderr.startswith("Traceback (most recent call last):")
    assert proc.stderr.rstrip().splitlines()[-1] == (f"IsADirectoryError: [Errno 21] Is a directory: "
                                                     f"'{out / 'results.jsonl'}'")
    assert "rerun with --debug" not in proc.stderr
