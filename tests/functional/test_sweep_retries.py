"""Retry policy, seen from the server: an update in progress (409 ResourceConflictException) is waited
out and retried; an Invoke answered 429 reaches the results exactly once (no hidden retry), as does a
500 from Invoke. A small loopback HTTP server answers with AWS-shaped errors and counts requests."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lambdabench.sweep.clients import make_clients
from lambdabench.sweep.driver import Driver, PayloadSet, Prepared
from lambdabench.sweep.plan import ConfigPoint, Plan, PlannedInvocation
from lambdabench.sweep.snapshot import FunctionConfig, Snapshot, update_configuration


class Lambda(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, conflicts: int, invoke_status: int, invoke_type: str):
        super().__init__(("127.0.0.1", 0), Handler)
        self.conflicts = conflicts
        self.invoke_status = invoke_status
        self.invoke_type = invoke_type
        self.requests: list[tuple[str, str]] = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Lambda

    def log_message(self, *args: object) -> None:
        pass

    def reply(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Content-Type", "application/json")
        self.send_header("x-amzn-RequestId", f"req-{len(self.server.requests)}")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self.server.requests.append(("GET", self.path))
        self.reply(200, {"Configuration": {"FunctionName": "f", "LastUpdateStatus": "Successful"}})

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests.append(("PUT", self.path))
        if self.server.conflicts > 0:
            self.server.conflicts -= 1
            self.reply(409, {"Type": "User", "message": "The operation cannot be performed at this time. "
                             "An update is in progress for resource: f"},
                       {"x-amzn-ErrorType": "ResourceConflictException"})
            return
        self.reply(200, {"FunctionName": "f", "MemorySize": 256, "LastUpdateStatus": "InProgress"})

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests.append(("POST", self.path))
        if self.server.invoke_type == "TooManyRequestsException":
            self.reply(429, {"Reason": "ConcurrentInvocationLimitExceeded", "Type": "User",
                             "message": "Rate Exceeded."}, {"x-amzn-ErrorType": "TooManyRequestsException"})
        else:
            self.reply(500, {"Type": "Service", "message": "internal"}, {"x-amzn-ErrorType": "ServiceException"})


@pytest.fixture()
def server(request):
    conflicts, status, kind = request.param
    srv = Lambda(conflicts, status, kind)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()


def clients_for(srv: Lambda):
    return make_clients("aws", region="us-east-1", endpoint_url=f"http://127.0.0.1:{srv.server_address[1]}")


@pytest.fixture()
def creds(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


@pytest.mark.parametrize("server", [(2, 429, "TooManyRequestsException")], indirect=True)
def test_update_in_progress_is_waited_out_and_retried(server, creds):
    slept: list[float] = []
    update_configuration(clients_for(server), "f", memory_mb=256, timeout_s=3, environment={"A": "1"},
                         ephemeral_storage_mb=512, sleep=slept.append, wait_delay_s=0.01)
    puts = [r for r in server.requests if r[0] == "PUT"]
    assert len(puts) == 3  # two conflicts, then accepted: only our retry, botocore does not retry a 409
    assert slept == [0.1, 0.2]
    assert server.requests[-1] == ("GET", "/2015-03-31/functions/f")  # then waited with function_updated_v2


def driver_for(srv: Lambda, tmp_path) -> Driver:
    clients = clients_for(srv)
    snapshot = Snapshot(target=clients.target, function_name="f", function_arn="f",
                        config=FunctionConfig(128, 3, "x86_64", (), 512))
    prepared = Prepared(snapshot=snapshot, function_name="f", log_format="Text", code_zip=None)
    driver = Driver(clients, prepared, plan=None, payloads=PayloadSet((b"{}",), ("default",)),  # type: ignore[arg-type]
                    out_dir=tmp_path, header={}, logs_max_wait_s=0)
    return driver


def planned(n: int) -> list[PlannedInvocation]:
    point = ConfigPoint(128, 3, "x86_64")
    return [PlannedInvocation(f"{point.config_id}/burst/w0/{i}", point, "burst", 0, i, 0, False, 0, True)
            for i in range(n)]


@pytest.mark.parametrize("server", [(0, 429, "TooManyRequestsException")], indirect=True)
def test_throttled_invoke_is_recorded_once_not_retried(server, creds, tmp_path):
    driver = driver_for(server, tmp_path)
    record = driver.invoke(planned(1)[0])
    assert [r for r in server.requests if r[0] == "POST"] == [("POST", "/2015-03-31/functions/f/invocations")]
    assert record.status == "throttled"
    assert record.error_type == "ConcurrentInvocationLimitExceeded"
    assert record.cost_usd == 0.0 and record.cold is None and record.report_source == "missing"
    assert record.request_id == "req-1"


@pytest.mark.parametrize("server", [(0, 500, "ServiceException")], indirect=True)
def test_burst_of_service_errors_sends_each_request_once(server, creds, tmp_path):
    driver = driver_for(server, tmp_path)
    driver.open_results()
    released = driver.burst(planned(5))
    driver.close()
    assert released.errors == []
    assert server.requests.count(("POST", "/2015-03-31/functions/f/invocations")) == 5
    assert ("POST", "/") not in server.requests  # no log search for invokes that never ran
    lines = [json.loads(x) for x in (tmp_path / "results.jsonl").read_text().splitlines()[1:]]
    assert sorted(x["invocation_id"] for x in lines) == [f"m128-t3-x86_64/burst/w0/{i}" for i in range(5)]
    assert {x["status"] for x in lines} == {"error"} and {x["error_type"] for x in lines} == {"ServiceException"}
    assert sorted(x["seq"] for x in lines) == list(range(5))


def burst_driver(srv: Lambda, tmp_path, header: dict) -> Driver:
    clients = clients_for(srv)
    snapshot = Snapshot(target=clients.target, function_name="f", function_arn="f",
                        config=FunctionConfig(1769, 3, "x86_64", (), 512))
    prepared = Prepared(snapshot=snapshot, function_name="f", log_format="Text", code_zip=None)
    plan = Plan(configs=(ConfigPoint(1769, 3, "x86_64"),), actions=(), order="sequential", seed=0,
                scenarios=({"kind": "burst", "concurrency": 3, "waves": 1, "pause_s": 0.0},))
    return Driver(clients, prepared, plan=plan, payloads=PayloadSet((b"{}",), ("default",)),
                  out_dir=tmp_path, header=header, logs_max_wait_s=0)


def burst_of_three_at_1769_mb() -> list[PlannedInvocation]:
    point = ConfigPoint(1769, 3, "x86_64")
    return [PlannedInvocation(f"{point.config_id}/burst/w0/{i}", point, "burst", 0, i, 0, False, 0, True)
            for i in range(3)]


@pytest.mark.parametrize("server", [(0, 500, "ServiceException")], indirect=True)
@pytest.mark.parametrize(("header", "limited"), [
    ({"target": "local", "emulator": {"host_cores": 2}}, True),  # 3 x 1 vCPU on 2 cores
    ({"target": "local", "emulator": {"host_cores": 4}}, False),
    ({"target": "aws", "emulator": None}, False),  # every Lambda environment has its own CPU share
])
def test_a_burst_wave_asking_for_more_vcpus_than_the_local_host_has_is_marked_host_limited(
        server, creds, tmp_path, header, limited):
    driver = burst_driver(server, tmp_path, header)
    records = [driver.invoke(inv) for inv in burst_of_three_at_1769_mb()]
    assert [r.host_limited for r in records] == [limited] * 3


@pytest.mark.parametrize("server", [(0, 429, "TooManyRequestsException")], indirect=True)
def test_a_throttled_burst_invoke_never_ran_so_it_is_not_host_limited(server, creds, tmp_path):
    driver = burst_driver(server, tmp_path, {"target": "local", "emulator": {"host_cores": 1}})
    record = driver.invoke(burst_of_three_at_1769_mb()[0])
    assert record.status == "throttled" and record.host_limited is False
