"""The runtime exchange without a runtime process: a scripted runtime speaks the Runtime API over a
loopback socket to a RuntimeApiServer whose handler is one RuntimeExchange."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from lambdabench.emulator.runtime_api import RuntimeApiServer, http_response
from lambdabench.emulator.sandbox_exchange import RuntimeExchange

NEXT = b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n"


def post(path: str, body: bytes = b"{}", headers: str = "") -> bytes:
    return (f"POST /2018-06-01/runtime/{path} HTTP/1.1\r\nHost: x\r\n{headers}"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


class ScriptedRuntime:
    """One keep-alive connection; `send` a request, `reply` reads one response (status, body)."""

    def __init__(self, address: str):
        host, port = address.split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def reply(self) -> tuple[int, bytes]:
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self.sock.recv(65536)
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        while len(rest) < length:
            rest += self.sock.recv(65536)
        self.buffer = rest[length:]
        return int(head.split(b" ", 2)[1]), rest[:length]


@pytest.fixture
def exchange():
    first_requests: list[float] = []
    exchange = RuntimeExchange(perf=time.perf_counter, on_first_request=lambda: first_requests.append(1))
    server = RuntimeApiServer(exchange, name="test-rapi")
    server.start()
    exchange.first_requests = first_requests
    exchange.address = server.address
    yield exchange
    exchange.close()
    server.close()
    exchange.release_wake_pipe()


def invoke_in_background(exchange: RuntimeExchange, request_id: str, timeout_s: float = 10):
    answers: list = []
    event = http_response(200, b'{"n": 1}', {"Lambda-Runtime-Aws-Request-Id": request_id})
    thread = threading.Thread(target=lambda: answers.append(exchange.exchange(request_id, event, timeout_s)))
    thread.start()
    return thread, answers


def test_init_ends_at_the_first_request_for_an_event_and_starts_the_cpu_limit_once(exchange):
    runtime = ScriptedRuntime(exchange.address)
    runtime.send(NEXT)
    end = exchange.wait_init(time.perf_counter() + 10)
    assert end.kind == "ready" and end.t == exchange.t_ready
    assert exchange.first_requests == [1]


def test_requests_on_the_lent_connection_are_answered_as_the_runtime_api_routes_them(exchange):
    runtime = ScriptedRuntime(exchange.address)
    runtime.send(NEXT)
    assert exchange.wait_init(time.perf_counter() + 10).kind == "ready"
    thread, answers = invoke_in_background(exchange, "req-1")
    assert runtime.reply() == (200, b'{"n": 1}')
    # Read by the invoking thread itself, each routed as runtime_api.answer routes it:
    runtime.send(NEXT)  # another event before answering this one
    assert runtime.reply() == (400, b'{"errorMessage":"Invalid request: an invocation is in progress",'
                                    b'"errorType":"InvalidStateTransition"}')
    runtime.send(post("invocation/req-0/response"))  # not the invocation in flight
    assert runtime.reply() == (400, b'{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}')
    runtime.send(post("init/error"))  # INIT is over
    assert runtime.reply() == (403, b"")
    runtime.send(post("invocation/req-1/nonsense"))
    assert runtime.reply() == (404, b"")
    runtime.send(post("invocation/req-1/error", b'{"errorMessage": "no"}',
                      "Lambda-Runtime-Function-Error-Type: Custom.Error\r\n"))
    assert runtime.reply() == (202, b'{"status":"OK"}')
    thread.join(10)
    [answer] = answers
    assert answer.result == ("error", b'{"errorMessage": "no"}', "Custom.Error")
    assert not answer.exited and answer.t_start <= answer.t_end


def test_the_next_invocation_reads_the_runtimes_waiting_request_on_the_kept_connection(exchange):
    runtime = ScriptedRuntime(exchange.address)
    runtime.send(NEXT)
    assert exchange.wait_init(time.perf_counter() + 10).kind == "ready"
    for number in (1, 2):
        thread, answers = invoke_in_background(exchange, f"req-{number}")
        assert runtime.reply() == (200, b'{"n": 1}')
        runtime.send(post(f"invocation/req-{number}/response", json.dumps({"ok": number}).encode()) + NEXT)
        assert runtime.reply() == (202, b'{"status":"OK"}')
        thread.join(10)
        assert answers[0].result == ("response", json.dumps({"ok": number}).encode(), None)


def test_a_runtime_that_exits_mid_invocation_ends_it_as_exited(exchange):
    runtime = ScriptedRuntime(exchange.address)
    runtime.send(NEXT)
    assert exchange.wait_init(time.perf_counter() + 10).kind == "ready"
    thread, answers = invoke_in_background(exchange, "req-1")
    assert runtime.reply()[0] == 200
    exchange.process_exited(-9)
    thread.join(10)
    assert answers[0].result is None and answers[0].exited
    assert exchange.returncode == -9


def test_an_init_error_post_ends_init_with_its_type(exchange):
    runtime = ScriptedRuntime(exchange.address)
    runtime.send(post("init/error", b'{"errorMessage": "bad import"}',
                      "Lambda-Runtime-Function-Error-Type: Runtime.ImportModuleError\r\n"))
    assert runtime.reply() == (202, b'{"status":"OK"}')
    end = exchange.wait_init(time.perf_counter() + 10)
    assert (end.kind, end.error_type, end.body) == ("error", "Runtime.ImportModuleError",
                                                   b'{"errorMessage": "bad import"}')
    assert exchange.first_requests == []
