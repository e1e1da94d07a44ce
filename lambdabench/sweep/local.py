"""The local target: start the emulator in-process, deploy the scenario's code, and clean up.

`local_function(scenario)` is a context manager: it starts `lambdabench.emulator.running(...)` on a
free loopback port, zips the scenario's code folder in memory, creates the function with the
scenario's [function] settings (Lambda's defaults for memory and timeout: 128 MB, 3 s, which become
the "original configuration"), waits until it is Active, and yields a `LocalTarget`. On exit it
deletes the function and stops the emulator (every sandbox process ended), also on errors and Ctrl-C.
The sweep itself then runs through the same boto3 driver as on AWS.
"""

from __future__ import annotations

import io
import json
import os
import urllib.request
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from lambdabench.errors import UsageError
from lambdabench.sweep.clients import Clients, call, make_clients

LOCAL_REGION = "us-east-1"
# Lambda's defaults for a function created without MemorySize/Timeout.
DEFAULT_MEMORY_MB = 128
DEFAULT_TIMEOUT_S = 3
# The emulator does not check roles; a well-formed ARN keeps boto3's parameter validation happy.
LOCAL_ROLE = "arn:aws:iam::000000000000:role/lambdabench-local"
# Files never worth shipping in a deployment package.
_SKIP_DIRS = {"__pycache__", ".git", ".venv", ".mypy_cache", ".pytest_cache"}


@dataclass(frozen=True)
class LocalTarget:
    clients: Clients
    endpoint_url: str
    function_name: str
    code_zip: bytes
    emulator_info: dict[str, Any]


def zip_directory(folder: Path) -> bytes:
    """The folder as a zip (paths relative to it, sorted, fixed timestamps so the bytes are stable)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"code folder {folder} does not exist",
                         "set [function] code in the scenario to the directory holding the handler")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for root, dirs, files in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
            for name in sorted(files):
                if name.endswith((".pyc", ".pyo")):
                    continue
                path = Path(root) / name
                info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = (0o644 if not os.access(path, os.X_OK) else 0o755) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def emulator_info(endpoint_url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{endpoint_url.rstrip('/')}/_lambdabench/info", timeout=10) as reply:  # noqa: S310
        return json.loads(reply.read().decode("utf-8"))


@contextmanager
def local_function(
    scenario: Any,
    *,
    keep_alive_s: float = 300,
    account_concurrency: int | None = None,
    cpu_limit: str = "auto",
    pool_size: int = 10,
    max_timeout_s: int = 900,
) -> Iterator[LocalTarget]:
    from lambdabench.emulator import running  # imported late: the emulator is heavy

    spec = scenario.function
    if spec.code is None:
        raise UsageError(f"{scenario.path}: [function] code is required for the local target",
                         "set code to the folder holding the handler, e.g. code = \"functions/cpu_hash\"")
    code_zip = zip_directory(spec.code)
    with running(host="127.0.0.1", port=0, keep_alive_s=keep_alive_s, account_concurrency=account_concurrency,
                 cpu_limit=cpu_limit) as endpoint:
        info = emulator_info(endpoint)
        clients = make_clients("local", region=scenario.target.region or LOCAL_REGION, endpoint_url=endpoint,
                               pool_size=pool_size, max_timeout_s=max_timeout_s)
        name = spec.name
        call(
            clients.control.create_function,
            FunctionName=name,
            Runtime=spec.runtime,
            Role=LOCAL_ROLE,
            Handler=spec.handler,
            Code={"ZipFile": code_zip},
            MemorySize=DEFAULT_MEMORY_MB,
            Timeout=DEFAULT_TIMEOUT_S,
            Environment={"Variables": dict(spec.environment)},
            EphemeralStorage={"Size": spec.ephemeral_storage_mb},
            Architectures=[spec.architecture],
            LoggingConfig={"LogFormat": spec.log_format},
            function=name,
            action="creating the function in the local emulator",
        )
        waiter = clients.control.get_waiter("function_active_v2")
        # A function that never becomes Active (failed INIT, timeout) is our RunError, not a traceback.
        call(waiter.wait, FunctionName=name, WaiterConfig={"Delay": 0.05, "MaxAttempts": 600}, function=name,
             action="waiting for the function to become active in the local emulator")
        try:
            yield LocalTarget(clients=clients, endpoint_url=endpoint, function_name=name, code_zip=code_zip,
                              emulator_info=info)
        finally:
            try:
                clients.control.delete_function(FunctionName=name)
            except Exception:  # noqa: BLE001 — the emulator is shut down next and forgets it anyway
                pass
