"""The burst release: N Invoke calls put on the wire in the same instant, through boto3.

The driver's `burst` runs each planned invocation's boto3 call up to botocore's `before-send`
event (`hold_at_gate`, registered on the invoke client by `clients.py`), where the request is
built and signed; the release then writes every request at once and hands each reply back to
botocore to parse. See the comment below for why, and for the CPU budget. The driver makes each
call through `call_through_gate`, which returns the call's outcome with the instant its request went
on the wire and the instant its reply was complete (`GatedCall`): Duration's client-side counterpart
starts at the release, not when the request was signed.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import selectors
import socket
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator, Sequence
from urllib.parse import urlsplit

import botocore.exceptions
from botocore.awsrequest import AWSResponse
from botocore.utils import get_environ_proxies

import greenlet as _greenlet


# -- the burst release ---------------------------------------------------------------------------
# A burst is only simultaneous if the slow part of each request happens before the release. botocore
# spends about a millisecond of CPU per Invoke serialising and signing it; under the GIL a thousand of
# those after the release would spread the arrivals over a second or more. So each burst thread runs
# its boto3 call up to botocore's `before-send` event (request built and signed), connects its socket
# there (TCP, and TLS on https) and parks. When all are parked, ONE thread writes every request in a
# tight loop (one sendall each), then reads every reply as it arrives (one selector over all sockets)
# and hands each to its parked thread, which botocore then parses exactly as if it had received it
# itself (errors, 429s, FunctionError alike).
#
# CPU: a thousand threads running at once fight for the GIL, and every hand-off costs futex calls and
# context switches (bench/driver_bench.py: most of the driver's CPU per invocation). So the threads take
# turns: they are started and run up to the gate one at a time, and after the release the reading
# thread wakes one thread per reply and waits (bounded by TURN_WAIT_S) for its record before waking the
# next. Only the order of CPU work changes: every request still goes on the wire in the same instant,
# and each reply's arrival time is taken when it is read, not when its thread gets to run.
# Where the endpoint is directly reachable the threads are replaced by greenlets on one thread (`_run_green`):
# same gate, same reading loop, no thread creation and no GIL hand-offs.

_gate = threading.local()
PRECONNECT_TIMEOUT_S = 5.0
# How long the reading thread waits for a woken burst thread to finish before waking the next anyway:
# a thread that polls CloudWatch Logs for its REPORT must not hold the others' replies back.
TURN_WAIT_S = 0.05
RECV_BYTES = 65536


class _Body:
    """The response body in the shape botocore reads it (`read(amt)` for streams, `stream()` for errors)."""

    def __init__(self, data: bytes):
        self._buffer = io.BytesIO(data)

    def read(self, amt: int | None = None) -> bytes:
        return self._buffer.read() if amt is None else self._buffer.read(amt)

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        chunk = self._buffer.read()
        if chunk:
            yield chunk

    def close(self) -> None:
        self._buffer.close()


class _Replay(io.RawIOBase):
    """The bytes the reading thread already took off the socket, then (after a hand-over) the socket."""

    def __init__(self, head: bytes, sock: socket.socket | None):
        self._head = memoryview(head)
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        return self._sock.recv_into(buffer) if self._sock is not None else 0


class _ReplaySocket:
    """All that http.client.HTTPResponse asks of a socket."""

    def __init__(self, head: bytes, sock: socket.socket | None):
        self._reader = io.BufferedReader(_Replay(head, sock))

    def makefile(self, mode: str, *args: Any, **kwargs: Any) -> io.BufferedReader:
        return self._reader


class _Preconnected:
    """One signed request, serialised, on a socket connected (and TLS-negotiated) before the release."""

    def __init__(self, request: Any, timeout_s: float):
        parts = urlsplit(request.url)
        body = request.body if request.body is not None else b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        if not isinstance(body, (bytes, bytearray)):
            raise TypeError("streaming request bodies go through botocore's own transport")
        host = parts.hostname or "localhost"
        port = parts.port or (443 if parts.scheme == "https" else 80)
        # A short connect timeout: where a direct connection is impossible (proxy-only networks), the
        # request falls back to botocore's transport (which honours proxies and CA bundles) quickly.
        sock = socket.create_connection((host, port), timeout=min(timeout_s, PRECONNECT_TIMEOUT_S))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if parts.scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        sock.settimeout(timeout_s)
        self.sock = sock
        self.timeout_s = timeout_s
        self.url = request.url
        self.method = request.method
        self.send_error: OSError | None = None
        self.sent_perf = 0.0
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        lines = [f"{request.method} {path} HTTP/1.1", f"Host: {parts.netloc}"]
        # raw_items(): the headers as botocore set them, without email's per-header policy parsing
        # that items() runs (a measurable share of the per-invocation CPU).
        headers = request.headers
        for name, value in (headers.raw_items() if hasattr(headers, "raw_items") else headers.items()):
            if name.lower() in ("host", "content-length", "connection"):
                continue
            lines.append(f"{name}: {value.decode() if isinstance(value, bytes) else value}")
        lines += [f"Content-Length: {len(body)}", "Connection: close"]
        self.data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + bytes(body)
        # Filled by the reading thread: the reply's bytes, when they were all read, or why not.
        self.buffer = bytearray()
        self.received_perf = 0.0
        self.error: OSError | None = None
        self.self_read = False  # handed over unread (interrupt): the owner thread reads the socket itself
        self.handed = False
        self._head_end = -1
        self._length: int | None = None
        self._chunked = False
        self.greenlet: Any = None  # greenlet mode: the parked invoke
        self.ready = threading.Lock()  # held until the reply is handed to the owner thread
        self.ready.acquire()
        self.done = threading.Lock()  # held until the owner thread's task has finished
        self.done.acquire()

    def send(self) -> None:
        self.sent_perf = time.perf_counter()
        try:
            self.sock.sendall(self.data)
        except OSError as exc:
            self.send_error = exc

    def feed(self) -> bool:
        """Read what the (non-blocking) socket holds; True once the reply is complete or failed."""
        try:
            chunk = self.sock.recv(RECV_BYTES)
        except (BlockingIOError, InterruptedError, ssl.SSLWantReadError):
            return False
        except OSError as exc:
            self.error = exc
            return True
        if not chunk:
            return True  # closed: we sent Connection: close; http.client tells a torn reply from a whole one
        self.buffer += chunk
        # TLS: bytes already decrypted inside the SSL object do not make the socket readable again.
        while isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
            try:
                self.buffer += self.sock.recv(RECV_BYTES)
            except (ssl.SSLWantReadError, BlockingIOError):
                break
            except OSError as exc:
                self.error = exc
                return True
        return self._complete()

    def _complete(self) -> bool:
        if self._head_end < 0:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return False
            self._head_end = end + 4
            head = bytes(self.buffer[:end]).lower().split(b"\r\n")
            status = head[0].split(b" ", 2)
            code = status[1] if len(status) > 1 else b""
            if code in (b"204", b"304"):
                self._length = 0
            elif not code.startswith(b"1"):  # an interim 1xx reply: wait for the server to close
                for line in head[1:]:
                    name, _, value = line.partition(b":")
                    name = name.strip()
                    if name == b"content-length":
                        try:
                            self._length = int(value.strip())
                        except ValueError:
                            self._length = None
                    elif name == b"transfer-encoding" and b"chunked" in value:
                        self._chunked = True
        if self._chunked:
            return self.buffer.endswith(b"0\r\n\r\n")
        return self._length is not None and len(self.buffer) - self._head_end >= self._length

    def receive(self) -> AWSResponse:
        """In the owner thread: wait for the hand-over, then make botocore's response of the reply."""
        self.ready.acquire()
        try:
            if self.send_error is not None:
                raise self.send_error
            if self.error is not None:
                raise self.error
            if not self.self_read:
                simple = self._simple_reply()
                if simple is not None:
                    return simple
            reply = http.client.HTTPResponse(
                _ReplaySocket(bytes(self.buffer), self.sock if self.self_read else None),  # type: ignore[arg-type]
                method=self.method)
            reply.begin()
            body = reply.read()
            return AWSResponse(self.url, reply.status, reply.getheaders(), _Body(body))
        except socket.timeout as exc:
            raise botocore.exceptions.ReadTimeoutError(endpoint_url=self.url, error=exc) from exc
        except (OSError, http.client.HTTPException) as exc:
            raise botocore.exceptions.ConnectionClosedError(endpoint_url=self.url, error=exc) from exc
        finally:
            self.sock.close()


    def _simple_reply(self) -> AWSResponse | None:
        """The common reply (status line, headers, a body of exactly Content-Length bytes), parsed
        without http.client's email-based header parser; anything else (chunked, interim 1xx, no
        Content-Length, a short body, odd lines) returns None and goes through http.client."""
        if self._head_end < 0 or self._length is None or self._chunked:
            return None
        if len(self.buffer) - self._head_end != self._length:
            return None
        lines = bytes(self.buffer[:self._head_end - 4]).decode("iso-8859-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        code, _, _ = rest.partition(" ")
        if version not in ("HTTP/1.1", "HTTP/1.0") or len(code) != 3 or not code.isdigit():
            return None
        headers = []
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if not colon or not name or name != name.strip() or line[:1] in (" ", "\t"):
                return None  # folded or malformed: let http.client judge it
            headers.append((name, value.strip(" \t")))
        body = bytes(self.buffer[self._head_end:])
        return AWSResponse(self.url, int(code), headers, _Body(body))


class BurstGate:
    """Parks N signed requests, sends them all from one thread, then hands each thread its reply."""

    def __init__(self, n: int, timeout_s: float | None):
        self.n = n
        self.timeout_s = timeout_s
        self._cond = threading.Condition()
        self._arrived = 0
        self._prepared: list[_Preconnected] = []
        self.sent = threading.Event()
        self.release_perf = 0.0
        self.release_wall: datetime | None = None
        self.hub: Any = None  # greenlet mode: the greenlet that runs the burst (see run_released)

    def arrive(self, prepared: _Preconnected | None) -> None:
        with self._cond:
            if prepared is not None:
                self._prepared.append(prepared)
            self._arrived += 1
            self._cond.notify_all()

    def wait_arrived(self, count: int) -> None:
        with self._cond:
            while self._arrived < count:
                self._cond.wait()

    def release(self) -> None:
        self.release_wall = datetime.now(timezone.utc)
        self.release_perf = time.perf_counter()
        for prepared in self._prepared:
            prepared.send()
        self.sent.set()

    def collect(self) -> None:
        """Read every reply as it arrives and hand each to its thread, one thread at a time."""
        selector = selectors.DefaultSelector()
        ready: deque[_Preconnected] = deque()

        def poll(timeout: float) -> None:
            for key, _ in selector.select(timeout):
                prepared = key.data
                if prepared.feed():
                    prepared.received_perf = time.perf_counter()
                    selector.unregister(prepared.sock)
                    ready.append(prepared)

        try:
            waiting = 0
            for prepared in self._prepared:
                if prepared.send_error is not None:
                    self._hand_over(prepared, wait=False)  # its thread raises the send error
                    continue
                prepared.sock.setblocking(False)
                selector.register(prepared.sock, selectors.EVENT_READ, prepared)
                waiting += 1
            # Invoke's read timeout bounds the whole reply: a RequestResponse answer comes in one piece.
            deadline = self.release_perf + (self.timeout_s or 0.0)
            while waiting:
                if ready:
                    self._hand_over(ready.popleft(), wait=True)
                    waiting -= 1
                    poll(0)  # take what arrived meanwhile, so its arrival time stays exact
                    continue
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    break
                poll(remaining)
            for key in list(selector.get_map().values()):
                prepared = key.data
                selector.unregister(prepared.sock)
                prepared.error = socket.timeout(f"no complete reply within {self.timeout_s} s")
                self._hand_over(prepared, wait=False)
        except BaseException:
            self.abort()
            raise
        finally:
            selector.close()

    def _hand_over(self, prepared: _Preconnected, *, wait: bool) -> None:
        prepared.handed = True
        prepared.ready.release()
        if self.hub is not None:
            # Greenlet mode: run the invoke's task to its end (botocore parse, record), then come back.
            if prepared.greenlet is not None and not prepared.greenlet.dead:
                prepared.greenlet.switch()
        elif wait:
            prepared.done.acquire(timeout=TURN_WAIT_S)

    def abort(self) -> None:
        """Interrupted: no thread may stay parked. Unsent requests fail; sent ones are read by their
        own thread (blocking, with the read timeout), as botocore's transport would."""
        if not self.sent.is_set():
            for prepared in self._prepared:
                prepared.send_error = prepared.send_error or ConnectionAbortedError(
                    "the burst was interrupted before the release")
            self.release_wall = self.release_wall or datetime.now(timezone.utc)
            self.release_perf = self.release_perf or time.perf_counter()
        if self.hub is not None:
            # Greenlet mode: parked invokes are left unfinished (resuming them would read their sockets
            # one after another on this thread); their sockets are closed, nothing more is recorded.
            for prepared in self._prepared:
                if not prepared.handed:
                    prepared.handed = True
                    with contextlib.suppress(OSError):
                        prepared.sock.close()
            self.sent.set()
            return
        for prepared in self._prepared:
            if not prepared.handed:
                prepared.self_read = True
                with contextlib.suppress(OSError):
                    prepared.sock.settimeout(prepared.timeout_s)
                self._hand_over(prepared, wait=False)
        self.sent.set()

    def started(self, prepared: _Preconnected | None) -> tuple[float, datetime]:
        perf = prepared.sent_perf if prepared is not None and prepared.sent_perf else self.release_perf
        assert self.release_wall is not None
        return perf, self.release_wall + timedelta(seconds=perf - self.release_perf)


def hold_at_gate(request: Any = None, **kwargs: Any) -> AWSResponse | None:
    """botocore `before-send` handler: in a burst, park the signed request until the release.

    Registered on the invoke client by clients.make_clients; a no-op (None: botocore sends) for any
    thread not in a burst. If connecting early fails, botocore's own transport sends that request
    right after the release instead.
    """
    gate: BurstGate | None = getattr(_gate, "gate", None)
    if gate is None:
        return None
    _gate.gate = None
    # Taken now: in greenlet mode another invoke sets its own slot while this one is parked.
    slot: _Slot | None = getattr(_gate, "slot", None)
    prepared: _Preconnected | None = None
    if gate.timeout_s is not None and request is not None and not via_proxy(request.url):
        try:
            prepared = _Preconnected(request, gate.timeout_s)
        except (OSError, TypeError, ValueError):
            prepared = None
    if prepared is None and gate.hub is not None:
        # On one thread a fallback to botocore's blocking transport would stall every other invoke:
        # record it as the connection failure it is (Driver.burst checked the endpoint first).
        gate.arrive(None)
        raise botocore.exceptions.EndpointConnectionError(endpoint_url=getattr(request, "url", ""))
    if prepared is None:
        gate.arrive(None)
        gate.sent.wait()
        if slot is not None:
            slot.wire = WireTimes(*gate.started(None), received_perf=None)
        return None
    gate.arrive(prepared)
    if gate.hub is not None:
        prepared.greenlet = _greenlet.getcurrent()  # type: ignore[union-attr]
        gate.hub.switch()  # park: the hub switches back here with the reply (or never, if interrupted)
    else:
        _gate.turn = prepared.done  # released by run_released's worker when the whole task has finished
    try:
        return prepared.receive()
    finally:
        if slot is not None:
            slot.wire = WireTimes(*gate.started(prepared), received_perf=prepared.received_perf or None)


@dataclass(frozen=True)
class WireTimes:
    """When a burst's request went on the wire (perf_counter s, UTC) and when its reply was complete:
    taken by the burst's reading thread when it read the reply, not when the request's own thread or
    greenlet got to run (None: botocore's transport read it, after a failed pre-connect)."""

    sent_perf: float
    sent_at: datetime
    received_perf: float | None


@dataclass(frozen=True)
class GatedCall:
    """What `call_through_gate` returns: the call's value or the exception it raised, and its wire
    times when it went through a burst's gate (None: not in a burst)."""

    value: Any
    error: Exception | None
    wire: WireTimes | None

    def result(self) -> Any:
        """The call's value; raises what the call raised."""
        if self.error is not None:
            raise self.error
        return self.value

    def reply_perf(self) -> float:
        """perf_counter when the reply was complete: the burst's reading thread's reading, else now."""
        if self.wire is not None and self.wire.received_perf is not None:
            return self.wire.received_perf
        return time.perf_counter()


class _Slot:
    """Where `hold_at_gate` leaves the wire times of the call `call_through_gate` is making."""

    __slots__ = ("wire",)

    def __init__(self) -> None:
        self.wire: WireTimes | None = None


def call_through_gate(call: Callable[[], Any]) -> GatedCall:
    """Make one boto3 call (an Invoke on a client with `hold_at_gate` registered) and return its
    outcome with the times of the burst it went out in, if any. Never raises what the call raised
    (an Exception): `GatedCall.result()` does; interrupts (KeyboardInterrupt, SystemExit) propagate."""
    slot = _Slot()
    _gate.slot = slot
    try:
        value, error = call(), None
    except Exception as exc:  # handed back as data: the caller records it with the burst's times
        value, error = None, exc
    finally:
        _gate.slot = None
    return GatedCall(value, error, slot.wire)


@dataclass
class Released:
    release_at: float  # perf_counter when the release began
    errors: list[BaseException]


def run_released(tasks: Sequence[Callable[[], Any]], *, gated: bool = False, preconnect_timeout_s: float | None = None,
                 join_timeout_s: float | None = None, green: bool = False) -> Released:
    """Start one thread per task, hold them all, release them at once, wait for all.

    Threads are created and started before the release, so thread start-up is not in the skew.
    `gated=False`: the tasks wait on a barrier and each starts at the release (used as a baseline).
    `gated=True`: each task makes one boto3 call on a client with `hold_at_gate` registered and parks
    there, signed and connected; the release sends every request from this thread, which then reads
    the replies and hands them over one thread at a time (see the comment above `_gate`).
    `green=True` (with `gated`, when the greenlet package is installed): the same, with one greenlet per
    task on this thread instead of one thread per task (see `_run_green`).
    """
    n = len(tasks)
    if gated and green:
        return _run_green(tasks, preconnect_timeout_s)
    errors: list[BaseException] = []
    errors_lock = threading.Lock()
    gate = BurstGate(n, preconnect_timeout_s) if gated else None
    release = [0.0]
    # Ungated: the release instant is taken by whichever thread trips the barrier, before any is let go.
    barrier = None if gated else threading.Barrier(n + 1, action=lambda: release.__setitem__(0, time.perf_counter()))

    def worker(task: Callable[[], Any]) -> None:
        try:
            if gate is not None:
                _gate.gate = gate
            else:
                assert barrier is not None
                barrier.wait()
            task()
        except threading.BrokenBarrierError:
            return
        except BaseException as exc:  # surfaced to the caller after the wave
            with errors_lock:
                errors.append(exc)
        finally:
            if gate is not None:
                if getattr(_gate, "gate", None) is not None:
                    _gate.gate = None
                    gate.arrive(None)  # failed before reaching the gate: never leave the release waiting
                turn = getattr(_gate, "turn", None)
                if turn is not None:
                    _gate.turn = None
                    turn.release()  # the reading thread may wake the next one

    threads = [threading.Thread(target=worker, args=(t,), daemon=True, name=f"burst-{i}")
               for i, t in enumerate(tasks)]
    try:
        for count, t in enumerate(threads, start=1):
            t.start()
            if gate is not None:
                gate.wait_arrived(count)  # one thread at a time up to the gate: no GIL contention
        if gate is not None:
            gate.release()
            release[0] = gate.release_perf
            gate.collect()
        else:
            assert barrier is not None
            barrier.wait()
        for t in threads:
            t.join(join_timeout_s)
    except BaseException:
        if barrier is not None:
            barrier.abort()
        if gate is not None:
            gate.abort()
        raise
    return Released(release_at=release[0], errors=errors)


def _run_green(tasks: Sequence[Callable[[], Any]], timeout_s: float | None) -> Released:
    """The gated burst with one greenlet per task, all on this thread.

    Why: a thread per in-flight invoke costs its creation, its own stack and frame memory, and a GIL
    hand-off with futex calls at every turn; bench/driver_bench.py measured that at about half of the
    driver's CPU per invocation. A greenlet switch is a few microseconds. Each task runs botocore up to
    `hold_at_gate`, which parks it by switching back here; after the release the reading loop switches
    into each task with its reply, and the task runs to its end (botocore parse, record) before the
    loop goes on. Nothing may block inside a task: Driver.burst passes CloudWatch Logs lookups to
    threads, and a request that could not be pre-connected is recorded as a connection error.
    """
    gate = BurstGate(len(tasks), timeout_s)
    gate.hub = _greenlet.getcurrent()
    errors: list[BaseException] = []

    def worker(task: Callable[[], Any]) -> None:
        try:
            task()
        except Exception as exc:  # surfaced to the caller after the wave
            errors.append(exc)
        finally:
            if getattr(_gate, "gate", None) is not None:
                _gate.gate = None
                gate.arrive(None)  # failed before reaching the gate

    try:
        for task in tasks:
            _gate.gate = gate
            _greenlet.greenlet(worker).switch(task)  # back here when it parks at the gate (or ends)
        _gate.gate = None
        gate.release()
        gate.collect()
    except BaseException:
        _gate.gate = None
        gate.abort()
        raise
    return Released(release_at=gate.release_perf, errors=errors)


def via_proxy(url: str) -> bool:
    """Would botocore send a request for `url` through a proxy (HTTPS_PROXY/HTTP_PROXY, unless NO_PROXY
    exempts the host)? Then so does the burst: it never pre-connects around it."""
    return bool(get_environ_proxies(url).get(urlsplit(url).scheme))


def endpoint_reachable(url: str) -> bool:
    """Can a burst pre-connect to the endpoint the way `_Preconnected` does: TCP straight to it (not
    through a proxy botocore would use, not behind a proxy-only network) and, on https, a TLS handshake
    verified by the default CA store? If not, the burst runs on threads, where each request goes
    through botocore's own transport."""
    if via_proxy(url):
        return False
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        sock = socket.create_connection((host, port), timeout=PRECONNECT_TIMEOUT_S)
        if parts.scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        sock.close()
    except (OSError, ValueError):
        return False
    return True
