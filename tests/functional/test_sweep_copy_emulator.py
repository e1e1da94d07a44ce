"""Copy-mode sweeps end to end: real `python -m lambdabench` against the emulator (aws target, --endpoint-url).

A "live traffic" thread invokes the original every 100 ms while the sweep runs on its copies: it must see
the original's memory, no cold start, and the same RevisionId throughout. Afterwards (and after SIGINT,
and after kill -9 + `restore`) no copy and no copy log group is left. A secret environment value never
reaches either output stream or any file the sweep writes.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from lambdabench.emulator import Emulator
from lambdabench.logs import parse_report
from lambdabench.results import read_results

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cr3t-Value-9f4c1b"
ORIGINAL_MEMORY_MB = 192
SOURCE = """
    import time
    def handler(event, context):
        time.sleep(0.02)
        return {"ok": True}
"""


@pytest.fixture(scope="module")
def emulator():
    with Emulator(keep_alive_s=120, account_concurrency=12) as emu:
        yield emu


@pytest.fixture(scope="module")
def lam(emulator, emulator_helpers):
    return emulator_helpers.clients(emulator.endpoint)[0]


@pytest.fixture(scope="module")
def logs(emulator, emulator_helpers):
    return emulator_helpers.clients(emulator.endpoint)[1]


def make_function(lam, helpers, name: str, **extra) -> dict:
    helpers.create(lam, name, SOURCE, memory=ORIGINAL_MEMORY_MB, timeout=5,
                   Environment={"Variables": {"API_TOKEN": SECRET, "MODE": "prod"}}, **extra)
    return lam.get_function_configuration(FunctionName=name)


def scenario(tmp_path: Path, function: str, *, memory="[128, 256]", extra_sweep="", scenarios=None,
             target_extra="") -> Path:
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
        concurrency = 2
        """
    path = tmp_path / f"{function.split(':')[-1]}.toml"
    path.write_text(textwrap.dedent(f"""
        name = "copytest"
        [function]
        name = "{function}"
        [target]
        kind = "aws"
        region = "us-east-1"
        {target_extra}
        [sweep]
        memory_mb = {memory}
        timeout_s = [10]
        {extra_sweep}
        """) + textwrap.dedent(scenarios))
    return path


def cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_CONFIG_FILE=os.devnull,
               AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    return env


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lambdabench", *args], capture_output=True, text=True,
                          env=cli_env(), cwd=ROOT, timeout=240, stdin=subprocess.DEVNULL)


def start_cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "lambdabench", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=cli_env(), cwd=ROOT, stdin=subprocess.DEVNULL)


def copies_of(lam, name: str) -> list[str]:
    names = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    return sorted(n for n in names if n.startswith(f"{name}-lb-"))


def copy_log_groups(logs, name: str) -> list[str]:
    groups = logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}-lb-")["logGroups"]
    return sorted(g["logGroupName"] for g in groups)


def wait_for(predicate, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


class LiveTraffic(threading.Thread):
    """Invokes the original every 100 ms and keeps what each REPORT and GetFunction said."""

    def __init__(self, lam, name: str):
        super().__init__(daemon=True)
        self.lam, self.name = lam, name
        self.stop = threading.Event()
        self.reports = []
        self.revisions: set[str] = set()

    def run(self) -> None:
        while not self.stop.is_set():
            reply = self.lam.invoke(FunctionName=self.name, LogType="Tail", Payload=b"{}")
            self.reports.append(parse_report(base64.b64decode(reply["LogResult"]).decode()))
            self.revisions.add(self.lam.get_function_configuration(FunctionName=self.name)["RevisionId"])
            self.stop.wait(0.1)


def all_output_text(out: Path, result_streams: list[str]) -> list[tuple[str, str]]:
    texts = [(f"stream {i}", s) for i, s in enumerate(result_streams)]
    for path in sorted(out.rglob("*")):
        if path.is_file():
            texts.append((str(path), path.read_bytes().decode("utf-8", "replace")))
    return texts


def test_copy_sweep_measures_copies_while_the_original_serves_unchanged_and_leaves_nothing(
        lam, logs, emulator_helpers, tmp_path):
    name = "shop-api"
    before = make_function(lam, emulator_helpers, name)
    lam.invoke(FunctionName=name, Payload=b"{}")  # the live function is warm before the sweep starts
    traffic = LiveTraffic(lam, name)
    traffic.start()
    out = tmp_path / "out"
    try:
        result = run_cli("sweep", str(scenario(tmp_path, name, extra_sweep='architectures = ["x86_64", "arm64"]')),
                         "--endpoint-url", lam.meta.endpoint_url, "--yes",
                         "--out", str(out), "--logs-wait-s", "0")
    finally:
        traffic.stop.set()
        traffic.join(timeout=30)
    assert result.returncode == 0, result.stderr

    # the original: only read. Same RevisionId before, during and after; served warm at its own memory.
    after = lam.get_function_configuration(FunctionName=name)
    assert traffic.revisions == {before["RevisionId"]} and after["RevisionId"] == before["RevisionId"]
    assert after["MemorySize"] == ORIGINAL_MEMORY_MB and after["Architectures"] == ["x86_64"]
    assert after["Environment"]["Variables"] == {"API_TOKEN": SECRET, "MODE": "prod"}
    assert len(traffic.reports) >= 5
    assert {r.memory_size_mb for r in traffic.reports} == {ORIGINAL_MEMORY_MB}
    assert [r.cold for r in traffic.reports] == [False] * len(traffic.reports)

    # the sweep ran on one copy per architecture, at the grid's memories, and deleted them with their logs
    frame = read_results(out).invocations
    assert set(frame["status"]) == {"ok"}
    assert set(zip(frame["architecture"], frame["memory_size_mb"])) == {
        ("x86_64", 128), ("x86_64", 256), ("arm64", 128), ("arm64", 256)}
    assert copies_of(lam, name) == [] and copy_log_groups(logs, name) == []
    header = json.loads((out / "results.jsonl").read_text().splitlines()[0])
    assert header["isolation"]["mode"] == "copy"
    run_id = header["isolation"]["run_id"]
    events = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()
              if '"event"' in line]
    restored = [e for e in events if e.get("event") == "restored"]
    assert restored[-1]["copies_deleted"] == [f"{name}-lb-{run_id}", f"{name}-lb-{run_id}-arm"]
    assert restored[-1]["original_revision_unchanged"] is True
    assert "the original is only read" in result.stderr
    assert (f"deleted the sweep's copies and their log groups ({name}-lb-{run_id}, {name}-lb-{run_id}-arm); "
            "the original was not changed") in result.stderr
    assert "copy: measures an on-demand $LATEST copy" in (out / "index.html").read_text()  # the report says it

    # the secret: in no stream, in no file (copy mode writes no value to disk)
    leaks = [where for where, text in all_output_text(out, [result.stdout, result.stderr]) if SECRET in text]
    assert leaks == []
    snapshot = json.loads((out / "original_config.json").read_text())
    assert snapshot["config"]["environment"] == {} and snapshot["config"]["environment_names"] == ["API_TOKEN", "MODE"]


def test_in_place_snapshot_keeps_the_values_for_restore_in_a_file_only_its_owner_reads(
        lam, emulator_helpers, tmp_path):
    name = "inplace-secret"
    make_function(lam, emulator_helpers, name)
    out = tmp_path / "out"
    result = run_cli("sweep", str(scenario(tmp_path, name, memory="[128]", scenarios="""
        [[scenario]]
        kind = "cold"
        invocations = 1
        """)), "--endpoint-url", lam.meta.endpoint_url, "--in-place", "--yes", "--out", str(out),
        "--logs-wait-s", "0")
    assert result.returncode == 0, result.stderr
    snapshot = out / "original_config.json"
    assert snapshot.stat().st_mode & 0o777 == 0o600
    assert json.loads(snapshot.read_text())["config"]["environment"] == {"API_TOKEN": SECRET, "MODE": "prod"}
    leaks = [where for where, text in all_output_text(out, [result.stdout, result.stderr])
             if SECRET in text and where != str(snapshot)]
    assert leaks == []
    assert lam.get_function_configuration(FunctionName=name)["MemorySize"] == ORIGINAL_MEMORY_MB


LONG_SWEEP = """
    [[scenario]]
    kind = "cold"
    invocations = 40
    """


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_copy_sweep_deletes_its_copies_and_their_log_groups(lam, logs, emulator_helpers,
                                                                            tmp_path, sig, default_sigint):
    name = f"intr-{sig.name.lower()}"
    make_function(lam, emulator_helpers, name)
    out = tmp_path / "out"
    proc = start_cli("sweep", str(scenario(tmp_path, name, memory="[128, 256, 512]", scenarios=LONG_SWEEP)),
                     "--endpoint-url", lam.meta.endpoint_url, "--yes", "--out", str(out), "--logs-wait-s", "0")
    try:
        wait_for(lambda: (out / "results.jsonl").exists()
                 and '"invocation_id"' in (out / "results.jsonl").read_text())
        assert len(copies_of(lam, name)) == 1
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, stderr
    assert "interrupted: the sweep's copies were deleted; the original function was never changed" in stderr
    assert copies_of(lam, name) == [] and copy_log_groups(logs, name) == []
    assert SECRET not in stdout + stderr


def test_restore_deletes_the_copies_a_killed_sweep_left(lam, logs, emulator_helpers, tmp_path):
    name = "killed"
    before = make_function(lam, emulator_helpers, name)
    out = tmp_path / "out"
    proc = start_cli("sweep", str(scenario(tmp_path, name, memory="[128, 256, 512]", scenarios=LONG_SWEEP)),
                     "--endpoint-url", lam.meta.endpoint_url, "--yes", "--out", str(out), "--logs-wait-s", "0")
    try:
        wait_for(lambda: (out / "results.jsonl").exists()
                 and '"invocation_id"' in (out / "results.jsonl").read_text())
        proc.kill()
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    left = copies_of(lam, name)
    assert len(left) == 1 and copy_log_groups(logs, name) == [f"/aws/lambda/{left[0]}"]

    result = run_cli("restore", str(out))
    assert result.returncode == 0, result.stderr
    assert f"deleted the sweep's copies and their log groups: {left[0]}" in result.stdout
    assert copies_of(lam, name) == [] and copy_log_groups(logs, name) == []
    assert lam.get_function_configuration(FunctionName=name)["RevisionId"] == before["RevisionId"]


def test_cleanup_deletes_every_tagged_copy_and_nothing_else(lam, logs, emulator_helpers, tmp_path):
    emulator_helpers.create(lam, "keep-me", SOURCE)
    emulator_helpers.create(lam, "keep-me-lb-aaaa1111", SOURCE, Tags={"lambdabench:sweep": "aaaa1111",
                                                                     "lambdabench:source": "arn:x"})
    lam.invoke(FunctionName="keep-me-lb-aaaa1111", Payload=b"{}")  # creates its log group
    result = run_cli("cleanup", "--endpoint-url", lam.meta.endpoint_url, "--region", "us-east-1")
    assert result.returncode == 2 and "add --yes" in result.stderr  # no terminal to ask on
    assert "keep-me-lb-aaaa1111  (sweep aaaa1111, copy of arn:x)" in result.stdout
    result = run_cli("cleanup", "--endpoint-url", lam.meta.endpoint_url, "--region", "us-east-1", "--yes")
    assert result.returncode == 0, result.stderr
    assert "deleted 1 function(s) and their log groups" in result.stdout
    names = {f["FunctionName"] for f in lam.list_functions()["Functions"]}
    assert "keep-me" in names and "keep-me-lb-aaaa1111" not in names
    assert copy_log_groups(logs, "keep-me") == []


# -- preflight: refused with exit 2 before anything is created or changed ---------------------------------

def functions_and_revisions(lam) -> dict[str, str]:
    return {f["FunctionName"]: f["RevisionId"] for f in lam.list_functions()["Functions"]}


def refused(lam, tmp_path: Path, function: str, *extra: str, **scenario_kw) -> str:
    before = functions_and_revisions(lam)
    out = tmp_path / "out"
    result = run_cli("sweep", str(scenario(tmp_path, function, **scenario_kw)), "--endpoint-url",
                     lam.meta.endpoint_url, "--yes", "--out", str(out), *extra)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and SECRET not in result.stdout + result.stderr
    assert functions_and_revisions(lam) == before  # nothing created, nothing changed
    assert not (out / "results.jsonl").exists()
    return result.stderr


def test_a_managed_instances_function_is_refused(lam, emulator_helpers, tmp_path):
    provider = {"CapacityProviderArn": "arn:aws:lambda:us-east-1:123456789012:capacity-provider:fleet"}
    make_function(lam, emulator_helpers, "managed",
                  CapacityProviderConfig={"LambdaManagedInstancesCapacityProviderConfig": provider})
    err = refused(lam, tmp_path, "managed")
    assert "Lambda Managed Instances function (CapacityProviderConfig)" in err
    assert "$LATEST.PUBLISHED" in err and "hint: sweep an on-demand function" in err


def test_an_environment_the_nonce_would_push_over_4_kb_is_refused(lam, emulator_helpers, tmp_path):
    # 4,096 bytes of compact JSON is Lambda's limit: leave less room than the nonce needs
    filler = "x" * (4096 - len(json.dumps({"API_TOKEN": SECRET, "BIG": ""}, separators=(",", ":"))) - 10)
    emulator_helpers.create(lam, "fat-env", SOURCE, Environment={"Variables": {"API_TOKEN": SECRET, "BIG": filler}})
    err = refused(lam, tmp_path, "fat-env")
    assert "over Lambda's 4096-byte limit" in err and "hint: make room for" in err


def test_a_qualified_arn_is_refused_with_the_unqualified_one_to_use(lam, emulator_helpers, tmp_path):
    make_function(lam, emulator_helpers, "versioned")
    lam.publish_version(FunctionName="versioned")
    arn = "arn:aws:lambda:us-east-1:123456789012:function:versioned:1"
    err = refused(lam, tmp_path, arn)
    assert "qualified ARN (version or alias)" in err


def test_the_region_of_a_full_arn_wins_and_a_different_region_is_refused(lam, emulator_helpers, tmp_path):
    make_function(lam, emulator_helpers, "regional")
    arn = "arn:aws:lambda:us-east-1:123456789012:function:regional"
    err = refused(lam, tmp_path, arn, "--region", "eu-west-1")
    assert "the function ARN is in us-east-1, but --region says eu-west-1" in err
    assert "hint: drop --region (the ARN's region is used)" in err


def test_a_pending_function_is_refused_with_wait(emulator, lam, emulator_helpers, tmp_path):
    emulator.pending_s = 60.0
    try:
        emulator_helpers.create(lam, "pending", SOURCE, wait=False)
        err = refused(lam, tmp_path, "pending")
    finally:
        emulator.pending_s = 0.0
    assert "pending is Pending" in err and "aws lambda wait function-active-v2 --function-name pending" in err


ONE_COLD = """
    [[scenario]]
    kind = "cold"
    invocations = 2
    """


def test_an_inactive_function_is_refused_in_place_without_wake_inactive(emulator, lam, emulator_helpers, tmp_path):
    make_function(lam, emulator_helpers, "sleepy")
    emulator.make_inactive("sleepy")
    err = refused(lam, tmp_path, "sleepy", "--in-place", memory="[128]", scenarios=ONE_COLD)
    assert "sleepy is Inactive: Lambda reclaimed its resources after it stayed idle" in err
    assert ("hint: sweep a disposable copy instead (drop --in-place: the copy is created Active from the same "
            "code and the original stays as it is), or add --wake-inactive") in err
    assert lam.get_function_configuration(FunctionName="sleepy")["State"] == "Inactive"  # not woken either


def test_a_copy_sweep_of_an_inactive_function_runs_and_leaves_the_original_inactive(
        emulator, lam, logs, emulator_helpers, tmp_path):
    before = make_function(lam, emulator_helpers, "dormant")
    emulator.make_inactive("dormant")
    out = tmp_path / "out"
    result = run_cli("sweep", str(scenario(tmp_path, "dormant", memory="[128]", scenarios=ONE_COLD)),
                     "--endpoint-url", lam.meta.endpoint_url, "--yes", "--out", str(out), "--logs-wait-s", "0")
    assert result.returncode == 0, result.stderr
    assert ("note: dormant is Inactive (idle; Lambda reclaimed its resources): it is only read and stays Inactive; "
            "the copies are created from its code and become Active on their own") in result.stderr
    assert set(read_results(out).invocations["status"]) == {"ok"}
    after = lam.get_function_configuration(FunctionName="dormant")
    assert (after["State"], after["StateReasonCode"], after["RevisionId"]) == ("Inactive", "Idle",
                                                                              before["RevisionId"])
    assert copies_of(lam, "dormant") == [] and copy_log_groups(logs, "dormant") == []


def test_in_place_with_wake_inactive_wakes_the_function_first_and_measures_no_error(
        emulator, lam, emulator_helpers, tmp_path):
    make_function(lam, emulator_helpers, "napping")
    emulator.make_inactive("napping")
    emulator.pending_s = 1.5  # restoring an Inactive function keeps it Pending this long
    out = tmp_path / "out"
    try:
        result = run_cli("sweep", str(scenario(tmp_path, "napping", memory="[128]", scenarios=ONE_COLD)),
                         "--endpoint-url", lam.meta.endpoint_url, "--in-place", "--wake-inactive", "--yes",
                         "--out", str(out), "--logs-wait-s", "0")
    finally:
        emulator.pending_s = 0.0
    assert result.returncode == 0, result.stderr
    assert ("wakes napping first: it is Inactive, so one invoke (which Lambda fails while it restores the "
            "function's resources) and a wait until it is Active (--wake-inactive)") in result.stderr
    frame = read_results(out).invocations
    assert list(frame["status"]) == ["ok", "ok"] and list(frame["cold"]) == [True, True]
    after = lam.get_function_configuration(FunctionName="napping")
    assert after["State"] == "Active" and after["MemorySize"] == ORIGINAL_MEMORY_MB
    assert "LAMBDABENCH_NONCE" not in after["Environment"]["Variables"]


def test_in_place_on_a_function_with_live_traffic_is_refused_without_accept_live_traffic(
        lam, emulator_helpers, tmp_path):
    make_function(lam, emulator_helpers, "busy")
    lam.create_function_url_config(FunctionName="busy", AuthType="NONE")
    lam.add_permission(FunctionName="busy", StatementId="apigw", Action="lambda:InvokeFunction",
                       Principal="apigateway.amazonaws.com")
    lam.create_alias(FunctionName="busy", Name="live", FunctionVersion="$LATEST")
    err = refused(lam, tmp_path, "busy", "--in-place")
    assert "serves live traffic" in err
    assert "alias live points at $LATEST" in err and "function URL http" in err
    assert "resource policy lets apigateway.amazonaws.com invoke it (statement apigw)" in err
    assert "hint: sweep a disposable copy instead (drop --in-place), or add --accept-live-traffic --yes" in err


# -- in place: another writer's change stops the sweep and is kept ----------------------------------------

def test_an_in_place_sweep_stops_on_a_foreign_change_undoes_only_its_own_and_exits_1(
        lam, emulator_helpers, tmp_path):
    name = "contested"
    make_function(lam, emulator_helpers, name)
    out = tmp_path / "out"
    proc = start_cli("sweep", str(scenario(tmp_path, name, memory="[128, 256, 512]", scenarios=LONG_SWEEP)),
                     "--endpoint-url", lam.meta.endpoint_url, "--in-place", "--yes", "--out", str(out),
                     "--logs-wait-s", "0")
    try:
        wait_for(lambda: (out / "results.jsonl").exists()
                 and '"invocation_id"' in (out / "results.jsonl").read_text())
        colleague = emulator_helpers.second_writer(lam.meta.endpoint_url)
        colleague.update_function_configuration(  # a deploy: their environment, their timeout
            FunctionName=name, Timeout=9, Environment={"Variables": {"API_TOKEN": SECRET, "MODE": "canary"}})
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 1, stderr
    after = lam.get_function_configuration(FunctionName=name)
    # theirs kept (timeout, environment without the nonce); the sweep's memory put back
    assert after["Timeout"] == 9 and after["Environment"]["Variables"] == {"API_TOKEN": SECRET, "MODE": "canary"}
    assert after["MemorySize"] == ORIGINAL_MEMORY_MB
    assert f"error: {name} was changed by someone else" in stderr
    assert "timeout_s: set to 9 by another writer (the sweep had written 10); kept" in stderr
    assert "environment: MODE changed by another writer; their value kept" in stderr
    assert SECRET not in stdout + stderr
    events = [json.loads(line).get("event") for line in (out / "results.jsonl").read_text().splitlines()]
    assert "own_changes_undone" in events and "restored" not in events


def test_in_place_with_accept_live_traffic_and_yes_lists_the_evidence_and_sweeps(lam, emulator_helpers, tmp_path):
    name = "busy-ok"
    make_function(lam, emulator_helpers, name)
    mapping = lam.create_event_source_mapping(FunctionName=name,
                                              EventSourceArn="arn:aws:sqs:us-east-1:123456789012:orders")
    result = run_cli("sweep", str(scenario(tmp_path, name, memory="[128]", scenarios="""
        [[scenario]]
        kind = "cold"
        invocations = 1
        """)), "--endpoint-url", lam.meta.endpoint_url, "--in-place", "--accept-live-traffic", "--yes",
        "--out", str(tmp_path / "out"), "--logs-wait-s", "0")
    assert result.returncode == 0, result.stderr
    assert (f"live traffic: event source mapping {mapping['UUID']} from arn:aws:sqs:us-east-1:123456789012:orders"
            in result.stderr)
    assert lam.get_function_configuration(FunctionName=name)["MemorySize"] == ORIGINAL_MEMORY_MB


def test_the_confirmation_warns_when_a_burst_exceeds_the_unreserved_concurrency(lam, emulator_helpers, tmp_path,
                                                                               monkeypatch):
    from lambdabench.errors import UsageError
    from lambdabench.scenario import load_scenario
    from lambdabench.sweep.run import SweepOptions, run_sweep

    for key, value in cli_env().items():
        if key.startswith("AWS_"):
            monkeypatch.setenv(key, value)
    name = "wide-burst"
    make_function(lam, emulator_helpers, name)
    unreserved = lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"]
    prompts: list[list[str]] = []

    def refuse(lines: list[str]) -> None:
        prompts.append(lines)
        raise UsageError("cancelled by the test")

    with pytest.raises(UsageError, match="cancelled by the test"):
        run_sweep(load_scenario(scenario(tmp_path, name, scenarios=f"""
            [[scenario]]
            kind = "burst"
            concurrency = {unreserved + 1}
            """)), SweepOptions(out_dir=tmp_path / "out", endpoint_url=lam.meta.endpoint_url), confirm=refuse)
    assert (f"  warning: a burst of {unreserved + 1} exceeds the account's {unreserved} unreserved concurrent "
            "executions in this region: the excess is throttled (recorded as throttled, not retried)") in prompts[0]
    assert copies_of(lam, name) == []


def test_resuming_a_killed_copy_sweep_replaces_its_leftover_copy_and_finishes_clean(lam, logs, emulator_helpers,
                                                                                   tmp_path):
    name = "resumed-copy"
    make_function(lam, emulator_helpers, name)
    out = tmp_path / "out"
    path = scenario(tmp_path, name, memory="[128, 256]", scenarios="""
        [[scenario]]
        kind = "cold"
        invocations = 15
        """)
    proc = start_cli("sweep", str(path), "--endpoint-url", lam.meta.endpoint_url, "--yes", "--out", str(out),
                     "--logs-wait-s", "0")
    try:
        wait_for(lambda: (out / "results.jsonl").exists()
                 and '"invocation_id"' in (out / "results.jsonl").read_text())
        proc.kill()
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert len(copies_of(lam, name)) == 1
    result = run_cli("sweep", str(path), "--endpoint-url", lam.meta.endpoint_url, "--yes", "--resume", str(out),
                     "--logs-wait-s", "0")
    assert result.returncode == 0, result.stderr
    frame = read_results(out).invocations
    assert len(frame) == 30 and frame["invocation_id"].is_unique
    assert copies_of(lam, name) == [] and copy_log_groups(logs, name) == []


def test_restore_finds_a_runs_copies_by_name_and_deletes_only_those_carrying_its_tag(lam, emulator_helpers,
                                                                                    monkeypatch):
    from lambdabench.sweep.clients import make_clients

    for key, value in cli_env().items():
        if key.startswith("AWS_"):
            monkeypatch.setenv(key, value)
    from lambdabench.sweep.isolation import recorded_copies, run_copy_names

    assert run_copy_names("orders", "abcd1234", "x86_64") == ["orders-lb-abcd1234", "orders-lb-abcd1234-arm"]
    assert run_copy_names("orders", "abcd1234", "arm64") == ["orders-lb-abcd1234", "orders-lb-abcd1234-x86"]
    # same name, another sweep's tag: not this run's copy
    emulator_helpers.create(lam, "orders-lb-abcd1234", SOURCE, Tags={"lambdabench:sweep": "ffff0000"})
    emulator_helpers.create(lam, "orders-lb-abcd1234-arm", SOURCE,
                            Tags={"lambdabench:sweep": "abcd1234", "lambdabench:source": "arn:orders"})
    clients = make_clients("aws", region="us-east-1", endpoint_url=lam.meta.endpoint_url)
    found = recorded_copies(clients, "orders", "abcd1234", "x86_64")
    assert [(c.name, c.run_id, c.source) for c in found] == [("orders-lb-abcd1234-arm", "abcd1234", "arn:orders")]


# -- restore compares the code's KMS key (and, tests/functional/test_restore_cli.py, the image tag) ------

CODE_KEY = "arn:aws:kms:us-east-1:123456789012:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"


def make_keyed_function(lam, helpers, name: str) -> bytes:
    code = helpers.zip_of({"app.py": textwrap.dedent(SOURCE)})
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=helpers.ROLE, Handler="app.handler",
                        Code={"ZipFile": code, "SourceKMSKeyArn": CODE_KEY}, MemorySize=ORIGINAL_MEMORY_MB,
                        Timeout=5, Environment={"Variables": {"API_TOKEN": SECRET, "MODE": "prod"}})
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    return code


def test_an_in_place_architecture_sweep_puts_the_code_back_encrypted_with_its_own_key(lam, emulator_helpers,
                                                                                     tmp_path):
    name = "keyed-arch"
    make_keyed_function(lam, emulator_helpers, name)
    out = tmp_path / "out"
    result = run_cli("sweep", str(scenario(tmp_path, name, memory="[128]", scenarios=ONE_COLD,
                                           extra_sweep='architectures = ["x86_64", "arm64"]')),
                     "--endpoint-url", lam.meta.endpoint_url, "--in-place", "--yes", "--out", str(out),
                     "--logs-wait-s", "0")
    assert result.returncode == 0, result.stderr
    after = lam.get_function(FunctionName=name)
    assert after["Configuration"]["Architectures"] == ["x86_64"]
    assert after["Code"]["SourceKMSKeyArn"] == CODE_KEY  # both re-uploads carried the key
    assert json.loads((out / "original_config.json").read_text())["source_kms_key_arn"] == CODE_KEY
    assert set(read_results(out).invocations["architecture"]) == {"x86_64", "arm64"}


def test_restore_reports_a_code_key_lost_since_the_sweep_and_leaves_the_code_alone(lam, emulator_helpers,
                                                                                  tmp_path):
    name = "keyed-lost"
    code = make_keyed_function(lam, emulator_helpers, name)
    out = tmp_path / "out"
    result = run_cli("sweep", str(scenario(tmp_path, name, memory="[128]", scenarios=ONE_COLD)),
                     "--endpoint-url", lam.meta.endpoint_url, "--in-place", "--yes", "--out", str(out),
                     "--logs-wait-s", "0")
    assert result.returncode == 0, result.stderr
    # a colleague redeploys without the key: Lambda encrypts the package with an AWS owned key
    lam.update_function_code(FunctionName=name, ZipFile=code)
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    deployed = lam.get_function_configuration(FunctionName=name)["RevisionId"]
    result = run_cli("restore", str(out))
    assert result.returncode == 1, result.stderr
    assert f"{name} still differs from its original configuration" in result.stderr
    assert f"code encryption key: expected {CODE_KEY}, found an AWS owned key" in result.stderr
    assert (f"hint: aws lambda update-function-code --function-name {name} --zip-file fileb://<the function's "
            f"package> --source-kms-key-arn {CODE_KEY}") in result.stderr
    assert "update-function-configuration" not in result.stderr  # the configuration matches: no command for it
    assert lam.get_function_configuration(FunctionName=name)["RevisionId"] == deployed  # their deploy untouched
    events = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines() if '"event"' in line]
    assert events[-1]["event"] == "restore_failed" and any("code encryption key" in d
                                                           for d in events[-1]["differences"])
    assert SECRET not in result.stdout + result.stderr
