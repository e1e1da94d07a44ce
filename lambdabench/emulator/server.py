"""HTTP transport of the emulator: one threaded HTTP/1.1 server for the Lambda and Logs APIs.

Routing of a request:
- `X-Amz-Target: Logs_20140328.<Operation>` → CloudWatch Logs JSON 1.1 (`logs_api.handle`);
- `GET /_lambdabench/info` → the emulator's info document (see `lambdabench.emulator`);
- `GET /_lambdabench/code/...` → a function's zip behind GetFunction's presigned `Code.Location`
  (`code_url`);
- `X-Amz-Target: ResourceGroupsTaggingAPI_20170126.<Operation>` → GetResources over the functions' tags
  (`tagging_api.handle`);
- anything else → the Lambda REST-JSON API (`lambda_api.route`).
The region comes from the SigV4 credential scope of the `Authorization` header (any region works;
each has its own functions and logs), `us-east-1` when the request is unsigned.

Keep-alive connections (boto3 pools them), HTTP/1.1 parsed by runtime_api.Connection, TCP_NODELAY on
every accepted socket, and each response written with a single `sendall` (status line, headers and body together), so no response waits on
Nagle's algorithm against the client's delayed ACK. Before a Lambda operation runs, its request is
checked against the operation's input shape in botocore's model (`lambda_api.validate`), so bad input
answers 400 as AWS does; the server never prints, and an error inside an operation (a bug of ours)
answers 500 ServiceException with the exception's text.
"""

from __future__ import annotations

import email.utils
import json
import re
import socket
import socketserver
import threading
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl

from lambdabench.emulator import errors as E
from lambdabench.emulator import code_url, lambda_api, logs_api, tagging_api
from lambdabench.emulator.runtime_api import BadRequest, Connection

_REGION_RE = re.compile(r"Credential=[^/,\s]+/\d{8}/([a-z0-9-]+)/")
_REASONS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 400: "Bad Request",
            403: "Forbidden", 404: "Not Found", 409: "Conflict", 412: "Precondition Failed", 413: "Request Entity Too Large",
            429: "Too Many Requests", 500: "Internal Server Error", 501: "Not Implemented"}
DEFAULT_REGION = "us-east-1"


def region_of(headers: dict[str, str]) -> str:
    match = _REGION_RE.search(headers.get("authorization", ""))
    return match.group(1) if match else DEFAULT_REGION


def dispatch(app: Any, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, dict, bytes]:
    """Answer one request. `app` provides backend(region), log_store(region) and info(). Every answer,
    errors included, carries `x-amzn-RequestId` and `Date`, as AWS's do (SDKs report the request id)."""
    status, out_headers, payload = _answer(app, method, target, headers, body)
    out_headers.setdefault("x-amzn-RequestId", str(uuid.uuid4()))
    out_headers.setdefault("Date", http_date())
    return status, out_headers, payload


def _answer(app: Any, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, dict, bytes]:
    amz_target = headers.get("x-amz-target", "")
    if amz_target.startswith(logs_api.TARGET_PREFIX):
        return logs_api.handle(app.log_store(region_of(headers)), amz_target, body)
    if amz_target.startswith(tagging_api.TARGET_PREFIX):
        return tagging_api.handle(app.backend(region_of(headers)), amz_target, body)
    path, _, query_string = target.partition("?")
    if path.rstrip("/") == "/_lambdabench/info" and method == "GET":
        return 200, {"Content-Type": "application/json"}, json.dumps(app.info()).encode()
    if path.startswith(code_url.PATH_PREFIX) and method in ("GET", "HEAD") and getattr(app, "code_links", None):
        return app.code_links.serve(path, dict(parse_qsl(query_string)))
    try:
        operation, params = lambda_api.route(method, path)
        query = dict(parse_qsl(query_string))
        lambda_api.validate(operation, method, path, query, headers, body)
        request = lambda_api.Request(method=method, path=path, query=query, headers=headers, body=body,
                                     params=params, query_string=query_string)
        return operation(request, app.backend(region_of(headers)))
    except E.LambdaApiError as exc:
        return exc.status, exc.headers(), exc.body()
    except Exception as exc:  # a bug of ours: answer like Lambda's ServiceException, keep serving
        err = E.ServiceError(f"lambdabench emulator internal error: {type(exc).__name__}: {exc}")
        return err.status, err.headers(), err.body()


_date_cache: tuple[int, str] = (0, "")


def http_date() -> str:
    """The `Date` header (RFC 7231 IMF-fixdate), formatted once per second."""
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, email.utils.formatdate(now, usegmt=True))
    return _date_cache[1]


# CreateFunction carries a zip of up to 50 MB base64-encoded in JSON (~67 MB); leave room above it.
MAX_REQUEST_BODY_BYTES = 80 * 1024 * 1024


class _Handler(socketserver.BaseRequestHandler):
    """One client connection: keep-alive HTTP/1.1 requests parsed by the same small parser as the
    Runtime API (http.server's email-based header parsing costs more than the rest of a warm invoke's
    front-end work)."""

    def handle(self) -> None:
        sock = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = Connection(sock, max_body_bytes=MAX_REQUEST_BODY_BYTES)
        while True:
            try:
                request = conn.read_request()
            except BadRequest as exc:
                sock.sendall(_reply(400, {"Content-Type": "text/plain", "x-amzn-RequestId": str(uuid.uuid4()),
                                          "Date": http_date()}, str(exc).encode(), close=True))
                return
            except OSError:
                return
            if request is None:
                return
            status, headers, payload = dispatch(self.server.app, request.method, request.path, request.headers,
                                                request.body)
            keep_alive = request.keep_alive
            # One write: headers and body leave in the same segment(s), nothing waits for an ACK.
            sock.sendall(_reply(status, headers, b"" if request.method == "HEAD" else payload,
                                close=not keep_alive, length=len(payload)))
            if not keep_alive:
                return


def _reply(status: int, headers: dict[str, str], payload: bytes, *, close: bool = False,
           length: int | None = None) -> bytes:
    head = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}\r\n"]
    for name, value in headers.items():
        head.append(f"{name}: {value}\r\n")
    head.append(f"Content-Length: {len(payload) if length is None else length}\r\n")
    if close:
        head.append("Connection: close\r\n")
    head.append("\r\n")
    return "".join(head).encode("latin-1") + payload


class Server(socketserver.ThreadingTCPServer):
    """Threaded HTTP server (one thread per connection; boto3 keeps its connections alive)."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, host: str, port: int, app: Any):
        self.app = app
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, port), _Handler)

    def handle_error(self, request, client_address) -> None:
        """A client that went away mid-answer (or a shutdown closing its socket) is normal here; the
        library never prints, so the default traceback to stderr is suppressed."""

    def process_request(self, request, client_address):
        with self._conn_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._conn_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Drop idle keep-alive connections so their threads end (used on shutdown)."""
        with self._conn_lock:
            connections = list(self._connections)
        for sock in connections:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
