"""What a sandbox writes to CloudWatch Logs and answers for the platform: the platform's lines (INIT_START,
START, END, REPORT, INIT_REPORT, the timeout line, or their JSON `platform.*` records when LogFormat is
JSON), the runtime's own output as log events, and the error payloads the platform answers with
when the runtime did not (timeout, a dead runtime, a failed INIT).

Payloads, as Lambda's current ones:
  timeout       {"errorType": "Sandbox.Timedout", "errorMessage": "RequestId: <id> Error: Task timed out
                after N.NN seconds"}
  dead runtime  {"errorType": "Runtime.ExitError" | "Runtime.OutOfMemory", "errorMessage": "RequestId:
                <id> Error: Runtime exited with error: exit status N | signal: killed"}
"""

from __future__ import annotations

import base64
import errno
import hashlib
import json
import os
import signal
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from lambdabench import limits, logs
from lambdabench.logs import Report

LOG_TAIL_BYTES = limits.LOG_RESULT_TAIL_BYTES

# A log event: (epoch ms, message).
Event = tuple[int, str]


def hundredths(ms: float) -> int:
    return int(round(ms * 100))


def billed_duration_ms(duration_ms: float, init_duration_ms: float | None) -> int:
    """Today's rule: ceil(Duration + Init Duration) on a cold start, ceil(Duration) warm; at least 1 ms.
    Computed on the two-decimal values the REPORT line shows, in integer hundredths (no float error)."""
    total = hundredths(duration_ms) + (hundredths(init_duration_ms) if init_duration_ms is not None else 0)
    return max(1, -(-total // 100))


def log_tail(text: str) -> str:
    """base64 of the last 4 KB of an invocation's log (Invoke's X-Amz-Log-Result)."""
    data = text.encode("utf-8")[-LOG_TAIL_BYTES:]
    return base64.b64encode(data).decode("ascii")


def exit_text(returncode: int | None) -> str:
    """A process's end as Lambda's Go runtime host words it: "exit status 3", "signal: killed",
    "signal: terminated", "signal: segmentation fault"."""
    if returncode is not None and returncode < 0:
        try:
            name = (signal.strsignal(-returncode) or "").lower()
        except ValueError:
            name = ""
        return f"signal: {name or f'signal {-returncode}'}"
    return f"exit status {returncode}"


def exit_error(request_id: str, returncode: int | None, oom: bool) -> tuple[str, bytes]:
    """(error type, payload) of a runtime that died: Runtime.OutOfMemory when the memory limit killed
    it, else Runtime.ExitError. During INIT there is no request yet: `request_id` is ""."""
    error_type = "Runtime.OutOfMemory" if oom else "Runtime.ExitError"
    payload = json.dumps({
        "errorType": error_type,
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: {exit_text(returncode)}",
    }).encode()
    return error_type, payload


def timeout_payload(request_id: str, timeout_s: int) -> bytes:
    return json.dumps({
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {request_id} Error: Task timed out after {timeout_s:.2f} seconds",
    }).encode()


def init_timeout_payload(init_timeout_s: float) -> bytes:
    return json.dumps({"errorType": "Sandbox.Timedout",
                       "errorMessage": f"INIT phase timed out after {init_timeout_s:.2f} seconds"}).encode()


def _runtime_version(runtime: str) -> tuple[str, str]:
    """INIT_START's runtime version and ARN. Real ones name an AWS build; ours say they are emulated."""
    name = runtime.replace("python", "python:", 1) if runtime.startswith("python") else runtime
    digest = hashlib.sha256(f"lambdabench-emulator:{runtime}".encode()).hexdigest()
    return f"{name}.lambdabench", f"arn:aws:lambda:us-east-1::runtime:{digest}"


def _dt(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=timezone.utc)


class PlatformLog:
    """The platform's lines for one function version, in its LogFormat (Text lines or JSON records)."""

    def __init__(self, *, runtime: str, function_name: str, version: str, log_format: str):
        self._runtime = runtime
        self._function_name = function_name
        self._version = version
        self._json = log_format == "JSON"

    def init_start(self, when_ms: int) -> list[Event]:
        version, arn = _runtime_version(self._runtime)
        if self._json:
            record = {"initializationType": "on-demand", "phase": "init", "runtimeVersion": version,
                      "runtimeVersionArn": arn, "functionName": self._function_name,
                      "functionVersion": self._version}
            return [(when_ms, logs.format_platform_record("platform.initStart", _dt(when_ms), record))]
        return [(when_ms, logs.format_init_start(version, arn))]

    def init_report(self, duration_ms: float, status: str, error_type: str | None, when_ms: int) -> Event:
        """INIT_REPORT of a failed INIT (status "error" with its type, or "timeout")."""
        if self._json:
            record: dict[str, Any] = {"initializationType": "on-demand", "phase": "init", "status": status,
                                      "metrics": {"durationMs": duration_ms}}
            if status == "error":
                record["errorType"] = error_type
            return when_ms, logs.format_platform_record("platform.initReport", _dt(when_ms), record)
        return when_ms, logs.format_init_report(duration_ms, "init", status,
                                                error_type if status == "error" else None)

    def start(self, request_id: str, when_ms: int) -> Event:
        if self._json:
            return when_ms, logs.format_platform_start(request_id, self._version, _dt(when_ms))
        return when_ms, logs.format_start(request_id, self._version)

    def timed_out(self, request_id: str, timeout_s: int, when_ms: int) -> list[Event]:
        """The `Task timed out after N.NN seconds` line (JSON logs carry the status in runtimeDone)."""
        if self._json:
            return []
        return [(when_ms, logs.format_timeout(request_id, float(timeout_s), _dt(when_ms)))]

    def end(self, request_id: str, report: Report, when_ms: int, function_error: str | None,
            reported_type: str | None) -> list[Event]:
        """END and REPORT (runtimeDone and report records). `reported_type`: the error type the
        runtime posted with its error, if any."""
        if self._json:
            done: dict[str, Any] = {"requestId": request_id,
                                    "status": "error" if function_error and report.status == "success"
                                    else report.status,
                                    "metrics": {"durationMs": report.duration_ms}}
            if report.error_type:
                done["errorType"] = report.error_type
            elif function_error and reported_type:
                done["errorType"] = reported_type
            return [(when_ms, logs.format_platform_record("platform.runtimeDone", _dt(when_ms), done)),
                    (when_ms, logs.format_platform_report(report, _dt(when_ms)))]
        return [(when_ms, logs.format_end(request_id)), (when_ms, logs.format_report(report))]


def as_messages(events: list[Event]) -> list[Event]:
    """Lambda ends every CloudWatch message from the platform and the runtime with a newline."""
    return [(ts, msg if msg.endswith("\n") else msg + "\n") for ts, msg in events]


class RuntimeOutput:
    """The runtime's stdout+stderr (one non-blocking pipe) as log events: complete lines stamped when
    they were read; what precedes the runtime's answer is in the pipe when the answer arrives, so a
    drain at the end of an invocation finds all of it. Thread-safe."""

    def __init__(self, fd: int, wall_ms: Callable[[], int]):
        self.fd = fd
        self._wall_ms = wall_ms
        self._lock = threading.Lock()
        self.eof = False
        self._partial = b""
        self._lines: list[Event] = []

    def read_available(self) -> None:
        """Non-blocking read of whatever the pipe holds; complete lines become log events."""
        with self._lock:
            self._read()

    def _read(self) -> None:
        if self.eof:
            return
        chunks = []
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno == errno.EINTR:
                    continue
                data = b""
            if not data:
                self.eof = True
                break
            chunks.append(data)
        if not chunks:
            return
        data = self._partial + b"".join(chunks)
        lines = data.split(b"\n")
        self._partial = lines.pop()
        now = self._wall_ms()
        for line in lines:
            self._lines.append((now, line.decode("utf-8", "replace")))

    def take(self) -> list[Event]:
        """Everything written so far (a last unfinished line too), once."""
        with self._lock:
            self._read()
            lines, self._lines = self._lines, []
            if self._partial:
                lines.append((self._wall_ms(), self._partial.decode("utf-8", "replace")))
                self._partial = b""
        return lines
