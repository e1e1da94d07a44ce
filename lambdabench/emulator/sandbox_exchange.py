"""The runtime exchange of one sandbox: the `RuntimeHandler` its Runtime API listener calls, and the
invoking thread's side of each invocation (event out, answer in), with the state both share.

INIT ends at the runtime's first `GET /invocation/next` (`park`), or with its `/init/error` post, its
exit, or the INIT deadline (`wait_init`). An invocation (`exchange`) writes the event on the parked
long poll and reads the answer from the same connection on the invoking thread itself (see
runtime_api.py); Duration runs from that write to the arrival of the runtime's response/error post.
Answers posted on another connection, and the process's exit (`process_exited`, from the sandbox's
output pump), arrive through a wake pipe. Exactly one invocation at a time.
"""

from __future__ import annotations

import os
import select
import threading
from collections.abc import Callable
from dataclasses import dataclass

from lambdabench.emulator.runtime_api import BadRequest, Connection, Request, answer, http_response

# What a runtime posted for the invocation in flight: ("response" | "error", body, its error type header).
Result = tuple[str, bytes, "str | None"]

_IN_PROGRESS = http_response(400, b'{"errorMessage":"Invalid request: an invocation is in progress",'
                                  b'"errorType":"InvalidStateTransition"}')


@dataclass(frozen=True)
class InitEnd:
    """How INIT ended: "ready" (the runtime asked for an event), "error" (it posted /init/error),
    "exited" or "timeout"; `t` (perf s) when."""

    kind: str
    t: float
    body: bytes = b""
    error_type: str | None = None


@dataclass(frozen=True)
class Answer:
    """How an invocation ended: the runtime's `result`, else `exited` (it died), else the deadline.
    `t_start`/`t_end` (perf s): the event written, the answer's arrival (or the exit, or the deadline)."""

    result: Result | None
    exited: bool
    t_start: float
    t_end: float


class RuntimeExchange:
    """Thread-safe; the Runtime API's connection threads call the RuntimeHandler methods."""

    def __init__(self, *, perf: Callable[[], float], on_first_request: Callable[[], None]):
        self._perf = perf
        self._on_first_request = on_first_request  # INIT is over: the CPU limit starts here
        self._cond = threading.Condition()
        self._ready = False
        self.t_ready = 0.0
        self._parked: Connection | None = None     # waiting for an event (GET /next read)
        self._lent: Connection | None = None       # that connection while invokers use it (its thread sleeps)
        self._idle_conn: Connection | None = None  # the lent connection between invocations (GET /next unread)
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._inflight: str | None = None
        self._result: Result | None = None
        self._t_result = 0.0
        self._init_error: tuple[bytes, str] | None = None
        self._t_init_error = 0.0
        self.exited = False
        self._t_exit = 0.0
        self.returncode: int | None = None
        self.closing = False

    # ----- the process and the sandbox's end -----------------------------------------------------
    def process_exited(self, returncode: int | None) -> None:
        with self._cond:
            self.exited = True
            self._t_exit = self._perf()
            self.returncode = returncode
            self._cond.notify_all()
        self._wake()

    def close(self) -> None:
        """The sandbox is ending: parked connections are given up, waits end."""
        with self._cond:
            self.closing = True
            self._cond.notify_all()

    def release_wake_pipe(self) -> None:
        fds, (self._wake_r, self._wake_w) = (self._wake_r, self._wake_w), (-1, -1)
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass

    # ----- RuntimeHandler (called on the Runtime API connection thread) ------------------------
    def park(self, conn: Connection) -> bool:
        """The runtime asked for an event on `conn`: hand the connection to the next invoker and wait
        until it comes back (True) or the sandbox closes (False)."""
        t = self._perf()
        if not self._ready:
            # INIT is over: from now on the quota applies (set before any event can be handed over).
            self._on_first_request()
        with self._cond:
            if not self._ready:
                self._ready = True
                self.t_ready = t
            self._parked = conn
            self._cond.notify_all()
            while (self._parked is conn or self._lent is conn) and not self.closing:
                self._cond.wait()
            if self._parked is conn:
                self._parked = None
            return not self.closing

    def invocation_response(self, request_id: str, body: bytes, headers: dict[str, str]) -> int:
        return self._set_result(request_id, ("response", body, None))

    def invocation_error(self, request_id: str, body: bytes, headers: dict[str, str]) -> int:
        return self._set_result(request_id, ("error", body, headers.get("lambda-runtime-function-error-type")))

    def init_error(self, body: bytes, headers: dict[str, str]) -> int:
        t = self._perf()
        with self._cond:
            if self._ready or self._init_error is not None:
                return 403
            error_type = headers.get("lambda-runtime-function-error-type") or "Runtime.Unknown"
            self._init_error = (body, error_type)
            self._t_init_error = t
            self._cond.notify_all()
        return 202

    def _set_result(self, request_id: str, result: Result, wake: bool = True, t: float | None = None) -> int:
        t = self._perf() if t is None else t
        with self._cond:
            if request_id != self._inflight or self._result is not None:
                return 400
            self._result = result
            self._t_result = t
            self._cond.notify_all()
        if wake:  # posted on another connection: the invoker polls the lent one and the wake pipe
            self._wake()
        return 202

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass  # pipe full (a wake is pending anyway) or closed (sandbox gone)

    # ----- INIT ------------------------------------------------------------------------------
    def wait_init(self, deadline: float) -> InitEnd:
        """Wait (until `deadline`, perf s) for INIT to end."""
        with self._cond:
            while not self._ready and self._init_error is None and not self.exited:
                remaining = deadline - self._perf()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            if self._ready:
                return InitEnd("ready", self.t_ready)
            if self._init_error is not None:
                body, error_type = self._init_error
                return InitEnd("error", self._t_init_error, body, error_type)
            if self.exited:
                return InitEnd("exited", self._t_exit)
        return InitEnd("timeout", deadline)

    # ----- invoke ----------------------------------------------------------------------------
    def exchange(self, request_id: str, event: bytes, timeout_s: float) -> Answer:
        """Hand the event to the runtime and wait for its answer, its death or the deadline.

        The event is written on the parked connection by this thread and the answer read from it by
        this thread: no thread hand-off on the path that Duration measures."""
        deadline = self._perf() + timeout_s
        conn = self._ready_connection(request_id, deadline)
        t_start = self._perf()
        deadline = t_start + timeout_s
        connection_alive = conn is not None
        if conn is not None:
            try:
                conn.send(event)
            except OSError:
                connection_alive = False
        poller = select.poll()
        poller.register(self._wake_r, select.POLLIN)
        if connection_alive:
            poller.register(conn.fileno(), select.POLLIN)
        while True:
            remaining = deadline - self._perf()
            if remaining <= 0:
                break
            if connection_alive and conn.has_buffered_data():
                ready = [(conn.fileno(), select.POLLIN)]
            else:
                ready = poller.poll(remaining * 1000)
            # Duration ends when the runtime's answer arrives (as Lambda's Runtime API measures it),
            # not after this thread has parsed it.
            t_arrival = self._perf()
            for fd, _ in ready:
                if fd == self._wake_r:
                    try:
                        while os.read(self._wake_r, 512):
                            pass
                    except BlockingIOError:
                        pass
                    continue
                try:
                    request = conn.read_request(timeout=max(remaining, 0.001))
                except TimeoutError:
                    request = None
                    break
                except (OSError, BadRequest):
                    request = None
                if request is None:  # EOF: the runtime is gone; the pump reports how it ended
                    connection_alive = False
                    poller.unregister(conn.fileno())
                    continue
                try:
                    conn.send(self._answer_on_lent(request, t_arrival))
                except OSError:
                    connection_alive = False
                    poller.unregister(conn.fileno())
            with self._cond:
                if self._result is not None or self.exited:
                    break
                if not connection_alive and not self.exited:
                    # The socket closed before the pump saw the exit: wait for it (bounded).
                    self._cond.wait(min(1.0, max(deadline - self._perf(), 0.0)))
                    if self.exited or self._result is not None:
                        break
        with self._cond:
            result = self._result
            exited = self.exited and result is None
            t_end = self._t_result if result is not None else (self._t_exit if exited else self._perf())
            self._inflight = None
            if result is not None and connection_alive:
                # Keep the connection (still lent: its thread stays asleep): the runtime's next
                # GET /next is read by the next invoker, which finds it already waiting in the socket.
                self._idle_conn = conn
        return Answer(result, exited, t_start, t_end)

    def _ready_connection(self, request_id: str, deadline: float) -> Connection | None:
        """A connection on which the runtime is waiting for an event (its GET /next consumed), or None
        when the runtime is gone or never asks in time."""
        while True:
            with self._cond:
                self._result = None
                self._inflight = request_id
                while self._parked is None and self._idle_conn is None and not self.exited and not self.closing:
                    remaining = deadline - self._perf()
                    if remaining <= 0:
                        return None
                    self._cond.wait(remaining)
                if self._parked is not None:  # a (new) connection parked by its thread: GET /next consumed
                    conn, self._parked = self._parked, None
                    if self._idle_conn is not None and self._idle_conn is not conn:
                        self._idle_conn = None
                    self._lent = conn
                    return conn
                conn, self._idle_conn = self._idle_conn, None
                if conn is None:
                    return None
            # The runtime's GET /next after the previous invocation is normally already buffered.
            while True:
                try:
                    request = conn.read_request(timeout=max(deadline - self._perf(), 0.001))
                except (OSError, BadRequest):  # includes TimeoutError: never asked for another event
                    request = None
                if request is None:
                    break  # this connection is finished; wait for another one, or for the exit
                if request.route == "invocation/next" and request.method == "GET":
                    return conn
                try:
                    conn.send(answer(self, request))
                except OSError:
                    break
            with self._cond:
                if self._lent is conn:
                    self._lent = None
                    self._cond.notify_all()  # its thread ends the connection
                if self._perf() >= deadline:
                    return None

    def _answer_on_lent(self, request: Request, t_arrival: float) -> bytes:
        """Reply to a request read on the lent connection during an invocation: routed as any other
        (runtime_api.answer), except that an answer counts from its arrival and needs no wake-up."""
        if request.route == "invocation/next":
            # Asking for another event without answering this one: Lambda's runtime API refuses it.
            return _IN_PROGRESS
        return answer(_ArrivedOnLent(self, t_arrival), request)


class _ArrivedOnLent:
    """The RuntimeHandler for a request read by the invoking thread itself (see `_answer_on_lent`)."""

    def __init__(self, exchange: RuntimeExchange, t_arrival: float):
        self._exchange = exchange
        self._t = t_arrival

    def park(self, conn: Connection) -> bool:  # never called: answer() does not route GET /next
        raise AssertionError("GET /next on the lent connection is answered before routing")

    def invocation_response(self, request_id: str, body: bytes, headers: dict[str, str]) -> int:
        return self._exchange._set_result(request_id, ("response", body, None), wake=False, t=self._t)

    def invocation_error(self, request_id: str, body: bytes, headers: dict[str, str]) -> int:
        error_type = headers.get("lambda-runtime-function-error-type")
        return self._exchange._set_result(request_id, ("error", body, error_type), wake=False, t=self._t)

    def init_error(self, body: bytes, headers: dict[str, str]) -> int:
        return self._exchange.init_error(body, headers)
