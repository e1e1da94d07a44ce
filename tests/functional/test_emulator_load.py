"""Load test of the emulator: 2,000 invokes at 8-way concurrency through boto3 with retries off.

Every invoke must be answered exactly once (distinct request ids, the right payload back), each
REPORT must be in CloudWatch Logs exactly once, and after shutdown no sandbox process may be left.
Processes are found by scanning /proc for descendants of this test process (no psutil).
"""

from __future__ import annotations

import collections
import io
import json
import os
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from lambdabench.emulator import running
from lambdabench.logs import parse_report

INVOKES = 2000
CONCURRENCY = 8
CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test", "region_name": "us-east-1"}
HANDLER = "def handler(event, context):\n    return {'i': event['i'], 'rid': context.aws_request_id}\n"

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")]


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, state letter) of a process, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = raw[raw.rindex(")") + 2 :].split()  # the command name may hold spaces: skip past ')'
    return int(rest[1]), rest[0]


def descendants(root: int) -> dict[int, str]:
    """Every live descendant of `root`: pid -> state letter ('Z' for a zombie nobody reaped)."""
    parents: dict[int, list[int]] = collections.defaultdict(list)
    states: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            info = _stat(int(entry))
            if info is not None:
                parents[info[0]].append(int(entry))
                states[int(entry)] = info[1]
    found: dict[int, str] = {}
    stack = [root]
    while stack:
        for child in parents.get(stack.pop(), []):
            found[child] = states[child]
            stack.append(child)
    return found


def test_two_thousand_concurrent_invokes_each_answered_and_logged_exactly_once():
    before = set(descendants(os.getpid()))
    with running(account_concurrency=4 * CONCURRENCY) as endpoint:
        config = Config(retries={"total_max_attempts": 1}, max_pool_connections=CONCURRENCY, read_timeout=60)
        lam = boto3.client("lambda", endpoint_url=endpoint, config=config, **CREDENTIALS)
        logs = boto3.client("logs", endpoint_url=endpoint, config=config, **CREDENTIALS)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("app.py", HANDLER)
        lam.create_function(
            FunctionName="load",
            Runtime="python3.12",
            Role="arn:aws:iam::123456789012:role/test",
            Handler="app.handler",
            Code={"ZipFile": buffer.getvalue()},
            MemorySize=512,
            Timeout=30,
        )
        lam.get_waiter("function_active_v2").wait(FunctionName="load", WaiterConfig={"Delay": 1})

        def one(i: int) -> tuple[int, int, str, dict, str | None]:
            response = lam.invoke(FunctionName="load", Payload=json.dumps({"i": i}).encode())
            return (i, response["StatusCode"], response["ResponseMetadata"]["RequestId"],
                    json.loads(response["Payload"].read()), response.get("FunctionError"))

        with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
            results = list(pool.map(one, range(INVOKES)))

        sandboxes = {pid for pid in descendants(os.getpid()) if pid not in before}
        assert 1 <= len(sandboxes)

        assert [r[1] for r in results] == [200] * INVOKES
        assert [r[4] for r in results] == [None] * INVOKES
        assert [r[3]["i"] for r in results] == list(range(INVOKES))  # each caller got its own answer
        request_ids = [r[2] for r in results]
        assert len(set(request_ids)) == INVOKES
        assert [r[3]["rid"] for r in results] == request_ids  # the handler saw the id the caller got

        reports = collections.Counter()
        starts = collections.Counter()
        streams: set[str] = set()
        for page in logs.get_paginator("filter_log_events").paginate(
            logGroupName="/aws/lambda/load", filterPattern='?"REPORT RequestId:" ?"START RequestId:"'
        ):
            for event in page["events"]:
                streams.add(event["logStreamName"])
                if event["message"].startswith("REPORT RequestId:"):
                    reports[parse_report(event["message"]).request_id] += 1
                else:
                    assert event["message"].startswith("START RequestId:")
                    starts[event["message"].split()[2]] += 1
        assert reports == collections.Counter(request_ids)  # each REPORT exactly once, none extra
        assert starts == collections.Counter(request_ids)
        assert 1 <= len(streams) <= CONCURRENCY

    left = {pid: state for pid, state in descendants(os.getpid()).items() if pid not in before}
    assert left == {}, f"processes left after shutdown (pid: state): {left}"
    assert all(_stat(pid) is None for pid in sandboxes)
