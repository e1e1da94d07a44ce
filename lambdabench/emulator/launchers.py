"""Which launcher starts a runtime: the runtime kind of each runtime name the emulator accepts, and
the launcher of each kind other than Python's (whose launcher the pool makes itself: it owns the
fork server)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from lambdabench.emulator.launch_node import NODE_RUNTIMES, NodeLauncher
from lambdabench.emulator.launch_provided import PROVIDED_RUNTIMES, ProvidedLauncher
from lambdabench.emulator.sandbox_process import Launcher

PYTHON_RUNTIMES = ("python3.8", "python3.9", "python3.10", "python3.11", "python3.12", "python3.13",
                   "python3.14")
SUPPORTED_RUNTIMES = PYTHON_RUNTIMES + NODE_RUNTIMES + PROVIDED_RUNTIMES


def runtime_kind(runtime: str) -> str:
    """"python", "nodejs" or "provided"."""
    if runtime in PROVIDED_RUNTIMES:
        return "provided"
    if runtime in NODE_RUNTIMES:
        return "nodejs"
    return "python"


def other_launcher(kind: str, *, runtime_dir: Path, host_environment: Mapping[str, str]) -> Launcher:
    if kind == "provided":
        return ProvidedLauncher(runtime_dir=runtime_dir, host_environment=host_environment)
    if kind == "nodejs":
        return NodeLauncher(runtime_dir=runtime_dir, host_environment=host_environment)
    raise ValueError(f"no launcher for runtime kind {kind!r}")
