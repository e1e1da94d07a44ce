"""How a custom-runtime sandbox (`provided.al2023`, `provided.al2`) starts: the code's own `bootstrap`
executable, run from the task root with Lambda's variables (AWS_LAMBDA_RUNTIME_API among them), loops
on the Runtime API itself.

A bootstrap that is missing or cannot be executed fails INIT with `Runtime.InvalidEntrypoint`, as on
Lambda. The emulator learns that before it starts anything, so what it starts instead is a tiny
reporter (this interpreter, `-S -I`) that posts the error to the sandbox's Runtime API as Lambda's own
init process would: the sandbox then fails INIT through the path every runtime's init error takes
(INIT_REPORT, Status: error, Error Type: Runtime.InvalidEntrypoint).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lambdabench.emulator.sandbox_process import Clock, Process, SpawnedLauncher, Started, spawn

PROVIDED_RUNTIMES = ("provided.al2023", "provided.al2")
INVALID_ENTRYPOINT = "Runtime.InvalidEntrypoint"

# Posts argv[1] (a JSON error) as the runtime's init error, type argv[2]; stdlib only, no site.
_REPORTER = (
    "import http.client, os, sys\n"
    "host, _, port = os.environ['AWS_LAMBDA_RUNTIME_API'].rpartition(':')\n"
    "c = http.client.HTTPConnection(host.strip('[]'), int(port), timeout=30)\n"
    "c.request('POST', '/2018-06-01/runtime/init/error', body=sys.argv[1].encode(),\n"
    "          headers={'Lambda-Runtime-Function-Error-Type': sys.argv[2], 'Content-Type': 'application/json'})\n"
    "c.getresponse().read()\n"
)


def entrypoint_problem(code_dir: str) -> str | None:
    """Why Lambda could not execute the bootstrap of `code_dir` (its own wording), or None."""
    bootstrap = Path(code_dir) / "bootstrap"
    if not bootstrap.is_file():
        return f"Couldn't find valid bootstrap(s): [{bootstrap} /opt/bootstrap]"
    if not os.access(bootstrap, os.X_OK):
        return f"fork/exec {bootstrap}: permission denied"
    return None


class ProvidedLauncher(SpawnedLauncher):
    """Custom runtimes: the bootstrap is spawned (nothing to prepare: it is the function's own program)."""

    spawn_reason = "custom runtimes start their own bootstrap"

    def start(self, spec: Any, env: Mapping[str, str], resources: Any, prepared: Process | None,
              clock: Clock) -> Started:
        problem = entrypoint_problem(spec.code_dir)
        if problem is None:
            argv = [str(Path(spec.code_dir) / "bootstrap")]
        else:
            error = json.dumps({"errorType": INVALID_ENTRYPOINT, "errorMessage": f"RequestId:  Error: {problem}"})
            argv = [sys.executable, "-S", "-I", "-c", _REPORTER, error, INVALID_ENTRYPOINT]
        return spawn(argv, cwd=spec.code_dir, env=env, resources=resources, clock=clock)
