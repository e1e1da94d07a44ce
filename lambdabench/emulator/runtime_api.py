"""The Lambda Runtime API one sandbox's runtime client talks to (`AWS_LAMBDA_RUNTIME_API`).

Each sandbox gets its own listener on a loopback port, so a request needs no routing: whoever
connects is that sandbox's runtime. Paths served (LAMBDA_FACTS "Runtime API"):

    GET  /2018-06-01/runtime/invocation/next             -> 200, the event + Lambda-Runtime-* headers
    POST /2018-06-01/runtime/invocation/{id}/response    -> 202
    POST /2018-06-01/runtime/invocation/{id}/error       -> 202
    POST /2018-06-01/runtime/init/error                  -> 202

This is the hot path of every warm invoke, so it avoids thread hand-offs: when the runtime's
`GET /next` arrives, the connection thread *parks* the connection with the sandbox's exchange
(`RuntimeHandler.park`, sandbox_exchange.py). The invoking thread then writes the event on that
socket itself and reads the runtime's response POST from it itself — the kernel wakes it directly
when the answer arrives, no Python thread has to be scheduled in between. The sandbox keeps the
connection lent between invocations: the next invoker reads the runtime's next `GET /next` (already
waiting in the socket) and answers it, so a warm invoke wakes no helper thread at all. The connection
thread sleeps until the sandbox closes or gives the connection up. Requests that arrive otherwise (an
init error on its own connection, a response posted on another connection) are answered by their
connection thread through the handler's other methods.

The HTTP is a small HTTP/1.1 subset (keep-alive, Content-Length or chunked bodies,
`Expect: 100-continue`). Every accepted socket gets TCP_NODELAY and every response is one `sendall`:
with Nagle's algorithm against the client's delayed ACK a plain Python server loses ~44 ms twice per
invoke (LAMBDA_FACTS).
"""

from __future__ import annotations

import socket
import threading
from typing import Protocol

PREFIX = "/2018-06-01/runtime/"
_REASONS = {200: b"OK", 202: b"Accepted", 400: b"Bad Request", 403: b"Forbidden", 404: b"Not Found",
            405: b"Method Not Allowed", 413: b"Payload Too Large", 500: b"Internal Server Error"}
# A response body the runtime could post is at most 6 MB (Lambda's synchronous limit) plus JSON framing;
# refuse anything far above instead of buffering unbounded data from a misbehaving handler.
_MAX_BODY_BYTES = 64 * 1024 * 1024
_MAX_HEAD_BYTES = 64 * 1024


class BadRequest(Exception):
    pass


def http_response(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    head = [b"HTTP/1.1 %d %s\r\n" % (status, _REASONS.get(status, b"Unknown"))]
    if headers:
        for name, value in headers.items():
            head.append(f"{name}: {value}\r\n".encode("latin-1", "replace"))
    head.append(b"Content-Length: %d\r\n\r\n" % len(body))
    return b"".join(head) + body


ACCEPTED = http_response(202, b'{"status":"OK"}', {"Content-Type": "application/json"})
INVALID_REQUEST_ID = http_response(400, b'{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}',
                                   {"Content-Type": "application/json"})


class Request:
    __slots__ = ("method", "path", "headers", "body", "version")

    def __init__(self, method: str, path: str, headers: dict[str, str], body: bytes, version: str = "HTTP/1.1"):
        self.method, self.path, self.headers, self.body, self.version = method, path, headers, body, version

    @property
    def keep_alive(self) -> bool:
        connection = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return connection == "keep-alive"
        return connection != "close"

    @property
    def route(self) -> str:
        """The path after /2018-06-01/runtime/ ('' when outside the Runtime API)."""
        path = self.path.split("?", 1)[0]
        return path[len(PREFIX):] if path.startswith(PREFIX) else ""


class Connection:
    """One runtime connection: its own receive buffer and a request parser (no file objects, so
    whether a complete request is already buffered is always known)."""

    def __init__(self, sock: socket.socket, max_body_bytes: int = _MAX_BODY_BYTES):
        self.sock = sock
        self._buf = bytearray()
        self._max_body = max_body_bytes
        self._timeout: float | None = sock.gettimeout()

    def fileno(self) -> int:
        return self.sock.fileno()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def has_buffered_data(self) -> bool:
        return bool(self._buf)

    def _fill(self) -> bool:
        data = self.sock.recv(262144)
        if not data:
            return False
        self._buf += data
        return True

    def read_request(self, timeout: float | None = None) -> Request | None:
        """The next request; None at EOF. Raises TimeoutError (socket.timeout) after `timeout` s,
        BadRequest on malformed input."""
        if timeout != self._timeout:  # settimeout is a syscall-sized cost on every call; skip repeats
            self.sock.settimeout(timeout)
            self._timeout = timeout
        buf = self._buf
        while True:
            while buf[:2] == b"\r\n":  # stray CRLF between requests (RFC 9112 §2.2)
                del buf[:2]
            end = buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(buf) > _MAX_HEAD_BYTES:
                raise BadRequest("request head too large")
            if not self._fill():
                return None
        head = bytes(buf[:end]).decode("latin-1")
        del buf[:end + 4]
        lines = head.split("\r\n")
        try:
            method, target, version = lines[0].split(" ", 2)
        except ValueError:
            raise BadRequest("malformed request line") from None
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise BadRequest("malformed header line")
            headers[name.strip().lower()] = value.strip()
        if headers.get("expect", "").lower() == "100-continue":
            self.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = self._read_chunked()
        else:
            try:
                length = int(headers.get("content-length", "0"))
            except ValueError:
                raise BadRequest("malformed Content-Length") from None
            if length < 0 or length > self._max_body:
                raise BadRequest("body too large")
            while len(buf) < length:
                if not self._fill():
                    return None
            body = bytes(buf[:length])
            del buf[:length]
        return Request(method, target, headers, body, version.strip())

    def _line(self) -> bytes:
        while True:
            end = self._buf.find(b"\r\n")
            if end >= 0:
                line = bytes(self._buf[:end])
                del self._buf[:end + 2]
                return line
            if not self._fill():
                raise BadRequest("connection closed inside a chunked body")

    def _read_chunked(self) -> bytes:
        parts = []
        total = 0
        while True:
            try:
                size = int(self._line().split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise BadRequest("malformed chunk size") from None
            if size == 0:
                while self._line():
                    pass  # trailers
                return b"".join(parts)
            total += size
            if total > self._max_body:
                raise BadRequest("body too large")
            while len(self._buf) < size + 2:
                if not self._fill():
                    raise BadRequest("connection closed inside a chunked body")
            parts.append(bytes(self._buf[:size]))
            del self._buf[:size + 2]

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv()
        except OSError:
            pass
        self.sock.close()


class RuntimeHandler(Protocol):
    def park(self, conn: Connection) -> bool:
        """The runtime asked for an event on `conn` (its GET /next is consumed). Block until an
        invoker has used the connection and returned it (True), or the sandbox is closing (False)."""
        ...

    def invocation_response(self, request_id: str, body: bytes, headers: dict[str, str]) -> int: ...

    def invocation_error(self, request_id: str, body: bytes, headers: dict[str, str]) -> int: ...

    def init_error(self, body: bytes, headers: dict[str, str]) -> int: ...


def answer(handler: RuntimeHandler, request: Request) -> bytes:
    """The reply to any request other than GET /next (which parks instead)."""
    route = request.route
    if not route:
        return http_response(404, b'{"errorMessage":"unknown path","errorType":"InvalidRequest"}')
    if request.method != "POST":
        return http_response(405)
    if route == "init/error":
        return ACCEPTED if handler.init_error(request.body, request.headers) == 202 else http_response(403)
    if route.startswith("invocation/"):
        request_id, _, action = route[len("invocation/"):].partition("/")
        if action == "response":
            status = handler.invocation_response(request_id, request.body, request.headers)
        elif action == "error":
            status = handler.invocation_error(request_id, request.body, request.headers)
        else:
            return http_response(404)
        return ACCEPTED if status == 202 else INVALID_REQUEST_ID
    return http_response(404)


class RuntimeApiServer:
    """Serves the Runtime API for one sandbox on 127.0.0.1:<ephemeral port>."""

    def __init__(self, handler: RuntimeHandler, name: str = "runtime-api"):
        self._handler = handler
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(8)
        self.port = self._listener.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"
        self._name = name
        self._closed = False
        self._conns: set[Connection] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept_loop, name=f"{name}-accept", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        """Stop accepting and drop open connections (the sandbox process is gone or going)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            conns = list(self._conns)
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        except OSError:
            pass
        self._listener.close()
        for conn in conns:
            conn.close()

    def _accept_loop(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = Connection(sock)
            with self._lock:
                if self._closed:
                    conn.close()
                    return
                self._conns.add(conn)
            # A runtime keeps one connection alive for its whole life, so this thread is per
            # sandbox in practice, never per invoke.
            threading.Thread(target=self._serve, args=(conn,), name=f"{self._name}-conn", daemon=True).start()

    def _serve(self, conn: Connection) -> None:
        try:
            while True:
                try:
                    request = conn.read_request()
                except BadRequest as exc:
                    conn.send(http_response(400, str(exc).encode(), {"Connection": "close"}))
                    return
                if request is None:
                    return
                if request.route == "invocation/next":
                    if request.method != "GET":
                        conn.send(http_response(405))
                        continue
                    if not self._handler.park(conn):
                        return  # sandbox closing: drop the long poll
                    continue
                conn.send(answer(self._handler, request))
        except OSError:
            return
        finally:
            with self._lock:
                self._conns.discard(conn)
            conn.close()
