"""Setup and teardown hooks ([hooks] in a scenario): running one, what it is given, what a failure says.

A hook is a Lambda function (invoked RequestResponse through the target's Invoke client: on the aws
target the same account and region, or the --endpoint-url) or a command (an argv list, no shell, run in
the scenario file's folder, in a session of its own so a timeout ends its children too). Either gets
one JSON document (the Invoke payload, or the command's stdin):

    {"hook": "before_each", "scenario": {"name": ..., "path": ...}, "function": <the function measured>,
     "config": {"memory_mb": ..., "timeout_s": ..., "architecture": ...},
     "invocation": {"invocation_id": ..., "scenario": "warm", "wave": null, "warmup": false,
                    "payload_label": ...},           # before_each / after_each only
     "payload": <the event the invocation sends>,   # before_each / after_each only
     "record": {"type": "invocation", ...}}          # after_each only: its results.jsonl line

A hook succeeds when the command exits 0 / the function answers without FunctionError, within its
`timeout_s`. Anything else raises `HookFailed` (a RunError, exit 1) naming the hook, what it ran, why,
and the tail of its output; its `fields` are what the driver records as a `hook_failed` event. A
hook's output is not used otherwise (it never changes the payload). Nothing here is retried: a
throttled or failed hook invoke is a failure.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Callable

import botocore.exceptions

from lambdabench.errors import RunError
from lambdabench.logs import decode_log_result
from lambdabench.records import ConfigPoint, InvocationRecord
from lambdabench.scenario import HookSpec, HooksSpec

# How much of a failed hook's output the message and the hook_failed event keep.
OUTPUT_TAIL_CHARS = 2000


class HookFailed(RunError):
    """A hook exited non-zero, timed out, or its function failed: the sweep stops (exit 1)."""

    def __init__(self, message: str, hint: str, fields: dict[str, Any]):
        super().__init__(message, hint)
        self.fields = fields


def describe_hook(spec: HookSpec) -> str:
    """How a hook reads in messages and the confirmation: `function my-setup` or `command python3 x.py`."""
    if spec.function is not None:
        return f"function {spec.function}"
    return "command " + " ".join(_quote(a) for a in spec.command or ())


def _quote(arg: str) -> str:
    return json.dumps(arg) if (not arg or any(c.isspace() or c in "\"'\\" for c in arg)) else arg


def describe(hooks: HooksSpec | None) -> list[str]:
    """The --dry-run and confirmation lines for the hooks (none without [hooks])."""
    if hooks is None:
        return []
    when = {"before_config": "after each configuration change, before its first invocation",
            "before_each": "before each invocation (a burst: for each one, before the wave is released)",
            "after_each": "after each invocation, with its record (a burst: after the wave)",
            "after_config": "after a configuration's last invocation, before the next change"}
    lines = ["hooks (their time is never part of a measured invocation; a failing hook stops the sweep):"]
    lines += [f"  {name}: {describe_hook(spec)} (timeout {spec.timeout_s:g} s), {when[name]}"
              for name, spec in hooks.items()]
    return lines


class HookRunner:
    """Runs a scenario's hooks. `invoke_client` is the target's Lambda Invoke client (retries off)."""

    def __init__(self, hooks: HooksSpec, *, invoke_client: Any, base_dir: Path, scenario_name: str,
                 scenario_path: str, clock: Callable[[], float] = time.perf_counter):
        self.hooks = hooks
        self.client = invoke_client
        self.base_dir = Path(base_dir)
        self.scenario = {"name": scenario_name, "path": scenario_path}
        self.clock = clock

    def has(self, name: str) -> bool:
        return getattr(self.hooks, name) is not None

    # -- documents --------------------------------------------------------------------------------
    def config_document(self, name: str, point: ConfigPoint, function: str) -> dict[str, Any]:
        return {"hook": name, "scenario": self.scenario, "function": function, "config": point.to_dict()}

    def invocation_document(self, name: str, *, point: ConfigPoint, function: str, invocation_id: str,
                            scenario: str, wave: int | None, warmup: bool, payload_label: str, payload: bytes,
                            record: InvocationRecord | None = None) -> dict[str, Any]:
        doc = self.config_document(name, point, function)
        doc["invocation"] = {"invocation_id": invocation_id, "scenario": scenario, "wave": wave,
                             "warmup": warmup, "payload_label": payload_label}
        doc["payload"] = json.loads(payload)  # the loader checked every payload is JSON
        if record is not None:
            doc["record"] = {"type": "invocation", **record.to_json()}
        return doc

    # -- running ----------------------------------------------------------------------------------
    def run(self, name: str, document: dict[str, Any]) -> float:
        """Run hook `name` with `document`; returns its duration in ms. Raises HookFailed."""
        spec: HookSpec = getattr(self.hooks, name)
        body = json.dumps(document, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8")
        start = self.clock()
        if spec.function is not None:
            problem, output, exit_status = self._invoke(spec, body)
        else:
            problem, output, exit_status = self._command(spec, body)
        duration_ms = (self.clock() - start) * 1000.0
        if problem is None:
            return duration_ms
        tail = _tail(output)
        what = describe_hook(spec)
        fields = {"hook": name, "run": what, "config": (document.get("config") or {}),
                  "invocation_id": (document.get("invocation") or {}).get("invocation_id"),
                  "problem": problem, "exit_status": exit_status, "duration_ms": round(duration_ms, 3),
                  "output_tail": tail}
        message = f"hook {name} ({what}) failed: {problem}"
        if fields["invocation_id"]:
            message += f" [{'after' if name == 'after_each' else 'before'} {fields['invocation_id']}]"
        message += "\n    output (last lines):\n      " + ("\n      ".join(tail.splitlines()) if tail.strip()
                                                         else "(none)")
        resume = f"`lambdabench sweep {self.scenario['path']} --resume <output folder>`"
        hint = (f"fix the hook (it reads one JSON document on stdin: README, [hooks]), then finish with {resume}"
                if spec.command else
                f"fix the hook function or its name in [hooks] (a FunctionError's details are in the function's "
                f"log group), then finish with {resume}")
        raise HookFailed(message, hint, fields)

    def _command(self, spec: HookSpec, body: bytes) -> tuple[str | None, str, int | None]:
        argv = list(spec.command or ())
        try:
            process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, cwd=self.base_dir, start_new_session=True)
        except OSError as exc:
            return f"cannot start {argv[0]}: {exc.strerror or exc}", "", None
        try:
            output, _ = process.communicate(body, timeout=spec.timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            output, _ = process.communicate()
            return f"timed out after {spec.timeout_s:g} s (killed)", _text(output), None
        except BaseException:  # Ctrl-C / SIGTERM while the hook runs: end it and its children, then go on
            _kill_group(process)
            process.wait()
            raise
        if process.returncode != 0:
            status = process.returncode
            why = f"killed by signal {-status}" if status < 0 else f"exit status {status}"
            return why, _text(output), status
        return None, "", 0

    def _invoke(self, spec: HookSpec, body: bytes) -> tuple[str | None, str, int | None]:
        outcome: dict[str, Any] = {}

        def work() -> None:
            try:
                response = self.client.invoke(FunctionName=spec.function, InvocationType="RequestResponse",
                                              LogType="Tail", Payload=body)
                outcome["payload"] = response["Payload"].read()
                outcome["response"] = response
            except BaseException as exc:  # noqa: BLE001 — carried to the sweep's thread and reported there
                outcome["error"] = exc

        # A thread, so timeout_s holds whatever the client's read timeout; daemon: a hung call cannot
        # keep the process alive once the sweep has stopped.
        worker = threading.Thread(target=work, name="lambdabench-hook", daemon=True)
        worker.start()
        worker.join(spec.timeout_s)
        if worker.is_alive():
            return f"timed out after {spec.timeout_s:g} s (no answer from Invoke)", "", None
        error = outcome.get("error")
        if isinstance(error, botocore.exceptions.ClientError):
            code = error.response.get("Error", {}).get("Code") or "Unknown"
            return f"Invoke answered {code}: {error.response.get('Error', {}).get('Message') or error}", "", None
        if isinstance(error, botocore.exceptions.BotoCoreError):
            return f"Invoke failed: {error}", "", None
        if error is not None:
            raise error
        response = outcome["response"]
        function_error = response.get("FunctionError")
        if not function_error:
            return None, "", None
        log = ""
        if response.get("LogResult"):
            try:
                log = decode_log_result(response["LogResult"])
            except ValueError:
                log = ""
        payload = _text(outcome.get("payload") or b"")
        return f"FunctionError {function_error}", (payload + "\n" + log).strip(), None


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _text(output: bytes | None) -> str:
    return (output or b"").decode("utf-8", errors="replace")


def _tail(text: str) -> str:
    text = text.rstrip()
    return text if len(text) <= OUTPUT_TAIL_CHARS else "..." + text[-OUTPUT_TAIL_CHARS:]


__all__ = ["HookFailed", "HookRunner", "describe", "describe_hook"]
