"""A sandbox runs whatever its Launcher starts: here a runtime started as a provided.al2023 function's
`bootstrap` would be (its own program, nothing prepared ahead), with the emulator's built-in runtime
client as that program, and a clock of the test's own."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from lambdabench.emulator.logstore import LogStore
from lambdabench.emulator.resources import ResourceManager
from lambdabench.emulator.sandbox import Sandbox, SandboxSpec
from lambdabench.emulator.sandbox_process import BOOTSTRAP_SOURCE, Clock, Started, lambda_variables

NEW_YEAR_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


class OwnBootstrap:
    """Starts `python bootstrap.py <handler>` from nothing: no fork server, no launcher program."""

    sandbox_start = "spawn"
    failure = None
    can_prepare = False

    def __init__(self, runtime_dir: Path):
        self.runtime_dir = runtime_dir
        self.started: list[int] = []

    def environment(self, spec: Any, *, log_stream: str, api_address: str, tmp_dir: Path) -> dict[str, str]:
        env = lambda_variables(spec, log_stream=log_stream, api_address=api_address,
                               runtime_dir=self.runtime_dir, tmp_dir=tmp_dir)
        return {**env, "PYTHONPATH": spec.code_dir, "PYTHONUNBUFFERED": "1", "HOME": str(tmp_dir)}

    def start(self, spec: Any, env: Mapping[str, str], resources: Any, prepared: Any, clock: Clock) -> Started:
        assert prepared is None
        started = Started(subprocess.Popen(
            [sys.executable, "-S", str(self.runtime_dir / "bootstrap.py"), spec.handler], cwd=spec.code_dir,
            env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True), clock.perf(), clock.wall_ms())
        resources.attach(started.process.pid)
        self.started.append(started.process.pid)
        return started

    def takes_prepared(self, spec: Any) -> bool:
        return False

    def prepare(self) -> Any:
        raise RuntimeError("nothing is prepared for this runtime")

    def close(self) -> None:
        pass


@pytest.fixture
def sandbox_of(tmp_path):
    manager = ResourceManager(cpu_limit="none", memory_limit="none")
    runtime_dir = tmp_path / "runtime"
    runtime_dir.mkdir()
    (runtime_dir / "bootstrap.py").write_bytes(BOOTSTRAP_SOURCE.read_bytes())
    sandboxes: list[Sandbox] = []

    def make(source: str) -> tuple[Sandbox, OwnBootstrap, LogStore]:
        code = tmp_path / f"code{len(sandboxes)}"
        code.mkdir()
        (code / "app.py").write_text(source)
        spec = SandboxSpec(key=("f", "$LATEST", 1), function_name="f", version="$LATEST",
                           function_arn="arn:aws:lambda:us-east-1:123456789012:function:f", region="us-east-1",
                           runtime="provided.al2023", handler="app.handler", code_dir=str(code), memory_mb=128,
                           timeout_s=5, log_group="/aws/lambda/f")
        launcher, store = OwnBootstrap(runtime_dir), LogStore()
        clock = Clock(perf=time.perf_counter, wall_ms=lambda: NEW_YEAR_MS)
        sandbox = Sandbox(spec, root_dir=tmp_path / "sandboxes", resources=manager.sandbox(f"t{len(sandboxes)}", 128),
                          log_store=store, launcher=launcher, clock=clock)
        sandboxes.append(sandbox)
        sandbox.start()
        return sandbox, launcher, store

    yield make
    for sandbox in sandboxes:
        sandbox.kill()
    manager.close()


def test_a_sandbox_runs_the_process_its_launcher_starts_cold_then_warm(sandbox_of):
    sandbox, launcher, store = sandbox_of("import os\ndef handler(event, context):\n"
                                          "    print('hello')\n    return {'pid': os.getpid(), 'event': event}\n")
    cold = sandbox.invoke("req-1", b'{"n": 1}', invoked_arn="arn:aws:lambda:us-east-1:123456789012:function:f")
    warm = sandbox.invoke("req-2", b'{"n": 2}', invoked_arn="arn:aws:lambda:us-east-1:123456789012:function:f")
    assert json.loads(cold.payload) == {"pid": launcher.started[0], "event": {"n": 1}}
    assert json.loads(warm.payload) == {"pid": launcher.started[0], "event": {"n": 2}}
    assert (cold.cold, warm.cold) == (True, False)
    assert cold.report.init_duration_ms is not None and warm.report.init_duration_ms is None
    assert cold.log_text.startswith("INIT_START Runtime Version: provided.al2023.lambdabench\t")
    assert "START RequestId: req-1 Version: $LATEST\n" in cold.log_text and "hello" in cold.log_text
    assert warm.log_text.startswith("START RequestId: req-2 Version: $LATEST\n")
    # The log stream is named by the sandbox's clock, as Lambda names it by the day it started.
    assert sandbox.log_stream == f"2026/01/01/[$LATEST]{sandbox.sandbox_id}"
    page = store.get_log_events("/aws/lambda/f", sandbox.log_stream, start_from_head=True)
    assert "".join(e["message"] for e in page["events"]) == cold.log_text + warm.log_text
    assert {e["timestamp"] for e in page["events"]} == {NEW_YEAR_MS}


def test_a_runtime_that_exits_mid_invocation_answers_runtime_exit_error(sandbox_of):
    sandbox, _, _ = sandbox_of("import os\ndef handler(event, context):\n    os._exit(3)\n")
    outcome = sandbox.invoke("req-1", b"{}", invoked_arn="arn:aws:lambda:us-east-1:123456789012:function:f")
    assert json.loads(outcome.payload) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": "RequestId: req-1 Error: Runtime exited with error: exit status 3"}
    assert outcome.function_error == "Unhandled" and outcome.report.error_type == "Runtime.ExitError"
    assert not sandbox.alive
