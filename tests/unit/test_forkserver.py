"""The fork server on its own: what it preloads, how a child is gated, run and reported."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from lambdabench.emulator import forkserver
from lambdabench.emulator.forkserver import (ForkServer, ForkServerUnavailable, module_level_imports,
                                             needs_fresh_interpreter, runtime_client_preload)

needs_fork = pytest.mark.skipif(not forkserver.supported(), reason="this platform cannot fork sandboxes")


def _write(folder: Path, files: dict[str, str]) -> None:
    for name, source in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))


def test_preload_follows_the_package_from_its_entry_and_skips_what_runs_later(tmp_path):
    package = tmp_path / "client"
    _write(package, {
        "__init__.py": "import base64\n",
        "__main__.py": """
            import sys
            from . import boot
            from client.helpers import tool
            def main():
                import http.client   # at call time: not preloaded
        """,
        "boot.py": """
            import json, logging
            from decimal import Decimal
            try:
                import native_ext
            except ImportError:
                native_ext = None
            class Runner:
                import textwrap      # a class body runs at import
        """,
        "helpers/tool.py": "import zlib\n",
        "helpers/__init__.py": "",
        "unused.py": "import multiprocessing\n",   # never imported from __main__
    })
    names = module_level_imports(package / "__main__.py", package="client", exclude=("native_ext",))
    assert names == ["base64", "sys", "json", "logging", "decimal", "textwrap", "zlib"]


def test_a_plain_script_gives_its_top_level_imports(tmp_path):
    _write(tmp_path, {"boot.py": "from __future__ import annotations\nimport os, socket\n"
                                 "def f():\n    import ssl\n"})
    assert module_level_imports(tmp_path / "boot.py") == ["os", "socket"]


def test_the_runtime_clients_own_modules_are_never_preloaded():
    bootstrap = Path(forkserver.__file__).with_name("bootstrap.py")
    builtin = runtime_client_preload("builtin", bootstrap)
    assert {"json", "logging", "socket"} <= set(builtin)
    pytest.importorskip("awslambdaric")
    official = runtime_client_preload("awslambdaric", bootstrap)
    assert "logging" in official
    # runtime_client reads AWS_LAMBDA_RUNTIME_API when it is loaded: a preloaded one would keep the server's
    assert not [name for name in official if name.split(".")[0] in ("awslambdaric", "runtime_client")]


@pytest.mark.parametrize("names,fresh", [
    ({}, False), ({"TABLE": "t", "LOG_LEVEL": "debug"}, False), ({"PYTHONPATH": "/opt/python"}, False),
    ({"PYTHONHASHSEED": "0"}, True), ({"PYTHONUTF8": "1"}, True), ({"LANG": "C"}, True), ({"LC_ALL": "C"}, True),
])
def test_variables_read_while_python_starts_need_a_fresh_interpreter(names, fresh):
    assert needs_fresh_interpreter(names) is fresh


def _server(tmp_path: Path) -> ForkServer:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONUNBUFFERED": "1", "LANG": "C.UTF-8"}
    return ForkServer(work_dir=tmp_path / "server", environment=env, preload=["json"])


def _read_all(process) -> bytes:
    chunks = []
    while True:
        chunk = process.stdout.read(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


@needs_fork
def test_a_child_waits_at_its_gate_then_runs_with_its_own_environment(tmp_path):
    _write(tmp_path, {"task/main.py": """
        import os, sys
        print("argv", sys.argv[1:], "cwd", os.getcwd(), "var", os.environ.get("ONLY_HERE"), "json" in sys.modules)
        sys.exit(7)
    """})
    server = _server(tmp_path)
    try:
        process = server.fork()
        with pytest.raises(subprocess.TimeoutExpired):
            process.wait(timeout=0.3)  # still at its gate
        assert process.poll() is None
        process.release(str(tmp_path / "task" / "main.py"), ["a", "b"], env={"ONLY_HERE": "yes", "PATH": "/bin"},
                        cwd=str(tmp_path / "task"))
        assert process.wait(timeout=20) == 7
        out = _read_all(process).decode()
        assert out == f"argv ['a', 'b'] cwd {tmp_path / 'task'} var yes True\n"
    finally:
        server.close()


@needs_fork
def test_a_large_environment_passes_the_gate_whole(tmp_path):
    _write(tmp_path, {"main.py": "import os\nprint(len(os.environ['BIG']))\n"})
    server = _server(tmp_path)
    try:
        process = server.fork()
        process.release(str(tmp_path / "main.py"), [], env={"BIG": "x" * 300_000}, cwd=str(tmp_path))
        assert process.wait(timeout=20) == 0
        assert _read_all(process) == b"300000\n"
    finally:
        server.close()


@needs_fork
def test_a_closed_gate_ends_the_child_without_running_it(tmp_path):
    server = _server(tmp_path)
    try:
        process = server.fork()
        process.stdin.close()
        assert process.wait(timeout=20) == 126
        assert _read_all(process) == b""
    finally:
        server.close()


@needs_fork
def test_a_closed_server_refuses_and_kills_what_it_forked(tmp_path):
    _write(tmp_path, {"main.py": "import time\ntime.sleep(600)\n"})
    server = _server(tmp_path)
    running = server.fork()
    running.release(str(tmp_path / "main.py"), [], env={}, cwd=str(tmp_path))
    waiting = server.fork()
    server.close()
    assert running.wait(timeout=20) == -9 and waiting.wait(timeout=20) == -9
    with pytest.raises(ForkServerUnavailable):
        server.fork()
    assert server.failure is None  # closed on purpose: nothing to warn about


def test_an_unstartable_server_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(forkserver, "supported", lambda: False)
    server = _server(tmp_path)
    with pytest.raises(ForkServerUnavailable, match="cannot fork"):
        server.fork()
    assert "cannot fork" in server.failure
    server.close()
