"""Shared test fixtures and paths."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
TEST_DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip(f"shared data not found at {SHARED_DATA} (CI keeps shared/ beside the checkout)")
    return SHARED_DATA


def _load(filename: str):
    """A helper file of tests/ as a module, loaded by path (pytest runs in importlib mode, so tests/ is
    not importable); registered in sys.modules, where dataclasses resolve their module."""
    import importlib.util
    import sys

    name = "lambdabench_tests_" + filename.removesuffix(".py").replace("/", "_")
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parent / filename)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture
def default_sigint():
    """SIGINT as a program started from a terminal has it (Python's KeyboardInterrupt handler), for the
    test and for every child it starts (exec turns a caught signal into SIG_DFL, and the child's Python
    installs its handler again). A parent that ignores SIGINT (a background job of a non-interactive
    shell, some CI runners) passes SIG_IGN on to pytest and to each child, and a test of interrupts
    would see nothing arrive."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.fixture(scope="session")
def report_fixtures():
    """tests/report_fixtures.py: realistic Analysis builders."""
    return _load("report_fixtures.py")


@pytest.fixture(scope="session")
def emulator_helpers():
    """tests/emulator_helpers.py: zip building, boto3 clients for the emulator."""
    return _load("emulator_helpers.py")


@pytest.fixture(scope="session")
def burst_gate():
    """tests/functional/test_burst_gate.py: its raw loopback server, reply framings and burst helper."""
    return _load("functional/test_burst_gate.py")


@pytest.fixture(scope="module")
def moto_url():
    """A moto server on a free loopback port: the AWS target's control plane without AWS."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
