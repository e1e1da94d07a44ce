"""End to end on the local target: the emulator runs a tiny handler for real, so every record can be
checked against what Lambda would report (Init Duration on cold samples only, burst → cold sandboxes,
throttles and errors recorded once, costs from Billed Duration)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lambdabench.pricing import invocation_cost
from lambdabench.results import INVOCATION_FIELDS, read_results
from lambdabench.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
CODE = Path(__file__).resolve().parents[1] / "data" / "sweep_tiny"

pytestmark = pytest.mark.slow


def write_scenario(tmp_path: Path, body: str, name: str = "local-e2e") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(textwrap.dedent(f"""
        name = "{name}"
        [function]
        name = "lb-{name}"
        code = "{CODE.as_posix()}"
        environment = {{ USER_VAR = "kept" }}
        """) + textwrap.dedent(body))
    return path


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lambdabench", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=240, stdin=subprocess.DEVNULL, env={**os.environ})


def test_local_sweep_records_every_invocation_with_true_cold_and_warm_states(tmp_path):
    path = write_scenario(tmp_path, """
        [sweep]
        memory_mb = [128, 256]
        timeout_s = [10]
        [[scenario]]
        kind = "cold"
        invocations = 2
        [[scenario]]
        kind = "warm"
        invocations = 3
        warmup = 1
        [[scenario]]
        kind = "burst"
        concurrency = 3
        """)
    out = tmp_path / "out"
    result = run_cli("sweep", str(path), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(out)

    results = read_results(out)
    frame = results.invocations
    assert len(frame) == 2 * (2 + 4 + 3)
    assert set(INVOCATION_FIELDS) <= set(frame.columns)
    assert frame["invocation_id"].is_unique and frame["request_id"].is_unique
    assert set(frame["status"]) == {"ok"}
    assert set(frame["report_source"]) == {"tail"}
    assert (frame["memory_size_mb"] == frame["memory_mb"]).all()
    assert not frame["state_mismatch"].any()

    cold = frame[frame["scenario"] == "cold"]
    assert len(cold) == 4 and cold["cold"].all() and cold["init_duration_ms"].notna().all()
    warm = frame[(frame["scenario"] == "warm") & ~frame["warmup"]]
    assert len(warm) == 6 and not warm["cold"].any() and warm["init_duration_ms"].isna().all()
    assert frame["warmup"].sum() == 2
    burst = frame[frame["scenario"] == "burst"]
    assert len(burst) == 6 and (burst["wave"] == 0).all()
    assert burst["cold"].all(), "a burst on fresh environments starts one cold sandbox per invocation"

    for row in frame.itertuples():
        assert row.cost_usd == invocation_cost(row.memory_mb, row.billed_duration_ms).total_usd
        assert row.billed_duration_ms >= row.duration_ms
        assert row.client_ms > 0
        assert row.started_at.endswith("Z") and "." in row.started_at

    header = results.header
    assert header["target"] == "local" and header["region"] == "us-east-1"
    assert header["emulator"]["cpu_mechanism"]
    assert header["original_config"]["environment_names"] == ["USER_VAR"]
    assert "environment" not in header["original_config"]
    assert header["plan"]["total_invocations"] == 18
    events = [e["event"] for e in results.events]
    assert events.count("config_applied") == 2 and events[-1] == "completed"

    restored = run_cli("restore", str(out))
    assert restored.returncode == 0
    assert "local-target sweep; nothing to restore" in restored.stdout


def test_errors_timeouts_and_throttles_are_recorded_once_and_the_sweep_goes_on(tmp_path):
    from lambdabench.sweep.driver import Driver, PayloadSet, build_header, prepare
    from lambdabench.sweep.local import local_function
    from lambdabench.sweep.plan import build_plan

    path = write_scenario(tmp_path, """
        [sweep]
        memory_mb = [128]
        timeout_s = [1]
        [[sweep.payloads]]
        weight = 1
        payload = { fail = true }
        label = "fail"
        [[sweep.payloads]]
        weight = 1
        payload = { sleep_s = 3 }
        label = "slow"
        [[scenario]]
        kind = "burst"
        concurrency = 3
        """, name="faulty")
    scenario = load_scenario(path)
    plan = build_plan(scenario)
    with local_function(scenario, pool_size=3, max_timeout_s=1) as local:
        local.clients.control.put_function_concurrency(FunctionName=local.function_name,
                                                       ReservedConcurrentExecutions=1)
        prepared = prepare(local.clients, local.function_name, plan)
        header = build_header(scenario=scenario, plan=plan, target="local", endpoint_url=local.endpoint_url,
                              region="us-east-1", function_name=local.function_name,
                              function_arn=prepared.snapshot.function_arn, emulator=local.emulator_info,
                              original=prepared.snapshot.config, started_at=__import__("datetime").datetime.now())
        payloads = PayloadSet(tuple(p.body for p in scenario.sweep.payloads),
                              tuple(p.label for p in scenario.sweep.payloads))
        outcome = Driver(local.clients, prepared, plan, payloads, tmp_path / "out", header,
                         wait_delay_s=0.05, logs_max_wait_s=2).run()
    assert outcome.completed and outcome.restore.ok
    frame = read_results(tmp_path / "out").invocations
    assert len(frame) == 3 and frame["invocation_id"].is_unique
    throttled = frame[frame["status"] == "throttled"]
    assert len(throttled) == 2, "one sandbox allowed: the other two invokes are throttled, never retried"
    assert set(throttled["error_type"]) == {"ReservedFunctionConcurrentInvocationLimitExceeded"}
    assert (throttled["cost_usd"] == 0).all() and throttled["cold"].isna().all()
    assert set(throttled["report_source"]) == {"missing"}
    ran = frame[frame["status"] != "throttled"].iloc[0]
    if ran["payload_label"] == "fail":
        assert ran["status"] == "error" and ran["function_error"] == "Unhandled"
        assert ran["error_type"] == "RuntimeError"
    else:
        assert ran["status"] == "timeout" and ran["function_error"] == "Unhandled"
        assert ran["duration_ms"] == pytest.approx(1000, abs=50)
    assert ran["cold"] and ran["cost_usd"] > 0


@pytest.mark.parametrize("log_format", ["Text", "JSON"])
def test_report_found_in_cloudwatch_logs_by_request_id(tmp_path, log_format):
    from datetime import datetime, timezone

    from lambdabench.sweep.driver import Driver, PayloadSet, prepare
    from lambdabench.sweep.local import local_function
    from lambdabench.sweep.plan import build_plan

    path = write_scenario(tmp_path, f"""
        log_format = "{log_format}"
        [sweep]
        memory_mb = [128]
        timeout_s = [3]
        [[scenario]]
        kind = "cold"
        invocations = 1
        """, name=f"logs-{log_format.lower()}")
    scenario = load_scenario(path)
    plan = build_plan(scenario)
    with local_function(scenario) as local:
        prepared = prepare(local.clients, local.function_name, plan)
        assert prepared.log_format == log_format
        driver = Driver(local.clients, prepared, plan, PayloadSet((b"{}",), ("default",)), tmp_path / "out", {},
                        wait_delay_s=0.05, logs_max_wait_s=1)
        record = driver.invoke(plan.invocations[0])
        assert record["report_source"] == "tail" and record["cold"] is True
        found = driver.report_from_logs(record["request_id"], datetime.now(timezone.utc))
        assert found is not None and found.request_id == record["request_id"]
        assert found.duration_ms == record["duration_ms"]
        assert found.billed_duration_ms == record["billed_duration_ms"]
        assert found.init_duration_ms == record["init_duration_ms"]
        assert driver.report_from_logs("00000000-0000-0000-0000-000000000000",
                                       datetime.now(timezone.utc)) is None


def test_architecture_sweep_redeploys_the_code_and_restores_the_original_architecture(tmp_path):
    from datetime import datetime, timezone

    from lambdabench.sweep.driver import Driver, PayloadSet, build_header, prepare
    from lambdabench.sweep.local import local_function
    from lambdabench.sweep.plan import build_plan

    path = write_scenario(tmp_path, """
        [sweep]
        memory_mb = [128]
        timeout_s = [5]
        architectures = ["arm64", "x86_64"]
        [[scenario]]
        kind = "cold"
        invocations = 1
        """, name="arch")
    scenario = load_scenario(path)
    plan = build_plan(scenario)
    out = tmp_path / "out"
    with local_function(scenario) as local:
        prepared = prepare(local.clients, local.function_name, plan, code_zip=local.code_zip)
        header = build_header(scenario=scenario, plan=plan, target="local", endpoint_url=local.endpoint_url,
                              region="us-east-1", function_name=local.function_name,
                              function_arn=prepared.snapshot.function_arn, emulator=local.emulator_info,
                              original=prepared.snapshot.config, started_at=datetime.now(timezone.utc))
        outcome = Driver(local.clients, prepared, plan, PayloadSet((b"{}",), ("default",)), out, header,
                         wait_delay_s=0.05, logs_max_wait_s=1).run()
        after = local.clients.control.get_function_configuration(FunctionName=local.function_name)
    assert outcome.restore.ok and outcome.restore.changed
    assert after["Architectures"] == ["x86_64"] and after["MemorySize"] == 128 and after["Timeout"] == 3
    assert after["Environment"]["Variables"] == {"USER_VAR": "kept"}
    assert (out / "original_code.zip").read_bytes() == local.code_zip
    frame = read_results(out).invocations
    assert list(frame["architecture"]) == ["arm64", "x86_64"]
    assert frame["cold"].all()
