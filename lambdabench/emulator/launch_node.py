"""How a Node.js sandbox (`nodejs20.x`, `nodejs22.x`, `nodejs24.x`) starts: the machine's `node` runs
AWS's runtime interface client (npm `aws-lambda-ric`) when one that serves the function's runtime is
installed, else the built-in client `node_runtime.mjs` shipped beside this module; both talk to the
sandbox's Runtime API.

Which aws-lambda-ric serves which runtime is Lambda's own split: 4.x is the Node.js 24 client (it fails
INIT for a callback handler with Runtime.CallbackHandlerDeprecated, as Lambda's nodejs24.x does), 3.x
the client of nodejs20.x and nodejs22.x (callback handlers, `callbackWaitsForEmptyEventLoop`). A runtime
no installed client serves runs on the built-in one, which keeps the same split.

Where the clients are looked for (`RIC_ENV`, from the host environment the emulator was given): when
LAMBDABENCH_NODE_RIC is set, only in its entries (os.pathsep-separated; each a `node_modules` folder, a
folder holding one, an npm prefix, or an aws-lambda-ric package itself; empty: nowhere, the built-in
client runs everything); else in `<python prefix>/node_modules` (`npm install --prefix .venv
aws-lambda-ric@3`, the project-local install `.ci/run` makes), then in node's global packages. A
folder may hold several versions under npm aliases (`aws-lambda-ric-4@npm:aws-lambda-ric@4`).

`node` is looked up on the PATH of the host environment. Its version is read once; a function whose
runtime names another major version still runs on it, with a warning in the emulator's info (the
version that runs is stated there too). The V8 heap is sized from the function's memory as Lambda's
Node.js bootstrap sizes it, so a heap that outgrows it fails as it would there.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambdabench.emulator.sandbox_process import Clock, Process, SpawnedLauncher, Started, spawn

NODE_RUNTIMES = ("nodejs20.x", "nodejs22.x", "nodejs24.x")
BUILTIN_CLIENT = Path(__file__).with_name("node_runtime.mjs")
RIC_ENV = "LAMBDABENCH_NODE_RIC"
RIC_PACKAGE = "aws-lambda-ric"
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


def runtime_major(runtime: str) -> int | None:
    """24 for "nodejs24.x"."""
    match = re.fullmatch(r"nodejs(\d+)\.x", runtime)
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class RuntimeClient:
    """One installed aws-lambda-ric: its package folder, the script its `bin` names, its version."""

    package: Path
    entry: Path
    version: str

    @property
    def major(self) -> int:
        match = re.match(r"(\d+)", self.version)
        return int(match.group(1)) if match else 0

    def serves(self, runtime: str) -> bool:
        """Whether Lambda runs `runtime` on this client's major version (4.x: Node.js 24 and later;
        3.x: Node.js 20 and 22, the runtimes with callback handlers)."""
        major = runtime_major(runtime)
        if major is None:
            return False
        return self.major >= 4 if major >= 24 else self.major == 3

    def describe(self) -> str:
        return f"{RIC_PACKAGE} {self.version} ({self.package})"


def _client_at(package: Path) -> RuntimeClient | None:
    try:
        meta = json.loads((package / "package.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("name") != RIC_PACKAGE:
        return None
    bin_field = meta.get("bin")
    entry = next(iter(bin_field.values()), None) if isinstance(bin_field, dict) else bin_field
    if not isinstance(entry, str) or not (package / entry).is_file():
        return None
    # Its native Runtime API client, built at install: a package whose build failed (or has not ended
    # yet) cannot run a function.
    if not any((package / folder / "rapid-client.node").is_file() for folder in ("", "dist", "build/Release")):
        return None
    return RuntimeClient(package=package, entry=package / entry, version=str(meta.get("version", "?")))


def _packages_in(folder: Path) -> Iterator[Path]:
    """The package folders an entry of RIC_ENV (or a default place) may name: the folder itself, the
    aws-lambda-ric* packages of it as a node_modules folder, of its node_modules, of its lib/node_modules."""
    yield folder
    for modules in (folder, folder / "node_modules", folder / "lib" / "node_modules"):
        try:
            names = sorted(p.name for p in modules.iterdir() if p.name.startswith(RIC_PACKAGE))
        except OSError:
            continue
        yield from (modules / name for name in names)


def ric_places(node: str, host_environment: Mapping[str, str]) -> list[Path]:
    """Where aws-lambda-ric is looked for, first first (see the module's docstring)."""
    if RIC_ENV in host_environment:
        return [Path(entry).absolute() for entry in host_environment[RIC_ENV].split(os.pathsep) if entry]
    node_prefix = Path(os.path.realpath(node)).parent.parent
    places = [Path(sys.prefix) / "node_modules", node_prefix / "lib" / "node_modules",
              Path("/usr/local/lib/node_modules"), Path("/usr/lib/node_modules")]
    return list(dict.fromkeys(places))


def find_runtime_clients(node: str, host_environment: Mapping[str, str]) -> list[RuntimeClient]:
    """Every installed aws-lambda-ric, in the order of `ric_places` (the first that serves a runtime
    runs it)."""
    found: dict[Path, RuntimeClient] = {}
    for place in ric_places(node, host_environment):
        for package in _packages_in(place):
            client = _client_at(package)
            if client is not None:
                found.setdefault(client.package.resolve(), client)
    return list(found.values())


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
        self.runtime_clients = find_runtime_clients(self.node, self._host_environment) if self.node else []
        self._mismatches: dict[str, str] = {}

    def client_for(self, runtime: str) -> RuntimeClient | None:
        """The aws-lambda-ric that runs `runtime`'s functions, None for the built-in client."""
        return next((client for client in self.runtime_clients if client.serves(runtime)), None)

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
        clients: dict[str, list[str]] = {}
        for runtime in NODE_RUNTIMES:
            client = self.client_for(runtime)
            clients.setdefault(client.describe() if client else "the built-in client", []).append(runtime)
        named = "; ".join(f"{name} for {', '.join(runtimes)}" for name, runtimes in clients.items())
        return f"Node.js {self.version} ({self.node}); runtime client: {named}"

    def start(self, spec: Any, env: Mapping[str, str], resources: Any, prepared: Process | None,
              clock: Clock) -> Started:
        problem = self.problem
        if problem is not None:
            raise NodeMissing(problem)
        asked = runtime_major(spec.runtime)
        running = int(self.version.lstrip("v").split(".", 1)[0])
        if asked is not None and asked != running and spec.runtime not in self._mismatches:
            self._mismatches[spec.runtime] = (f"{spec.runtime} functions run on Node.js {self.version} "
                                              f"({self.node}), not Node.js {asked}")
        client = self.client_for(spec.runtime)
        # aws-lambda-ric 3.x takes the handler as its argument (4.x and the built-in client read _HANDLER).
        argv = [self.node, *heap_arguments(spec.memory_mb), str(client.entry if client else BUILTIN_CLIENT),
                spec.handler]
        return spawn(argv, cwd=spec.code_dir, env=env, resources=resources, clock=clock)
