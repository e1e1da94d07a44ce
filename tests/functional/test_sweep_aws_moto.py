"""The aws target against moto server: snapshot, updates, nonce merge, exact restore, refusals.

moto's Invoke runs nothing (no REPORT lines), so these tests assert the control plane: what the sweep
changes while it runs and that it puts everything back.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import boto3
import pytest

from lambdabench.results import INVOCATION_FIELDS, read_results
from lambdabench.scenario import load_scenario
from lambdabench.sweep.run import SweepOptions, restore_from_dir, run_sweep
from lambdabench.sweep.snapshot import NONCE_VARIABLE, FunctionConfig, differences

ROOT = Path(__file__).resolve().parents[2]
CREDS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture()
def aws_env(monkeypatch):
    for key, value in CREDS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)


def lambda_client(url: str):
    return boto3.client("lambda", endpoint_url=url, region_name="us-east-1", **{
        "aws_access_key_id": "testing", "aws_secret_access_key": "testing"})


def create_function(url: str, name: str, *, memory_mb=192, timeout_s=7, env=None) -> None:
    iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                       aws_secret_access_key="testing")
    try:
        role = iam.get_role(RoleName="lb-test")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName="lb-test", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "def handler(event, context):\n    return 1\n")
    lambda_client(url).create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler", Code={"ZipFile": buf.getvalue()},
        MemorySize=memory_mb, Timeout=timeout_s, Environment={"Variables": env or {}},
    )


def write_scenario(tmp_path: Path, function: str, *, memory="[128, 256]", scenarios=None, region=True) -> Path:
    scenarios = scenarios or """
        [[scenario]]
        kind = "cold"
        invocations = 2
        [[scenario]]
        kind = "warm"
        invocations = 2
        warmup = 1
        [[scenario]]
        kind = "burst"
        concurrency = 3
        """
    region_line = 'region = "us-east-1"' if region else ""
    text = textwrap.dedent(f"""
        name = "moto"
        [function]
        name = "{function}"
        [target]
        kind = "aws"
        isolation = "in-place"
        {region_line}
        [sweep]
        memory_mb = {memory}
        timeout_s = [10]
        """) + textwrap.dedent(scenarios)
    path = tmp_path / f"{function}.toml"
    path.write_text(text)
    return path


def config_of(url: str, name: str) -> dict:
    c = lambda_client(url).get_function_configuration(FunctionName=name)
    return {"memory": c["MemorySize"], "timeout": c["Timeout"], "env": (c.get("Environment") or {}).get("Variables", {})}


def run_cli(*args: str, env_extra: dict | None = None, drop: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(CREDS)
    env["AWS_CONFIG_FILE"] = os.devnull
    env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "lambdabench", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120, stdin=subprocess.DEVNULL)


def test_sweep_merges_nonce_into_user_environment_and_restores_exactly(moto_url, aws_env, tmp_path):
    name = "lb-restore"
    create_function(moto_url, name, env={"USER_VAR": "kept", "OTHER": "x"})
    client = lambda_client(moto_url)
    client.publish_version(FunctionName=name)
    client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    before = config_of(moto_url, name)
    seen: list[dict] = []

    def progress(done: int, total: int, label: str) -> None:
        seen.append(config_of(moto_url, name))  # what the function looks like mid-sweep

    prompts: list[list[str]] = []
    out = tmp_path / "out"
    run = run_sweep(load_scenario(write_scenario(tmp_path, name)),
                    SweepOptions(out_dir=out, endpoint_url=moto_url, logs_max_wait_s=0),
                    confirm=prompts.append, progress=progress)

    assert run.outcome.completed and run.outcome.restore.ok
    assert config_of(moto_url, name) == before == {"memory": 192, "timeout": 7,
                                                    "env": {"USER_VAR": "kept", "OTHER": "x"}}
    # mid-sweep: the grid's memories and timeout, the user's variables kept next to the nonce
    assert {s["memory"] for s in seen[1:]} == {128, 256}
    assert {s["timeout"] for s in seen[1:]} == {10}
    for s in seen[1:]:
        assert s["env"]["USER_VAR"] == "kept" and s["env"]["OTHER"] == "x"
        assert set(s["env"]) == {"USER_VAR", "OTHER", NONCE_VARIABLE}
    assert len({s["env"][NONCE_VARIABLE] for s in seen[1:]}) >= 4  # a fresh nonce per forced cold start
    # nothing published or aliased by the sweep
    versions = [v["Version"] for v in client.list_versions_by_function(FunctionName=name)["Versions"]]
    assert versions == ["$LATEST", "1"]
    assert [a["Name"] for a in client.list_aliases(FunctionName=name)["Aliases"]] == ["live"]
    # the confirmation listed the changes
    assert prompts and any("memory: 192 MB -> each of 128, 256 MB" in line for line in prompts[0])

    snapshot = json.loads((out / "original_config.json").read_text())
    assert snapshot["config"] == {"memory_mb": 192, "timeout_s": 7, "architecture": "x86_64",
                                  "environment": {"OTHER": "x", "USER_VAR": "kept"}, "ephemeral_storage_mb": 512}
    assert snapshot["target"] == {"kind": "aws", "region": "us-east-1", "profile": None, "endpoint_url": moto_url}
    assert snapshot["aliases"] == ["live"] and snapshot["versions"] == ["1"]

    results = read_results(out)
    frame = results.invocations
    assert len(frame) == run.plan.total_invocations == 2 * (2 + 3 + 3)
    assert set(INVOCATION_FIELDS) <= set(frame.columns)
    assert frame["invocation_id"].is_unique
    assert list(frame["seq"]) == list(range(len(frame)))
    # moto's invoke runs nothing: recorded as errors without a REPORT, never dropped or retried
    assert set(frame["report_source"]) == {"missing"}
    assert set(frame["status"]) == {"error"}
    # the header names the variables; their values (maybe secrets) stay in the 0600 snapshot only
    assert results.header["original_config"] == {"memory_mb": 192, "timeout_s": 7, "architecture": "x86_64",
                                                  "environment_names": ["OTHER", "USER_VAR"],
                                                  "ephemeral_storage_mb": 512}
    assert (out / "original_config.json").stat().st_mode & 0o777 == 0o600
    assert results.header["target"] == "aws" and results.header["emulator"] is None
    events = [e["event"] for e in results.events]
    assert events.count("config_applied") == 2
    assert events[-2:] == ["restored", "completed"]


def test_restore_command_puts_back_a_function_left_mid_sweep(moto_url, aws_env, tmp_path):
    name = "lb-restore-cmd"
    create_function(moto_url, name, memory_mb=320, timeout_s=4, env={"A": "1"})
    out = tmp_path / "out"
    run_sweep(load_scenario(write_scenario(tmp_path, name, memory="[128]",
                                           scenarios='[[scenario]]\nkind = "cold"\ninvocations = 1\n')),
              SweepOptions(out_dir=out, endpoint_url=moto_url, logs_max_wait_s=0), confirm=lambda lines: None)
    # as a kill -9 would leave it: the sweep's memory and timeout, its nonce
    lambda_client(moto_url).update_function_configuration(
        FunctionName=name, MemorySize=128, Timeout=10, Environment={"Variables": {"A": "1", NONCE_VARIABLE: "z"}})
    result = run_cli("restore", str(out))
    assert result.returncode == 0, result.stderr
    assert f"{name}: restored (memory 320 MB, timeout 4 s" in result.stdout
    assert config_of(moto_url, name) == {"memory": 320, "timeout": 4, "env": {"A": "1"}}
    again = restore_from_dir(out)
    assert again.outcome.ok and not again.outcome.changed


def test_unknown_function_exits_2_and_writes_nothing(moto_url, tmp_path):
    out = tmp_path / "out"
    result = run_cli("sweep", str(write_scenario(tmp_path, "lb-no-such-function")), "--endpoint-url", moto_url,
                     "--yes", "--out", str(out))
    assert result.returncode == 2
    assert "function 'lb-no-such-function' not found" in result.stderr
    assert "hint:" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


def test_missing_region_exits_2_with_hint(moto_url, tmp_path):
    name = "lb-region"
    create_function(moto_url, name)
    result = run_cli("sweep", str(write_scenario(tmp_path, name, region=False)), "--endpoint-url", moto_url,
                     "--yes", "--out", str(tmp_path / "out"), drop=("AWS_REGION", "AWS_DEFAULT_REGION"))
    assert result.returncode == 2
    assert "No region configured" in result.stderr and "--region" in result.stderr
    assert config_of(moto_url, name)["memory"] == 192


def test_missing_credentials_exit_2(moto_url, tmp_path):
    name = "lb-creds"
    create_function(moto_url, name)
    result = run_cli("sweep", str(write_scenario(tmp_path, name)), "--endpoint-url", moto_url, "--yes",
                     "--out", str(tmp_path / "out"),
                     drop=("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"),
                     env_extra={"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
                                "AWS_EC2_METADATA_DISABLED": "true"})
    assert result.returncode == 2
    assert "No AWS credentials found" in result.stderr
    assert config_of(moto_url, name)["memory"] == 192


def test_without_yes_and_without_a_terminal_the_sweep_refuses(moto_url, tmp_path):
    name = "lb-refuse"
    create_function(moto_url, name, env={"K": "V"})
    result = run_cli("sweep", str(write_scenario(tmp_path, name)), "--endpoint-url", moto_url,
                     "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "lambdabench will change function" in result.stderr
    assert "add --yes" in result.stderr
    assert config_of(moto_url, name) == {"memory": 192, "timeout": 7, "env": {"K": "V"}}
    assert not (tmp_path / "out" / "results.jsonl").exists()


def test_dry_run_prints_the_plan_and_changes_nothing(moto_url, tmp_path):
    name = "lb-dry"
    create_function(moto_url, name)
    result = run_cli("sweep", str(write_scenario(tmp_path, name)), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "total invocations: 16" in result.stdout
    assert "configuration changes: 6 (2 grid points + 4 cold-start refreshes" in result.stdout
    assert "estimated cost on AWS: $" in result.stdout
    assert config_of(moto_url, name)["memory"] == 192


def test_restore_keeps_a_field_someone_else_changed_unless_forced(moto_url, aws_env, tmp_path):
    name = "lb-restore-other"
    create_function(moto_url, name, memory_mb=320, timeout_s=4, env={"A": "1"})
    out = tmp_path / "out"
    run_sweep(load_scenario(write_scenario(tmp_path, name, memory="[128]",
                                           scenarios='[[scenario]]\nkind = "cold"\ninvocations = 1\n')),
              SweepOptions(out_dir=out, endpoint_url=moto_url, logs_max_wait_s=0), confirm=lambda lines: None)
    # killed mid-sweep (memory 128, timeout 10, nonce), then a colleague set memory 1024
    lambda_client(moto_url).update_function_configuration(
        FunctionName=name, MemorySize=1024, Timeout=10, Environment={"Variables": {"A": "1", NONCE_VARIABLE: "z"}})
    result = run_cli("restore", str(out))
    assert result.returncode == 1
    assert "memory_mb: set to 1024 by another writer (the sweep had written 128); kept" in result.stderr
    assert f"lambdabench restore --force {out}" in result.stderr
    assert config_of(moto_url, name) == {"memory": 1024, "timeout": 4, "env": {"A": "1"}}
    result = run_cli("restore", "--force", str(out))
    assert result.returncode == 0, result.stderr
    assert config_of(moto_url, name) == {"memory": 320, "timeout": 4, "env": {"A": "1"}}


def test_differences_name_each_field_and_never_quote_a_value():
    want = FunctionConfig(128, 3, "x86_64", (("A", "1"), ("B", "2")), 512)
    got = FunctionConfig(256, 3, "arm64", (("A", "9"), (NONCE_VARIABLE, "n")), 512)
    assert differences(want, got) == [
        "memory_mb: expected 128, found 256",
        "architecture: expected x86_64, found arm64",
        "environment: A has another value than the original",
        "environment: B missing",
        f"environment: {NONCE_VARIABLE} should not be set",
    ]
    assert differences(want, want) == []


def test_invalid_memory_exits_2_before_touching_the_function(moto_url, tmp_path):
    name = "lb-bad-memory"
    create_function(moto_url, name)
    result = run_cli("sweep", str(write_scenario(tmp_path, name, memory="[128, 20000]")), "--endpoint-url",
                     moto_url, "--yes", "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "sweep.memory_mb" in result.stderr and "20000" in result.stderr
    assert "Traceback" not in result.stderr
    assert config_of(moto_url, name) == {"memory": 192, "timeout": 7, "env": {}}
    assert not (tmp_path / "out").exists()


def test_a_qualified_arn_is_refused_before_any_change(moto_url, tmp_path):
    name = "lb-qualified"
    create_function(moto_url, name)
    arn = lambda_client(moto_url).get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    result = run_cli("sweep", str(write_scenario(tmp_path, f"{arn}:prod")), "--endpoint-url", moto_url, "--yes",
                     "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "qualifier" in result.stderr and "$LATEST" in result.stderr  # the scenario loader refuses it
    assert config_of(moto_url, name)["memory"] == 192


def test_resume_refuses_a_different_scenario(tmp_path):
    from lambdabench.errors import UsageError
    from lambdabench.results import ResultsWriter
    from lambdabench.sweep.driver import check_resume
    from lambdabench.sweep.plan import build_plan

    first = load_scenario(write_scenario(tmp_path, "lb-resume"))
    (tmp_path / "out").mkdir()
    with ResultsWriter(tmp_path / "out" / "results.jsonl",
                       {"scenario": first.to_dict(), "plan": build_plan(first).to_header()}):
        pass  # an interrupted sweep of the first scenario: a header and nothing else
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    changed = load_scenario(write_scenario(other_dir, "lb-resume", memory="[128, 512]"))
    with pytest.raises(UsageError, match="ran a different scenario"):
        check_resume(tmp_path / "out", changed, build_plan(changed), "lb-resume")


@pytest.mark.parametrize("isolation", ["--copy", "--in-place"])
def test_the_architecture_axis_on_an_image_function_is_refused_before_anything_is_created(moto_url, tmp_path,
                                                                                          isolation):
    client = lambda_client(moto_url)
    iam = boto3.client("iam", endpoint_url=moto_url, region_name="us-east-1", aws_access_key_id="testing",
                       aws_secret_access_key="testing")
    try:
        role = iam.get_role(RoleName="lb-test")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName="lb-test", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    name = f"lb-image{isolation.replace('--', '-')}"
    client.create_function(FunctionName=name, Role=role, PackageType="Image", MemorySize=192, Timeout=7,
                           Code={"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1"})
    before = {f["FunctionName"]: f.get("LastModified") for f in client.list_functions()["Functions"]}
    path = write_scenario(tmp_path, name)
    path.write_text(path.read_text().replace('isolation = "in-place"\n', "").replace(
        "timeout_s = [10]", 'timeout_s = [10]\narchitectures = ["x86_64", "arm64"]'))
    result = run_cli("sweep", str(path), "--endpoint-url", moto_url, "--yes", isolation, "--out", str(tmp_path / "out"))
    assert result.returncode == 2, result.stderr
    assert f"{name} is a container image built for x86_64" in result.stderr
    assert "hint: remove [sweep] architectures" in result.stderr
    assert {f["FunctionName"]: f.get("LastModified") for f in client.list_functions()["Functions"]} == before
    assert not (tmp_path / "out" / "results.jsonl").exists()
