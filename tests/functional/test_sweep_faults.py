"""Fault injection: a real `python -m lambdabench sweep` subprocess against moto server (aws target,
--endpoint-url), interrupted with SIGINT, SIGTERM or kill -9 mid-sweep; then restore and --resume."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import boto3
import pytest

from lambdabench.results import INVOCATION_FIELDS, read_results

ROOT = Path(__file__).resolve().parents[2]
ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_CONFIG_FILE": os.devnull,
       "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
ORIGINAL = {"memory": 160, "timeout": 6, "env": {"KEEP": "me"}}


def client(url: str):
    return boto3.client("lambda", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def create_function(url: str, name: str) -> None:
    iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                       aws_secret_access_key="testing")
    try:
        role = iam.get_role(RoleName="lb-faults")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName="lb-faults", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "def handler(event, context):\n    return 1\n")
    client(url).create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
                                Code={"ZipFile": buf.getvalue()}, MemorySize=ORIGINAL["memory"],
                                Timeout=ORIGINAL["timeout"], Environment={"Variables": ORIGINAL["env"]})


def config_of(url: str, name: str) -> dict:
    c = client(url).get_function_configuration(FunctionName=name)
    return {"memory": c["MemorySize"], "timeout": c["Timeout"], "env": (c.get("Environment") or {}).get("Variables", {})}


def scenario(tmp_path: Path, name: str) -> Path:
    # 3 points x (12 forced-cold + 4 warm) = 48 invocations and 36 configuration updates: long enough
    # (seconds) to be interrupted in the middle.
    path = tmp_path / "faults.toml"
    path.write_text(textwrap.dedent(f"""
        name = "faults"
        [function]
        name = "{name}"
        [target]
        kind = "aws"
        isolation = "in-place"
        region = "us-east-1"
        [sweep]
        memory_mb = [128, 256, 512]
        timeout_s = [10]
        [[scenario]]
        kind = "cold"
        invocations = 12
        [[scenario]]
        kind = "warm"
        invocations = 3
        warmup = 1
        """))
    return path


def start_sweep(url: str, scenario_path: Path, out: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, **ENV}
    return subprocess.Popen(
        [sys.executable, "-m", "lambdabench", "sweep", str(scenario_path), "--endpoint-url", url, "--yes",
         "--logs-wait-s", "0", *extra] + (["--out", str(out)] if "--resume" not in extra else []),
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lambdabench", *args], cwd=ROOT, env={**os.environ, **ENV},
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def wait_for_invocations(out: Path, count: int, proc: subprocess.Popen, timeout_s: float = 60) -> None:
    file = out / "results.jsonl"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if file.exists() and file.read_text().count('"type":"invocation"') >= count:
            return
        if proc.poll() is not None:
            raise AssertionError(f"sweep ended early: {proc.returncode}\n{proc.stderr.read()}")
        time.sleep(0.02)
    proc.kill()
    raise AssertionError("the sweep did not get going")


def check_records(out: Path) -> list[str]:
    results = read_results(out)
    frame = results.invocations
    assert set(INVOCATION_FIELDS) <= set(frame.columns)
    assert frame["invocation_id"].is_unique
    return list(frame["invocation_id"])


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_interrupt_mid_sweep_restores_and_keeps_valid_results(moto_url, tmp_path, sig):
    name = f"lb-fault-{sig.name.lower()}"
    create_function(moto_url, name)
    out = tmp_path / "out"
    proc = start_sweep(moto_url, scenario(tmp_path, name), out)
    wait_for_invocations(out, 5, proc)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert config_of(moto_url, name) == ORIGINAL
    done = check_records(out)
    assert 5 <= len(done) < 48
    events = [e["event"] for e in read_results(out).events]
    assert "interrupted" in events and events[-1] == "restored"
    assert "completed" not in events


def test_kill_9_then_restore_then_resume_completes_without_duplicates(moto_url, tmp_path):
    name = "lb-fault-kill"
    create_function(moto_url, name)
    out = tmp_path / "out"
    path = scenario(tmp_path, name)
    proc = start_sweep(moto_url, path, out)
    wait_for_invocations(out, 6, proc)
    proc.kill()  # SIGKILL: no handler runs, nothing is restored
    proc.communicate(timeout=30)
    left = config_of(moto_url, name)
    assert left != ORIGINAL and "LAMBDABENCH_NONCE" in left["env"]

    restored = run("restore", str(out))
    assert restored.returncode == 0, restored.stderr
    assert config_of(moto_url, name) == ORIGINAL
    before = check_records(out)

    resumed = start_sweep(moto_url, path, out, "--resume", str(out))
    stdout, stderr = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, stderr
    assert config_of(moto_url, name) == ORIGINAL
    ids = check_records(out)
    assert ids[: len(before)] == before
    planned = {f"m{m}-t10-x86_64/cold/{i}" for m in (128, 256, 512) for i in range(12)}
    planned |= {f"m{m}-t10-x86_64/warm/{i}" for m in (128, 256, 512) for i in range(3)}
    planned |= {f"m{m}-t10-x86_64/warm/warmup-0" for m in (128, 256, 512)}
    assert planned <= set(ids)
    extra = set(ids) - planned  # only re-warm-ups the resume adds before warm samples, marked warm-up
    assert all("/rewarm-" in i for i in extra)
    events = [e["event"] for e in read_results(out).events]
    assert events.count("resumed") == 1 and events[-1] == "completed"
    header = json.loads((out / "results.jsonl").read_text().splitlines()[0])
    assert header["original_config"]["memory_mb"] == ORIGINAL["memory"]
    # a finished sweep cannot be resumed again
    again = run("sweep", str(path), "--endpoint-url", moto_url, "--yes", "--resume", str(out))
    assert again.returncode == 2 and "already complete" in again.stderr
