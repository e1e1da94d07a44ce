"""How a Node.js sandbox (`nodejs20.x`, `nodejs22.x`, `nodejs24.x`) starts: the machine's `node` runs
AWS's runtime interface client (npm `aws-lambda-ric`) when it is installed globally, else the built-in
client `node_runtime.mjs` shipped beside this module; both talk to the sandbox's Runtime API.

`node` is looked up on the PATH of the host environment the emulator was given. Its version is read
once; a function whose runtime names another major version still runs on it, with a warning in the
emulator's info (the version that runs is stated there too). The V8 heap is sized from the function's
memory as Lambda's Node.js bootstrap sizes it, so a heap that outgrows it fails as it would there.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lambdabench.emulator.sandbox_process import Clock, Process, SpawnedLauncher, Started, spawn

NODE_RUNTIMES = ("nodejs20.x", "nodejs22.x", "nodejs24.x")
BUILTIN_CLIENT = Path(__file__).with_name("node_runtime.mjs")
INSTALL_HINT = ("install Node.js (e.g. `apt-get install nodejs`, or a release from https://nodejs.org) so that "
                "`node` is on PATH")


def find_node(host_environment: Mapping[str, str]) -> str | None:
    return shutil.which("node", path=host_environment.get("PATH") or os.defpath)


def node_version(node: str) -> str | None:
    """`node --version` ("v20.20.2"), None when it does not answer like node."""
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return out if re.fullmatch(r"v\d+\.\d+\.\d+.*", out) else None


def find_aws_lambda_ric(node: str) -> Path | None:
    """The entry script of a globally installed aws-lambda-ric, None when there is none."""
    prefix = Path(os.path.realpath(node)).parent.parent
    for root in (prefix / "lib" / "node_modules", Path("/usr/local/lib/node_modules"), Path("/usr/lib/node_modules")):
        package = root / "aws-lambda-ric" / "package.json"
        try:
            bin_field = json.loads(package.read_text()).get("bin")
        except (OSError, ValueError):
            continue
        entry = next(iter(bin_field.values()), None) if isinstance(bin_field, dict) else bin_field
        if isinstance(entry, str) and (package.parent / entry).is_file():
            return package.parent / entry
    return None


def heap_arguments(memory_mb: int) -> list[str]:
    """V8's heap limits as Lambda's Node.js bootstrap derives them from the function's memory."""
    new_space = memory_mb // 10
    return [f"--max-semi-space-size={new_space // 2}", f"--max-old-space-size={memory_mb - new_space}"]


class NodeMissing(OSError):
    """No `node` to run a Node.js function with."""


class NodeLauncher(SpawnedLauncher):
    """Node.js runtimes: `node` with a runtime client, spawned (node has no fork server)."""

    spawn_reason = "Node.js sandboxes are spawned"

    def __init__(self, *, runtime_dir: Path, host_environment: Mapping[str, str]):
        super().__init__(runtime_dir=runtime_dir, host_environment=host_environment)
        self.node = find_node(self._host_environment)
        self.version = node_version(self.node) if self.node else None
        ric = find_aws_lambda_ric(self.node) if self.node else None
        self.client = "aws-lambda-ric" if ric is not None else "builtin"
        self._client_path = str(ric if ric is not None else BUILTIN_CLIENT)
        self._mismatches: dict[str, str] = {}

    @property
    def problem(self) -> str | None:
        """Why Node.js functions cannot run here, None when they can."""
        if self.node is None:
            return f"Node.js functions need `node`, which is not on this machine's PATH: {INSTALL_HINT}."
        if self.version is None:
            return f"{self.node} does not answer `--version` like Node.js: {INSTALL_HINT}."
        return None

    @property
    def warnings(self) -> list[str]:
        """The runtimes asked for that another Node.js version runs."""
        return list(self._mismatches.values())

    def description(self) -> str | None:
        if self.problem is not None:
            return None
        return f"Node.js {self.version} ({self.node}) with the {self.client} runtime client"

    def start(self, spec: Any, env: Mapping[str, str], resources: Any, prepared: Process | None,
              clock: Clock) -> Started:
        problem = self.problem
        if problem is not None:
            raise NodeMissing(problem)
        asked = re.fullmatch(r"nodejs(\d+)\.x", spec.runtime)
        running = self.version.lstrip("v").split(".", 1)[0]
        if asked and asked.group(1) != running and spec.runtime not in self._mismatches:
            self._mismatches[spec.runtime] = (f"{spec.runtime} functions run on Node.js {self.version} "
                                              f"({self.node}), not Node.js {asked.group(1)}")
        argv = [self.node, *heap_arguments(spec.memory_mb), self._client_path, spec.handler]
        return spawn(argv, cwd=spec.code_dir, env=env, resources=resources, clock=clock)
