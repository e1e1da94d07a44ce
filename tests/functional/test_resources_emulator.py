"""The resource model end to end: boto3 -> the emulator -> a real sandbox under real limits.

OOM ends as Runtime.OutOfMemory in REPORT with FunctionError Unhandled, CPU follows memory, INIT
runs unthrottled, and nothing (cgroup or process) outlives the emulator.
"""

from __future__ import annotations

import io
import json
import os
import uuid
import zipfile
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from lambdabench.emulator import resources as rs
from lambdabench.emulator import running
from lambdabench.errors import UsageError
from lambdabench.logs import decode_log_result, parse_report

HANDLER = r'''
import os, time

if os.environ.get("BURN_AT_IMPORT_MS"):
    t0 = time.process_time()
    while (time.process_time() - t0) * 1000 < float(os.environ["BURN_AT_IMPORT_MS"]):
        pass

def handler(event, context):
    out = {"pid": os.getpid()}
    if event.get("cgroup"):
        out["cgroup"] = open("/proc/self/cgroup").read()
    if event.get("alloc_mb"):
        block = bytes(1) * (event["alloc_mb"] * 1024 * 1024)
        out["allocated"] = len(block)
    if event.get("cpu_s"):
        c0 = time.process_time()
        x = 0
        while time.process_time() - c0 < event["cpu_s"]:
            for i in range(2000):
                x += i * i
        out["cpu_ms"] = (time.process_time() - c0) * 1000
    return out
'''


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", HANDLER)
    return buffer.getvalue()


def _own_cgroup_parents() -> list[Path]:
    """This process's lambdabench cgroup parents, wherever the manager puts them."""
    found = []
    for root in (Path("/sys/fs/cgroup/cpu"), Path("/sys/fs/cgroup/memory"), Path("/sys/fs/cgroup")):
        if root.is_dir():
            found += [p for p in root.rglob(f"lambdabench-{os.getpid()}-*") if p.is_dir()]
    return found


@pytest.fixture(scope="module")
def endpoint():
    try:
        rs.ResourceManager(cpu_limit="cgroup", memory_limit="cgroup").close()
    except UsageError as error:
        pytest.skip(f"cgroup limits unavailable here: {error.message}")
    with running(cpu_limit="cgroup") as url:
        yield url
    # After shutdown: no cgroup of ours and no sandbox process left.
    assert _own_cgroup_parents() == []
    for pid in _PIDS:
        assert not Path(f"/proc/{pid}").exists() or _ppid(pid) != os.getpid(), pid


_PIDS: list[int] = []


def _ppid(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
    except (OSError, ValueError, IndexError):
        return None


@pytest.fixture(scope="module")
def client(endpoint):
    return boto3.client(
        "lambda", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x",
        aws_secret_access_key="x", config=Config(retries={"max_attempts": 1}, read_timeout=120),
    )


def _function(client, memory_mb: int, environment: dict | None = None) -> str:
    name = f"res-{memory_mb}-{uuid.uuid4().hex[:8]}"
    client.create_function(
        FunctionName=name, Runtime="python3.12", Handler="app.handler", Role="arn:aws:iam::123456789012:role/x",
        MemorySize=memory_mb, Timeout=60, Code={"ZipFile": _zip()},
        Environment={"Variables": environment or {}},
    )
    client.get_waiter("function_active_v2").wait(FunctionName=name)
    return name


def _invoke(client, name: str, event: dict):
    reply = client.invoke(FunctionName=name, LogType="Tail", Payload=json.dumps(event).encode())
    payload = json.loads(reply["Payload"].read())
    report = parse_report(decode_log_result(reply["LogResult"]))
    if isinstance(payload, dict) and "pid" in payload:
        _PIDS.append(payload["pid"])
    return reply, payload, report


def test_info_names_the_cgroup_mechanisms(endpoint):
    import urllib.request

    with urllib.request.urlopen(f"{endpoint}/_lambdabench/info") as reply:
        info = json.loads(reply.read())
    assert info["cpu_mechanism"] in ("cgroup-v1", "cgroup-v2")
    assert info["memory_mechanism"] == info["cpu_mechanism"]
    assert info["cpu_period_ms"] == 20
    assert info["host_cores"] == rs.host_cores()


def test_200_mb_allocation_at_128_mb_ends_as_runtime_out_of_memory(client):
    name = _function(client, 128)
    reply, payload, report = _invoke(client, name, {"alloc_mb": 200})
    assert reply["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.OutOfMemory"
    assert report.status == "error"
    assert report.error_type == "Runtime.OutOfMemory"
    assert report.memory_size_mb == 128
    assert report.max_memory_used_mb == 128
    # The sandbox is replaced: the next invoke is a cold start that works.
    reply, payload, report = _invoke(client, name, {})
    assert "FunctionError" not in reply
    assert report.init_duration_ms is not None


def test_200_mb_allocation_at_512_mb_succeeds(client):
    name = _function(client, 512)
    reply, payload, report = _invoke(client, name, {"alloc_mb": 200})
    assert "FunctionError" not in reply
    assert payload["allocated"] == 200 * 1024 * 1024
    assert report.status == "success"
    assert 200 <= report.max_memory_used_mb <= 280, report


def test_cpu_bound_handler_is_at_least_4x_slower_at_128_mb_than_at_1024_mb(client):
    slowdown = {}
    for memory_mb in (128, 1024):
        name = _function(client, memory_mb)
        _invoke(client, name, {})  # cold start out of the way
        runs = []
        for _ in range(3):  # other load only ever slows a run down: keep the least disturbed
            _, payload, report = _invoke(client, name, {"cpu_s": 0.03})
            assert report.init_duration_ms is None
            runs.append(report.duration_ms / payload["cpu_ms"])
        slowdown[memory_mb] = min(runs)
    assert slowdown[128] / slowdown[1024] >= 4, slowdown  # model: 8x


def test_init_duration_does_not_grow_with_smaller_memory(client):
    # 150 ms of CPU at import: throttled to 128 MB's share it would take about 2 s.
    init = {}
    for memory_mb in (1024, 128):
        colds = []
        for _ in range(2):  # other load only ever slows a start down: keep the least disturbed
            _, _, report = _invoke(client, _function(client, memory_mb, {"BURN_AT_IMPORT_MS": "150"}), {})
            colds.append(report.init_duration_ms)
        init[memory_mb] = min(colds)
    assert init[128] >= 150 and init[1024] >= 150, init
    assert init[128] < 2.5 * init[1024], init  # throttled INIT would make it about 8x


def test_sandbox_runs_inside_its_own_cgroups(client):
    name = _function(client, 256)
    _, payload, _ = _invoke(client, name, {"cgroup": True})
    lines = payload["cgroup"].splitlines()
    for controller in ("cpu", "memory"):
        (line,) = [line for line in lines if line.split(":")[1].split(",").count(controller)]
        assert f"/lambdabench-{os.getpid()}-" in line, line


def test_no_cgroup_or_process_is_left_after_shutdown(endpoint):
    # Its own emulator, so the check runs right after that one's shutdown.
    with running(cpu_limit="cgroup") as url:
        own = boto3.client(
            "lambda", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x",
            aws_secret_access_key="x", config=Config(retries={"max_attempts": 1}, read_timeout=120),
        )
        _, payload, _ = _invoke(own, _function(own, 128), {"cgroup": True})
        groups = [line.split(":", 2)[2] for line in payload["cgroup"].splitlines()
                  if f"/lambdabench-{os.getpid()}-" in line]
        assert len(groups) == 2  # cpu and memory
        assert Path(f"/proc/{payload['pid']}").exists()
    assert not Path(f"/proc/{payload['pid']}").exists() or _ppid(payload["pid"]) != os.getpid()
    parents = {group.split("/lambdabench-")[1].split("/")[0] for group in groups}
    leftovers = [p for p in _own_cgroup_parents() if p.name.split("lambdabench-")[1] in parents]
    assert leftovers == []
