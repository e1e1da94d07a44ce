"""The driver against moto server: a signal deferred during restore still ends the run as interrupted,
and a resumed sweep starts from the architecture the function has now, not the saved original."""

from __future__ import annotations

import dataclasses
import io
import os
import signal
import zipfile
from datetime import datetime, timezone

import boto3
import pytest

from lambdabench.cli import _interrupts_deferred
from lambdabench.emulator import Emulator
from lambdabench.sweep.clients import make_clients
from lambdabench.sweep.driver import Driver, PayloadSet, prepare
from lambdabench.sweep.plan import ConfigPoint, Plan

CREDS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


@pytest.fixture()
def creds(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)


def code() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "def handler(event, context):\n    return 1\n")
    return buf.getvalue()


def create_function(url: str, name: str, architecture: str) -> None:
    iam = boto3.client("iam", endpoint_url=url, **CREDS)
    try:
        role = iam.get_role(RoleName="lb-state")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName="lb-state", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    boto3.client("lambda", endpoint_url=url, **CREDS).create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler", Code={"ZipFile": code()},
        MemorySize=128, Timeout=3, Architectures=[architecture], Environment={"Variables": {"KEEP": "me"}})


def architecture_of(url: str, name: str) -> str:
    return boto3.client("lambda", endpoint_url=url, **CREDS).get_function_configuration(
        FunctionName=name)["Architectures"][0]


def plan_of(*points: ConfigPoint) -> Plan:
    return Plan(configs=points, actions=(), scenarios=(), order="grouped", seed=0)


def test_signal_deferred_during_restore_still_ends_the_run_interrupted(moto_url, creds, tmp_path):
    create_function(moto_url, "shielded", "x86_64")
    clients = make_clients("aws", region="us-east-1", endpoint_url=moto_url)
    plan = plan_of(ConfigPoint(128, 3, "x86_64"))
    prepared = prepare(clients, "shielded", plan)
    shields: list[_interrupts_deferred] = []

    def shield() -> _interrupts_deferred:
        shields.append(_interrupts_deferred())
        return shields[-1]

    sent: list[int] = []

    def clock() -> float:  # restore reads the clock first: the signal lands inside the restore
        if shields and not sent:
            sent.append(signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)
        return 0.0

    driver = Driver(clients, prepared, plan, PayloadSet((b"{}",), ("default",)), tmp_path, {}, shield=shield,
                    clock=clock, wait_delay_s=0.01, logs_max_wait_s=0)
    with pytest.raises(KeyboardInterrupt):
        driver.run()
    assert shields and shields[0].pending == [signal.SIGINT]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the shield put it back
    events = (tmp_path / "results.jsonl").read_text()
    assert '"restored"' in events and '"completed"' in events


def test_resumed_driver_switches_back_from_the_live_architecture(emulator_helpers, tmp_path):
    # The saved original is x86_64; a kill -9 left the function on arm64. The next x86_64 point must
    # switch the architecture back rather than assume it is already x86_64.
    with Emulator(keep_alive_s=5) as emu:
        lam, _ = emulator_helpers.clients(emu.endpoint)
        emulator_helpers.create(lam, "resumed", "def handler(event, context):\n    return 1\n",
                                Architectures=["x86_64"])
        clients = make_clients("local", region="us-east-1", endpoint_url=emu.endpoint)
        point = ConfigPoint(128, 3, "x86_64")
        plan = plan_of(ConfigPoint(128, 3, "arm64"), point)
        original = prepare(clients, "resumed", plan, code_zip=emulator_helpers.zip_of({"app.py": "def handler(e, c):\n    return 1\n"}))
        driver = Driver(clients, original, plan, PayloadSet((b"{}",), ("default",)), tmp_path, {},
                        wait_delay_s=0.01, logs_max_wait_s=0)
        driver._configure(ConfigPoint(128, 3, "arm64"))
        assert lam.get_function_configuration(FunctionName="resumed")["Architectures"] == ["arm64"]

        live = prepare(clients, "resumed", plan, code_zip=original.code_zip)
        resumed = dataclasses.replace(  # as run.py does: the saved original, the live RevisionId
            live, snapshot=dataclasses.replace(original.snapshot, revision_id=live.snapshot.revision_id),
            code_zip=original.code_zip)
        assert resumed.live_architecture == "arm64" and resumed.snapshot.config.architecture == "x86_64"
        driver = Driver(clients, resumed, plan, PayloadSet((b"{}",), ("default",)), tmp_path, {},
                        wait_delay_s=0.01, logs_max_wait_s=0)
        driver._configure(point)
        assert lam.get_function_configuration(FunctionName="resumed")["Architectures"] == ["x86_64"]


def test_reports_are_read_from_the_functions_custom_log_group(emulator_helpers, tmp_path):
    with Emulator(runtime_client="builtin", keep_alive_s=5) as emu:
        lam, logs = emulator_helpers.clients(emu.endpoint)
        emulator_helpers.create(lam, "custom-logs", "def handler(event, context):\n    return 1\n")
        lam.update_function_configuration(FunctionName="custom-logs",
                                          LoggingConfig={"LogFormat": "Text", "LogGroup": "/custom/group"})
        lam.get_waiter("function_updated_v2").wait(FunctionName="custom-logs", WaiterConfig={"Delay": 1})
        clients = make_clients("local", region="us-east-1", endpoint_url=emu.endpoint)
        prepared = prepare(clients, "custom-logs", plan_of(ConfigPoint(128, 3, "x86_64")))
        assert prepared.log_group == "/custom/group"
        started = datetime.now(timezone.utc)
        rid = lam.invoke(FunctionName="custom-logs", Payload=b"{}")["ResponseMetadata"]["RequestId"]
        assert logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/custom-logs")["logGroups"] == []
        driver = Driver(clients, prepared, plan_of(), PayloadSet((b"{}",), ("default",)), tmp_path, {},
                        wait_delay_s=0.01, logs_max_wait_s=5)
        report = driver.report_from_logs(rid, started)
    assert report is not None and report.request_id == rid
