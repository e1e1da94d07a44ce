"""The burst gate's reply path: the releasing thread reads every reply and hands it to its parked
thread, which botocore parses. Whatever framing the endpoint uses (Content-Length, chunked, closed
connection), an error status (429 throttle) or no reply at all, each boto3 Invoke in the burst sees
exactly what botocore's own transport would have given it. A raw loopback server controls the framing."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from typing import Any, Callable

import botocore.exceptions
import pytest

from lambdabench.sweep.clients import make_clients
from lambdabench.sweep.driver import Driver, PayloadSet, Prepared
from lambdabench.sweep.release import call_through_gate, run_released
from lambdabench.sweep.plan import ConfigPoint, PlannedInvocation
from lambdabench.sweep.snapshot import FunctionConfig, Snapshot

REPLY_DELAY_S = 0.05


def report_header(request_id: str) -> str:
    log = (f"START RequestId: {request_id} Version: $LATEST\nEND RequestId: {request_id}\n"
           f"REPORT RequestId: {request_id}\tDuration: 12.50 ms\tBilled Duration: 13 ms\t"
           f"Memory Size: 128 MB\tMax Memory Used: 40 MB\t\n")
    return base64.b64encode(log.encode()).decode()


def framed(kind: str, number: int) -> bytes:
    """One Invoke reply, framed as `kind` says."""
    rid = f"req-{number:04d}"
    body = json.dumps({"n": number}).encode()
    head = [f"x-amzn-RequestId: {rid}", "Content-Type: application/json", f"X-Amz-Log-Result: {report_header(rid)}"]
    if kind == "throttle":
        body = json.dumps({"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded", "Type": "User",
                           "message": "Rate Exceeded."}).encode()
        return ("\r\n".join(["HTTP/1.1 429 Too Many Requests", f"x-amzn-RequestId: {rid}",
                             "x-amzn-ErrorType: TooManyRequestsException", "Content-Type: application/json",
                             f"Content-Length: {len(body)}"]) + "\r\n\r\n").encode() + body
    if kind == "notail":
        head = head[:2]
        kind = "length"
    if kind == "chunked":
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 3]), body[i:i + 3]) for i in range(0, len(body), 3))
        return ("\r\n".join(["HTTP/1.1 200 OK", *head, "Transfer-Encoding: chunked"]) + "\r\n\r\n").encode() \
            + chunks + b"0\r\n\r\n"
    if kind == "close":  # no Content-Length: the body ends when the server closes
        return ("\r\n".join(["HTTP/1.1 200 OK", *head]) + "\r\n\r\n").encode() + body
    if kind == "split":  # headers first, the body in a later segment
        return ("\r\n".join(["HTTP/1.1 200 OK", *head, f"Content-Length: {len(body)}"]) + "\r\n\r\n").encode() \
            + b"\0SPLIT\0" + body
    return ("\r\n".join(["HTTP/1.1 200 OK", *head, f"Content-Length: {len(body)}"]) + "\r\n\r\n").encode() + body


class RawServer:
    """Accepts connections; reads one request each; answers it after REPLY_DELAY_S as `kind` says,
    or never (`kind="silent"`), or closes the connection unanswered (`kind="drop"`). Counts requests."""

    def __init__(self, kind: str):
        self.kind = kind
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=256)
        self.port = self.sock.getsockname()[1]
        self.requests = 0
        self.lock = threading.Lock()
        self.stopped = False
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self) -> None:
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, rest = data.partition(b"\r\n\r\n")
            length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))
            while len(rest) < length:
                rest += conn.recv(65536)
            with self.lock:
                self.requests += 1
                number = self.requests
            if self.kind == "silent":
                time.sleep(5)
                return
            if self.kind == "drop":  # the connection closes without a reply
                return
            time.sleep(REPLY_DELAY_S)
            reply = framed(self.kind, number)
            for part in reply.split(b"\0SPLIT\0"):
                conn.sendall(part)
                time.sleep(0.01)

    def close(self) -> None:
        self.stopped = True
        self.sock.close()


@pytest.fixture
def raw_server() -> Any:
    servers: list[RawServer] = []

    def start(kind: str) -> RawServer:
        servers.append(RawServer(kind))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def burst(port: int, n: int, green: bool, timeout_s: float = 10) -> tuple[list[Any], float]:
    clients = make_clients("local", region="us-east-1", endpoint_url=f"http://127.0.0.1:{port}",
                           pool_size=n, max_timeout_s=1)
    outcomes: list[Any] = [None] * n

    def task(i: int) -> Callable[[], None]:
        def run() -> None:
            try:
                response = clients.invoke.invoke(FunctionName="f", LogType="Tail", Payload=b"{}")
                outcomes[i] = (response["StatusCode"], json.loads(response["Payload"].read()),
                               response["ResponseMetadata"]["RequestId"], response.get("LogResult"))
            except Exception as exc:  # noqa: BLE001 - the outcome under test
                outcomes[i] = exc
        return run

    released = run_released([task(i) for i in range(n)], gated=True, preconnect_timeout_s=timeout_s, green=green)
    assert released.errors == []
    return outcomes, released.release_at


# One thread per invoke (an endpoint behind a proxy) and one greenlet per invoke take the same reply path.
MODES = [pytest.param(False, id="threads"),
         pytest.param(True, id="greenlets")]


@pytest.mark.parametrize("green", MODES)
@pytest.mark.parametrize("kind", ["length", "chunked", "close", "split"])
def test_burst_replies_reach_botocore_whatever_their_framing(raw_server, kind, green):
    server = raw_server(kind)
    outcomes, _ = burst(server.port, 8, green)
    assert server.requests == 8
    assert sorted(o[1]["n"] for o in outcomes) == list(range(1, 9))
    for status, payload, request_id, log_result in outcomes:
        assert status == 200
        assert request_id == f"req-{payload['n']:04d}"
        assert base64.b64decode(log_result).decode().startswith(f"START RequestId: {request_id} ")


@pytest.mark.parametrize("green", MODES)
def test_burst_throttles_are_botocore_errors_sent_once(raw_server, green):
    server = raw_server("throttle")
    outcomes, _ = burst(server.port, 6, green)
    assert server.requests == 6  # retries are off: one request per invoke
    for outcome in outcomes:
        assert isinstance(outcome, botocore.exceptions.ClientError)
        assert outcome.response["Error"]["Code"] == "TooManyRequestsException"
        assert outcome.response["ResponseMetadata"]["HTTPStatusCode"] == 429


@pytest.mark.parametrize("green", MODES)
def test_burst_without_reply_times_out_as_a_read_timeout(raw_server, green):
    server = raw_server("silent")
    start = time.perf_counter()
    outcomes, _ = burst(server.port, 3, green, timeout_s=0.5)
    assert server.requests == 3
    assert all(isinstance(o, botocore.exceptions.ReadTimeoutError) for o in outcomes)
    assert time.perf_counter() - start < 4  # the gate's deadline, not the server's 5 s silence


@pytest.mark.parametrize("green", MODES)
@pytest.mark.parametrize("kind", ["length", "throttle"])
def test_a_call_through_the_gate_returns_its_own_wire_times_and_later_calls_none(raw_server, kind, green):
    server = raw_server(kind)
    clients = make_clients("local", region="us-east-1", endpoint_url=f"http://127.0.0.1:{server.port}",
                           pool_size=4, max_timeout_s=1)
    calls: list[Any] = [None] * 4

    def task(i: int) -> Callable[[], None]:
        def run() -> None:
            calls[i] = call_through_gate(lambda: clients.invoke.invoke(FunctionName="f", Payload=b"{}"))
        return run

    released = run_released([task(i) for i in range(4)], gated=True, preconnect_timeout_s=10, green=green)
    assert released.errors == []
    for sent in calls:
        assert sent.wire is not None and sent.wire.sent_at.tzinfo is not None
        assert sent.wire.sent_perf >= released.release_at
        # the server answers REPLY_DELAY_S after reading the request
        assert sent.wire.received_perf - sent.wire.sent_perf >= REPLY_DELAY_S
        assert sent.reply_perf() == sent.wire.received_perf
        if kind == "throttle":
            assert isinstance(sent.error, botocore.exceptions.ClientError) and sent.value is None
            with pytest.raises(botocore.exceptions.ClientError) as raised:
                sent.result()
            assert raised.value.response["Error"]["Code"] == "TooManyRequestsException"
        else:
            assert sent.error is None and sent.result()["StatusCode"] == 200
    # After the burst nothing is left over for the next call of this thread (the greenlets' thread too).
    after = call_through_gate(lambda: clients.invoke.invoke(FunctionName="f", Payload=b"{}"))
    assert after.wire is None


def driver_for(port: int, out: Any, n: int) -> tuple[Driver, list[PlannedInvocation]]:
    url = f"http://127.0.0.1:{port}"
    clients = make_clients("local", region="us-east-1", endpoint_url=url, pool_size=n, max_timeout_s=1)
    snapshot = Snapshot(target=clients.target, function_name="f", function_arn="f",
                        config=FunctionConfig(128, 1, "x86_64", (), 512))
    prepared = Prepared(snapshot=snapshot, function_name="f", log_format="Text", code_zip=None)
    point = ConfigPoint(128, 1, "x86_64")
    invocations = [PlannedInvocation(f"{point.config_id}/burst/w0/{i}", point, "burst", 0, i, 0, False, 0, True)
                   for i in range(n)]
    driver = Driver(clients, prepared, plan=None, payloads=PayloadSet((b"{}",), ("default",)),  # type: ignore[arg-type]
                    out_dir=out, header={"test": True}, logs_max_wait_s=0)
    return driver, invocations


@pytest.mark.parametrize("green", MODES)
def test_driver_burst_without_log_tail_still_records_every_invocation(raw_server, tmp_path, green):
    # No LogResult: each REPORT is looked up in CloudWatch Logs (here: the same endpoint, which has
    # no events), off the burst's reading loop; every record is still written, marked "missing".
    server = raw_server("notail")
    driver, invocations = driver_for(server.port, tmp_path, 4)
    driver.open_results()
    driver.burst(invocations, greenlets=green)
    driver.close()
    lines = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    records = [r for r in lines if r["type"] == "invocation"]
    assert sorted(r["invocation_id"] for r in records) == sorted(i.invocation_id for i in invocations)
    assert {(r["status"], r["report_source"], r["duration_ms"]) for r in records} == {("ok", "missing", None)}
    assert server.requests >= 8  # 4 invokes, then at least one Logs query each


@pytest.mark.parametrize("green", MODES)
def test_driver_burst_records_round_trip_from_the_release(raw_server, tmp_path, green):
    server = raw_server("length")
    driver, invocations = driver_for(server.port, tmp_path, 5)
    driver.open_results()
    driver.burst(invocations, greenlets=green)
    driver.close()
    lines = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    records = [r for r in lines if r["type"] == "invocation"]
    assert sorted(r["invocation_id"] for r in records) == sorted(i.invocation_id for i in invocations)
    for r in records:
        assert r["status"] == "ok"
        assert r["report_source"] == "tail"
        assert r["duration_ms"] == 12.5 and r["billed_duration_ms"] == 13
        # From the release to the reply's last byte: at least the server's delay, far below a second.
        assert REPLY_DELAY_S * 1000 <= r["client_ms"] < 1000


def test_driver_invoke_records_a_dropped_connection_as_a_client_error(raw_server, tmp_path):
    server = raw_server("drop")
    driver, invocations = driver_for(server.port, tmp_path, 1)
    record = driver.invoke(invocations[0])
    assert server.requests == 1  # recorded, not retried
    assert record.status == "error" and record.error_type == "Client.ConnectionClosedError"
    assert record.report_source == "missing" and record.request_id is None


@pytest.mark.parametrize("green", MODES)
def test_driver_burst_records_every_dropped_connection_instead_of_raising(raw_server, tmp_path, green):
    server = raw_server("drop")
    driver, invocations = driver_for(server.port, tmp_path, 3)
    driver.open_results()
    driver.burst(invocations, greenlets=green)
    driver.close()
    lines = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    records = [r for r in lines if r["type"] == "invocation"]
    assert sorted(r["invocation_id"] for r in records) == sorted(i.invocation_id for i in invocations)
    assert {(r["status"], r["error_type"]) for r in records} == {("error", "Client.ConnectionClosedError")}
