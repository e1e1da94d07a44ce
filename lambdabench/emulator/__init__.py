"""The built-in local Lambda emulator: Lambda and CloudWatch Logs APIs on one loopback port, real
execution environments (one runtime process per sandbox), Lambda's lifecycle, limits and logs.

In-process use (the sweep's local target, tests):

    with lambdabench.emulator.running() as endpoint:      # "http://127.0.0.1:40123"
        client = boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1", ...)

Standalone (`lambdabench serve`): `Emulator(...).start()` → endpoint, `.stop()` on Ctrl-C/SIGTERM.
On exit every sandbox process has ended, every cgroup/throttle is released, the temp dir is removed.

Knobs for tests of production safety (see `stores.Lifecycle`, `code_url`):
- `Emulator(pending_s=2)` or `emulator.pending_s = 2`: functions created from then on stay
  `State: Pending` that long, and invoking one answers ResourceConflictException;
- `emulator.make_inactive(name, region)`: the function reads `State: Inactive`; its next invoke fails and
  starts restoring it (Pending, StateReasonCode Restoring, for `pending_s`; then Active);
- `Emulator(clock=...)`: the wall clock of GetFunction's presigned `Code.Location` (valid 600 s); a
  test's own clock moved past that makes the URL answer 403 AccessDenied "Request has expired".

`GET {endpoint}/_lambdabench/info` answers a JSON object describing what this emulator does here, so a
sweep can record it with its results:

    emulator_version     lambdabench's version
    cpu_mechanism        "cgroup-v1" | "cgroup-v2" | "duty-cycle" | "none"   (resources.ResourceManager)
    memory_mechanism     "cgroup-v1" | "cgroup-v2" | "rlimit-as" | "none"
    host_cores           CPUs of this host
    cpu_period_ms        the CPU quota's period (Lambda's 20 ms)
    warnings             list of strings (e.g. memory sizes whose CPU share exceeds the host's cores)
    keep_alive_s         idle seconds before a sandbox is reaped
    account_concurrency  concurrent invocations allowed per region
    runtime_client       "awslambdaric" (the official client) or "builtin" (bootstrap.py)
    sandbox_start        "fork" (from a prepared interpreter: Init Duration leaves out starting Python)
                         or "spawn" (each sandbox started from nothing); see forkserver.py
    unreserved_concurrency_min   what PutFunctionConcurrency must leave unreserved
    pending_s            seconds a new function stays `State: Pending`
    (plus any other key ResourceManager.info() reports)
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from lambdabench.emulator.resources import CPU_LIMIT_CHOICES
from lambdabench.errors import UsageError


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Emulator:
    """The emulator's parts wired together; `start()` serves in a background thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, keep_alive_s: float = 300,
                 account_concurrency: int | None = None, cpu_limit: str = "auto", allow_remote: bool = False,
                 *, runtime_client: str = "auto", settle_s: float = 0.0, memory_limit: str = "auto",
                 sandbox_start: str = "auto", host_environment: Mapping[str, str] | None = None,
                 pending_s: float = 0.0, clock: Callable[[], float] = time.time):
        if not is_loopback(host) and not allow_remote:
            raise UsageError(f"Refusing to serve the emulator on non-loopback host {host!r}: it runs any code "
                             "it is sent, without authentication.",
                             "Use --host 127.0.0.1, or pass --allow-remote if this network is trusted.")
        if not isinstance(port, int) or not 0 <= port <= 65535:
            raise UsageError(f"Port {port!r} is not a TCP port.", "Use a port between 1 and 65535 (0 picks a free one).")
        if not keep_alive_s or keep_alive_s <= 0:
            raise UsageError(f"Keep-alive must be positive seconds, not {keep_alive_s!r}.",
                             "Use e.g. --keep-alive-s 300 (Lambda keeps idle environments about 5 minutes).")
        if account_concurrency is not None and (not isinstance(account_concurrency, int) or account_concurrency < 1):
            raise UsageError(f"Account concurrency must be a positive integer, not {account_concurrency!r}.",
                             "Use e.g. --account-concurrency 8, or leave it out for the host-sized default.")
        if cpu_limit not in CPU_LIMIT_CHOICES:
            raise UsageError(f"Unknown CPU limit {cpu_limit!r}.", f"Use one of: {', '.join(CPU_LIMIT_CHOICES)}.")
        if not isinstance(pending_s, (int, float)) or pending_s < 0:
            raise UsageError(f"Pending delay must be zero or positive seconds, not {pending_s!r}.",
                             "Use e.g. pending_s=2 (new functions stay Pending that long), or 0.")
        if runtime_client not in ("auto", "awslambdaric", "builtin"):
            raise UsageError(f"Unknown runtime client {runtime_client!r}.", "Use auto, awslambdaric or builtin.")
        from lambdabench.emulator.forkserver import supported as forking_supported
        from lambdabench.emulator.sandbox_process import SANDBOX_START_CHOICES

        if sandbox_start not in SANDBOX_START_CHOICES:
            raise UsageError(f"Unknown sandbox start {sandbox_start!r}.", "Use auto, fork or spawn.")
        if sandbox_start == "fork" and not forking_supported():
            raise UsageError("Forking sandboxes from a prepared interpreter runs on Linux only.",
                             "Use --sandbox-start spawn (or auto).")
        from lambdabench.emulator.backend import default_account_concurrency

        self.host = host
        self.port = port
        self.keep_alive_s = keep_alive_s
        self.account_concurrency = account_concurrency or default_account_concurrency()
        self.cpu_limit = cpu_limit
        self.memory_limit = memory_limit
        self.runtime_client = runtime_client
        self.sandbox_start = sandbox_start
        # The host variables sandboxes may take their allowlisted tuning knobs from
        # (sandbox_process.HOST_ENV_ALLOWLIST). This entry point decides: what it is given, else the
        # environment of the process that runs the emulator, as of now.
        self.host_environment = dict(os.environ if host_environment is None else host_environment)
        self.settle_s = settle_s
        from lambdabench.emulator.stores import Lifecycle

        self.lifecycle = Lifecycle(pending_s)
        self.clock = clock
        self.code_links = None
        self.endpoint: str | None = None
        self._lock = threading.Lock()
        self._backends: dict[str, Any] = {}
        self._log_stores: dict[str, Any] = {}
        self._server = None
        self._thread: threading.Thread | None = None
        self._tmp: Path | None = None
        self.resources = None
        self.pool = None
        self.code_store = None

    # ----- lifecycle ---------------------------------------------------------------------------
    def start(self) -> str:
        from lambdabench.emulator.backend import CodeStore
        from lambdabench.emulator.code_url import CodeLinks
        from lambdabench.emulator.resources import ResourceManager
        from lambdabench.emulator.sandbox_pool import SandboxPool
        from lambdabench.emulator.server import Server

        self._tmp = Path(tempfile.mkdtemp(prefix="lambdabench-emulator-"))
        try:
            self.resources = ResourceManager(cpu_limit=self.cpu_limit, memory_limit=self.memory_limit)
            self.pool = SandboxPool(root_dir=self._tmp / "sandboxes", resources=self.resources,
                                    log_store_for=self.log_store, keep_alive_s=self.keep_alive_s,
                                    runtime_client=self.runtime_client, sandbox_start=self.sandbox_start,
                                    host_environment=self.host_environment)
            self.code_store = CodeStore(self._tmp / "code")
            self.code_links = CodeLinks(self.code_store.zip_path, clock=self.clock)
            try:
                self._server = Server(self.host, self.port, self)
            except OSError as exc:
                raise UsageError(f"Cannot listen on {self.host}:{self.port}: {exc.strerror or exc}.",
                                 "Pick another --port (or 0 for a free one).") from None
        except BaseException:
            self.stop()
            raise
        port = self._server.server_address[1]
        shown_host = f"[{self.host}]" if ":" in self.host else self.host
        self.endpoint = f"http://{shown_host}:{port}"
        self.code_links.endpoint = self.endpoint
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="lambdabench-emulator", daemon=True)
        self._thread.start()
        return self.endpoint

    def stop(self) -> None:
        """Stop serving, end every sandbox, release every resource, remove the temp dir. Idempotent."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
            server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self.pool is not None:
            self.pool.close()
        if self.resources is not None:
            self.resources.close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> "Emulator":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ----- what the HTTP layer asks for ----------------------------------------------------------
    def log_store(self, region: str):
        with self._lock:
            store = self._log_stores.get(region)
            if store is None:
                from lambdabench.emulator.logstore import LogStore
                store = self._log_stores[region] = LogStore(region=region)
            return store

    def backend(self, region: str):
        with self._lock:
            backend = self._backends.get(region)
            if backend is None:
                from lambdabench.emulator.backend import Backend
                from lambdabench.emulator.stores import Stores
                backend = self._backends[region] = Backend(
                    region=region, pool=self.pool, code_store=self.code_store,
                    account_limit=self.account_concurrency, settle_s=self.settle_s,
                    stores=Stores(region=region, lifecycle=self.lifecycle, code_links=self.code_links))
        return backend

    # ----- what tests set ---------------------------------------------------------------------
    @property
    def pending_s(self) -> float:
        """Seconds a function created from now on stays `State: Pending` (invokes of it are refused)."""
        return self.lifecycle.pending_s

    @pending_s.setter
    def pending_s(self, seconds: float) -> None:
        if not isinstance(seconds, (int, float)) or seconds < 0:
            raise ValueError(f"pending_s must be zero or positive seconds, not {seconds!r}")
        self.lifecycle.pending_s = seconds

    def make_inactive(self, function_name: str, region: str = "us-east-1") -> None:
        """Put a function in `State: Inactive`, as Lambda does with one idle for weeks: reads say so, the
        next invoke fails with ResourceConflictException and starts restoring it (Pending for
        `pending_s`, then Active). An unknown function raises the emulator's ResourceNotFound."""
        name, _ = self.backend(region).locate(function_name)
        self.lifecycle.make_inactive(region, name)

    def info(self) -> dict[str, Any]:
        from lambdabench import __version__
        from lambdabench.emulator.backend import unreserved_minimum

        doc: dict[str, Any] = dict(self.resources.info()) if self.resources is not None else {}
        doc.setdefault("warnings", [])
        failure = self.pool.forking_failure if self.pool is not None else None
        if failure:
            doc["warnings"] = [*doc["warnings"], f"sandboxes are spawned, not forked, from now on: {failure}"]
        if self.pool is not None:
            runtimes, warnings = self.pool.runtime_notes()
            doc["warnings"] = [*doc["warnings"], *warnings]
            doc["runtimes"] = runtimes
        doc.update({
            "emulator_version": __version__,
            "keep_alive_s": self.keep_alive_s,
            "account_concurrency": self.account_concurrency,
            "runtime_client": self.pool.runtime_client if self.pool is not None else None,
            "sandbox_start": self.pool.sandbox_start if self.pool is not None else None,
            "unreserved_concurrency_min": unreserved_minimum(self.account_concurrency),
            "pending_s": self.lifecycle.pending_s,
        })
        return doc

    def sandbox_pids(self) -> list[int]:
        """Pids of the live sandbox processes (for tests and `serve` diagnostics)."""
        return self.pool.pids() if self.pool is not None else []


@contextlib.contextmanager
def running(host: str = "127.0.0.1", port: int = 0, keep_alive_s: float = 300,
            account_concurrency: int | None = None, cpu_limit: str = "auto",
            allow_remote: bool = False, **options: Any) -> Iterator[str]:
    """Run the emulator for the duration of a `with` block; yields its endpoint URL."""
    emulator = Emulator(host, port, keep_alive_s, account_concurrency, cpu_limit, allow_remote, **options)
    endpoint = emulator.start()
    try:
        yield endpoint
    finally:
        emulator.stop()


__all__ = ["Emulator", "running", "is_loopback"]
