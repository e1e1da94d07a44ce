"""Every test that sends SIGINT to a process asks for the default_sigint fixture.

A parent that ignores SIGINT (a background job of a non-interactive shell, some CI runners) passes
SIG_IGN to pytest and to each child it starts; a test that interrupts a child without setting
SIGINT back sees the child run to its end and fails for a reason that has nothing to do with the
code (issue 12 item 6). This test reads the test sources, so a new one cannot forget."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
SENDS = ("send_signal", "kill", "killpg", "pthread_kill")


def _sends_sigint(node: ast.FunctionDef) -> bool:
    """The test sends a signal and SIGINT is among what it (or its parametrize) names."""
    sends = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in SENDS
                for n in ast.walk(node))
    names_sigint = any(isinstance(n, ast.Attribute) and n.attr == "SIGINT"
                       for part in [node, *node.decorator_list] for n in ast.walk(part))
    return sends and names_sigint


def _tests_that_interrupt_without_the_fixture() -> list[str]:
    found = []
    for path in sorted(TESTS.rglob("test_*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_") and _sends_sigint(node):
                if "default_sigint" not in {a.arg for a in node.args.args}:
                    found.append(f"{path.relative_to(TESTS)}::{node.name}")
    return found


def test_every_test_that_sends_sigint_sets_its_default_disposition():
    assert _tests_that_interrupt_without_the_fixture() == []


def test_the_check_sees_a_test_that_forgets(tmp_path):
    src = ("import signal, pytest\n"
           "@pytest.mark.parametrize('sig', [signal.SIGINT])\n"
           "def test_x(sig):\n    proc.send_signal(sig)\n")
    node = ast.parse(src).body[1]
    assert _sends_sigint(node)
    ok = ast.parse(src.replace("test_x(sig)", "test_x(sig, default_sigint)")).body[1]
    assert "default_sigint" in {a.arg for a in ok.args.args}
