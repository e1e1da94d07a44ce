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


def _forgetful_tests(tree: ast.AST) -> list[str]:
    """Names of the tests in `tree` that send SIGINT without asking for default_sigint."""
    return [node.name for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_") and _sends_sigint(node)
            and "default_sigint" not in {a.arg for a in node.args.args}]


def test_every_test_that_sends_sigint_sets_its_default_disposition():
    found = [f"{path.relative_to(TESTS)}::{name}" for path in sorted(TESTS.rglob("test_*.py"))
             for name in _forgetful_tests(ast.parse(path.read_text(), filename=str(path)))]
    assert found == []


def test_the_check_sees_a_test_that_forgets_and_passes_one_that_asks():
    src = ("import signal, pytest\n"
           "@pytest.mark.parametrize('sig', [signal.SIGINT])\n"
           "def test_x(sig):\n    proc.send_signal(sig)\n"
           "def test_quiet():\n    proc.send_signal(signal.SIGTERM)\n")
    assert _forgetful_tests(ast.parse(src)) == ["test_x"]
    assert _forgetful_tests(ast.parse(src.replace("test_x(sig)", "test_x(sig, default_sigint)"))) == []
