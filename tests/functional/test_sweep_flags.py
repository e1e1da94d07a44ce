"""Sweeps from flags, end to end (`python -m lambdabench`): a flags-only sweep equals the same sweep from the
equivalent scenario file record for record (apart from ids, times and measured durations), on the local
target and on the aws target against the emulator (`--endpoint-url`); a flag overrides its key of a file;
`--resume` finishes a flags-only sweep; `init` writes files that `sweep --dry-run` accepts as they stand."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import textwrap
import time
import tomllib
from pathlib import Path

import pytest

from lambdabench.emulator import Emulator
from lambdabench.results import read_results

ROOT = Path(__file__).resolve().parents[2]
CODE = Path(__file__).resolve().parents[1] / "data" / "sweep_tiny"
SECRET = "s3cr3t-flag-Value-77"
# What differs between two runs of the same sweep: ids, clocks, what was measured, and the order in which
# a burst's invocations finished (`seq`, the write order: records are compared sorted by invocation id).
VARYING = {"request_id", "started_at", "duration_ms", "billed_duration_ms", "init_duration_ms",
           "max_memory_used_mb", "client_ms", "cost_usd", "restore_duration_ms", "seq"}

pytestmark = pytest.mark.slow


def cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_CONFIG_FILE=os.devnull,
               AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    return env


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lambdabench", *args], capture_output=True, text=True,
                          env=cli_env(), cwd=cwd, timeout=240, stdin=subprocess.DEVNULL)


def comparable(out: Path) -> tuple[dict, list[dict]]:
    """The header's effective scenario (without its path) and plan, and every record minus what varies
    (events in file order, then invocations by id)."""
    text = re.sub(r"-lb-[0-9a-f]+\b", "-lb-RUNID", (out / "results.jsonl").read_text())  # copies' names
    lines = [json.loads(line) for line in text.splitlines()]
    header = lines[0]
    scenario = dict(header["scenario"])
    scenario.pop("path")
    events, invocations = [], []
    for line in lines[1:]:
        if line["type"] == "invocation":
            invocations.append({k: v for k, v in line.items() if k not in VARYING})
        else:
            events.append({k: v for k, v in line.items() if k not in ("duration_ms", "at")})
    return {"scenario": scenario, "plan": header["plan"]}, events + sorted(invocations,
                                                                           key=lambda r: r["invocation_id"])


@pytest.fixture(scope="module")
def emulator():
    with Emulator(keep_alive_s=120, account_concurrency=12) as emu:
        yield emu


@pytest.fixture(scope="module")
def lam(emulator, emulator_helpers):
    lam = emulator_helpers.clients(emulator.endpoint)[0]
    emulator_helpers.create(lam, "orders-api", "def handler(event, context):\n    return event\n", memory=640,
                            timeout=7, Environment={"Variables": {"API_TOKEN": SECRET}})
    return lam


def test_a_flags_only_local_sweep_equals_the_same_sweep_from_a_file(tmp_path):
    flags = ["--code", str(CODE), "--handler", "app.handler", "--runtime", "python3.12", "--memory", "128,256",
             "--timeout", "5", "--payload", '{"sleep_s": 0.01}', "--cold", "2", "--warm", "3", "--burst", "2x2",
             "--strategy", "cost"]
    from_flags = run_cli("sweep", *flags, "--out", str(tmp_path / "flags"), cwd=tmp_path)
    assert from_flags.returncode == 0, from_flags.stderr

    scenario = tmp_path / "sweep_tiny.toml"  # named as the flags-only sweep names itself: the code folder
    scenario.write_text(textwrap.dedent(f"""
        [function]
        code = "{CODE.as_posix()}"
        handler = "app.handler"
        runtime = "python3.12"
        [sweep]
        memory_mb = [128, 256]
        timeout_s = [5]
        payload = {{ sleep_s = 0.01 }}
        [recommend]
        strategy = "cost"
        [[scenario]]
        kind = "cold"
        invocations = 2
        [[scenario]]
        kind = "warm"
        invocations = 3
        [[scenario]]
        kind = "burst"
        concurrency = 2
        waves = 2
        """))
    from_file = run_cli("sweep", str(scenario), "--out", str(tmp_path / "file"))
    assert from_file.returncode == 0, from_file.stderr

    flags_header, flags_records = comparable(tmp_path / "flags")
    file_header, file_records = comparable(tmp_path / "file")
    assert flags_header == file_header
    assert flags_header["scenario"]["name"] == "sweep_tiny"
    assert len(flags_records) == len(file_records) > 2 * (2 + 5 + 4)
    for mine, theirs in zip(flags_records, file_records):
        assert mine == theirs
    assert {r["status"] for r in flags_records if "status" in r} == {"ok"}
    # report and compare read a flags-only sweep like any other
    report = run_cli("report", str(tmp_path / "flags"), "--no-html")
    assert report.returncode == 0, report.stderr
    compare = run_cli("compare", str(tmp_path / "file"), str(tmp_path / "flags"), "--fail-on", "p95+1000%")
    assert compare.returncode == 0, compare.stdout + compare.stderr


def test_a_flags_only_aws_sweep_equals_the_same_sweep_from_a_file_and_keeps_secrets_out(lam, emulator, tmp_path):
    endpoint = emulator.endpoint
    event = tmp_path / "event.json"
    event.write_text('{"order": 42}')
    flags = ["--function", "orders-api", "--memory", "128,256", "--arch", "x86_64", "--payload", "@event.json",
             "--cold", "1", "--warm", "2", "--strategy", "slo", "--p95-slo-ms", "250"]
    common = ["--endpoint-url", endpoint, "--region", "us-east-1", "--yes"]
    from_flags = run_cli("sweep", *flags, *common, "--out", str(tmp_path / "flags"), cwd=tmp_path)
    assert from_flags.returncode == 0, from_flags.stderr
    # The confirmation names the dry run of this very command line (there is no file to name).
    assert ("to see the plan without running anything: lambdabench sweep " + " ".join(flags) + " --dry-run"
            in from_flags.stderr), from_flags.stderr

    scenario = tmp_path / "orders.toml"
    scenario.write_text(textwrap.dedent("""
        name = "orders-api"
        [function]
        name = "orders-api"
        [target]
        kind = "aws"
        [sweep]
        memory_mb = [128, 256]
        timeout_s = [7]
        architectures = ["x86_64"]
        payload_file = "event.json"
        [recommend]
        strategy = "slo"
        p95_slo_ms = 250
        [[scenario]]
        kind = "cold"
        invocations = 1
        [[scenario]]
        kind = "warm"
        invocations = 2
        """))
    from_file = run_cli("sweep", str(scenario), *common, "--out", str(tmp_path / "file"))
    assert from_file.returncode == 0, from_file.stderr

    flags_header, flags_records = comparable(tmp_path / "flags")
    file_header, file_records = comparable(tmp_path / "file")
    # Without --timeout the function's own timeout (7 s) is swept; the payload file is the same file.
    assert flags_header["scenario"]["sweep"]["timeout_s"] == [7]
    assert flags_header["scenario"]["sweep"]["payloads"][0]["body"] == '{"order": 42}'
    assert flags_header == file_header
    assert flags_records == file_records
    assert lam.get_function_configuration(FunctionName="orders-api")["MemorySize"] == 640  # only read
    for path in (tmp_path / "flags").rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(errors="replace"), path
    assert SECRET not in from_flags.stdout + from_flags.stderr


def test_flags_override_their_keys_of_a_scenario_file(tmp_path):
    result = run_cli("sweep", "scenarios/demo.toml", "--memory", "256,512", "--timeout", "4", "--arch", "arm64",
                     "--payload", '{"mb": 1}', "--cold", "0", "--warm", "3", "--burst", "3x1",
                     "--strategy", "speed", "--dry-run")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "  m256-t4-arm64: memory 256 MB, timeout 4 s, arm64" in lines
    assert "  m512-t4-arm64: memory 512 MB, timeout 4 s, arm64" in lines
    assert "  warm: 3 + 2 warm-up" in lines  # the file's warmup = 2 is kept
    assert "  burst: 3 concurrent x 1 wave(s), pause 0.0 s" in lines
    assert not any(line.startswith("  cold:") for line in lines)
    assert "total invocations: 16" in lines


def test_a_flags_only_sweep_without_a_function_or_memory_says_what_to_add(tmp_path):
    nothing = run_cli("sweep", "--memory", "128", "--dry-run")
    assert nothing.returncode == 2
    assert nothing.stderr.splitlines()[0] == "error: no scenario file and no function to sweep"
    no_memory = run_cli("sweep", "--code", str(CODE), "--dry-run")
    assert no_memory.returncode == 2
    assert no_memory.stderr.splitlines() == [
        "error: --memory: missing: a sweep without a scenario file needs the memory sizes",
        "  hint: add --memory 128,256,512,1024 (MB, comma-separated)"]
    local_without_code = run_cli("sweep", "--function", "f", "--memory", "128", "--timeout", "3",
                                 "--target", "local", "--dry-run")
    assert local_without_code.returncode == 2
    assert local_without_code.stderr.splitlines()[0] == (
        "error: --code: missing: the local target runs the handler from a folder")
    none_left = run_cli("sweep", "--code", str(CODE), "--memory", "128", "--cold", "0", "--dry-run")
    assert none_left.returncode == 2
    assert none_left.stderr.splitlines() == [
        "error: --cold: leaves no scenario to run",
        "  hint: leave at least one of --cold, --warm and --burst above 0, e.g. --warm 30"]


def test_a_flags_only_sweep_resumes_with_the_same_flags(tmp_path):
    flags = ["--code", str(CODE), "--memory", "128,256", "--cold", "1", "--warm", "2"]
    out = tmp_path / "out"
    first = run_cli("sweep", *flags, "--out", str(out), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    lines = (out / "results.jsonl").read_text().splitlines(keepends=True)
    # Cut the sweep back to its first configuration, as a kill after it would have left it.
    second_config = next(i for i, line in enumerate(lines) if '"m256-' in line)
    (out / "results.jsonl").write_text("".join(lines[:second_config]))
    resumed = run_cli("sweep", *flags, "--resume", str(out), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    frame = read_results(out).invocations
    assert sorted(frame["invocation_id"]) == sorted(
        f"m{m}-t3-x86_64/{s}" for m in (128, 256) for s in ("cold/0", "warm/warmup-0", "warm/warmup-1",
                                                              "warm/0", "warm/1"))
    other = run_cli("sweep", *flags[:-1], "3", "--resume", str(out), cwd=tmp_path)
    assert other.returncode == 2
    assert "ran a different scenario" in other.stderr


def test_init_function_writes_a_scenario_from_its_configuration_that_dry_runs(lam, emulator, tmp_path):
    result = run_cli("init", "--function", "orders-api", "--region", "us-east-1", "--endpoint-url",
                     emulator.endpoint, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = tmp_path / "orders-api.toml"
    assert result.stdout.splitlines()[0] == "wrote orders-api.toml"
    text = written.read_text()
    assert SECRET not in text and "API_TOKEN" not in text
    data = tomllib.loads(text)
    assert data["function"] == {"name": "orders-api"}
    assert data["target"] == {"kind": "aws", "region": "us-east-1", "endpoint_url": emulator.endpoint,
                              "isolation": "copy"}
    assert data["sweep"]["memory_mb"] == [320, 640, 1280, 2560]  # half, current, double, quadruple
    assert data["sweep"]["timeout_s"] == [7]
    assert data["sweep"]["payload_file"] == "orders-api.event.json"
    assert json.loads((tmp_path / "orders-api.event.json").read_text()) == {}
    assert "#   memory 640 MB, timeout 7 s, x86_64, runtime python3.12, handler app.handler, package Zip" in text

    dry = run_cli("sweep", str(written), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "total invocations: 148" in dry.stdout.splitlines()  # 4 sizes x (5 cold + 30 warm + 2 warm-up)

    again = run_cli("init", "--function", "orders-api", "--region", "us-east-1", "--endpoint-url",
                    emulator.endpoint, cwd=tmp_path)
    assert again.returncode == 2
    assert again.stderr.splitlines() == ["error: orders-api.toml already exists",
                                         "  hint: pass --force to overwrite it, or -o another file"]
    (tmp_path / "orders-api.event.json").write_text('{"order": 1}')
    forced = run_cli("init", "--function", "orders-api", "--region", "us-east-1", "--endpoint-url",
                     emulator.endpoint, "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert json.loads((tmp_path / "orders-api.event.json").read_text()) == {"order": 1}  # the user's event kept

    missing = run_cli("init", "--function", "no-such-fn", "--region", "us-east-1", "--endpoint-url",
                      emulator.endpoint, cwd=tmp_path)
    assert missing.returncode == 2
    assert "no-such-fn" in missing.stderr and "Traceback" not in missing.stderr
    assert not (tmp_path / "no-such-fn.toml").exists()


def test_init_code_writes_a_local_scenario_that_dry_runs_and_runs(tmp_path):
    out = tmp_path / "scenarios" / "tiny.toml"
    result = run_cli("init", "--code", str(CODE), "-o", str(out))
    assert result.returncode == 0, result.stderr
    data = tomllib.loads(out.read_text())
    assert data["function"]["handler"] == "app.handler"
    assert (out.parent / data["function"]["code"]).resolve() == CODE
    assert data["target"]["kind"] == "local"
    dry = run_cli("sweep", str(out), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "total invocations: 185" in dry.stdout.splitlines()  # 5 sizes x (5 cold + 30 warm + 2 warm-up)

    neither = run_cli("init")
    assert neither.returncode == 2
    assert neither.stderr.splitlines()[0] == "error: give one of --function NAME_OR_ARN and --code DIR"


def test_an_interrupted_flags_only_sweep_names_the_command_that_finishes_it(tmp_path, default_sigint):
    out = tmp_path / "out"
    flags = ["--code", str(CODE), "--memory", "128,256", "--payload", '{"sleep_s": 0.05}', "--cold", "1",
             "--warm", "40"]
    proc = subprocess.Popen([sys.executable, "-m", "lambdabench", "sweep", *flags, "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env(), cwd=tmp_path,
                            stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not ((out / "results.jsonl").exists() and '"invocation_id"' in (out / "results.jsonl").read_text()):
            assert time.monotonic() < deadline and proc.poll() is None, "the sweep never started measuring"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, stderr
    hint = re.search(r"\(finish with: lambdabench (sweep .*)\)$", stderr, re.M)
    assert hint, stderr
    command = shlex.split(hint.group(1))
    assert command == ["sweep", *flags, "--resume", str(out)]
    resumed = run_cli(*command, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    frame = read_results(out).invocations
    assert len(frame) == 2 * (1 + 2 + 40) and frame["invocation_id"].is_unique
