"""Sweep flags as overrides of a scenario's raw mapping: each flag writes its key, the one loader validates
it, and a bad value gets the loader's message under the flag's name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambdabench.errors import UsageError
from lambdabench.scenario import ScenarioErrors, load_scenario
from lambdabench.scenario_flags import ScenarioFlags, apply, base_mapping, default_name, load, memory_value

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "scenarios" / "demo.toml"
CODE = ROOT / "tests" / "data" / "sweep_tiny"


def demo_with(**flags) -> object:
    return load(DEMO, ScenarioFlags(**flags), cwd=ROOT)


def error_with(scenario_file, **flags) -> UsageError:
    with pytest.raises(UsageError) as err:
        load(scenario_file, ScenarioFlags(**flags), cwd=ROOT)
    return err.value


def test_no_flags_leave_a_file_exactly_as_the_loader_reads_it():
    assert demo_with() == load_scenario(DEMO)


def test_each_flag_overrides_its_key_of_the_file_and_nothing_else():
    base = load_scenario(DEMO)
    s = demo_with(memory="256,512", timeout="4,8", arch="arm64,x86_64", payload='{"mb": 1}', strategy="slo",
                  p95_slo_ms=120.0, handler="app.handler", runtime="python3.13")
    assert s.sweep.memory_mb == (256, 512)
    assert s.sweep.timeout_s == (4, 8)
    assert s.sweep.architectures == ("arm64", "x86_64")
    assert [(p.label, p.body) for p in s.sweep.payloads] == [("payload", b'{"mb":1}')]
    assert (s.recommend.strategy, s.recommend.p95_slo_ms) == ("slo", 120.0)
    assert (s.function.handler, s.function.runtime) == ("app.handler", "python3.13")
    assert s.scenarios == base.scenarios and s.function.environment == base.function.environment
    assert s.recommend.balanced_weight == base.recommend.balanced_weight and s.sweep.order == base.sweep.order


def test_payload_file_flag_replaces_an_inline_payload_and_starts_at_the_current_folder(tmp_path):
    (tmp_path / "event.json").write_text('{"id": 7}')
    s = load(DEMO, ScenarioFlags(payload="@event.json"), cwd=tmp_path)
    assert [(p.label, p.body) for p in s.sweep.payloads] == [("payload_file:event.json", b'{"id": 7}')]


def test_code_flag_starts_at_the_current_folder():
    s = load(DEMO, ScenarioFlags(code="tests/data/sweep_tiny"), cwd=ROOT)
    assert s.function.code == CODE


def test_scenario_count_flags_set_remove_and_add_scenarios():
    s = demo_with(cold=2, warm=0, burst="4x3")
    assert [sc.to_dict() for sc in s.scenarios] == [
        {"kind": "cold", "invocations": 2},
        {"kind": "burst", "concurrency": 4, "waves": 3, "pause_s": 0.0}]
    only_warm = load(None, ScenarioFlags(code=str(CODE), memory="128", warm=7), cwd=ROOT)
    assert [sc.to_dict() for sc in only_warm.scenarios] == [{"kind": "warm", "invocations": 7, "warmup": 2}]
    data, _ = apply({"scenario": [{"kind": "warm", "invocations": 3}]}, ScenarioFlags(burst="5", cold=1), cwd=ROOT)
    assert data["scenario"] == [{"kind": "cold", "invocations": 1}, {"kind": "warm", "invocations": 3},
                                {"kind": "burst", "concurrency": 5, "waves": 1}]


def test_a_flags_only_local_sweep_defaults_to_lambdas_timeout_and_the_minimum_sample_counts():
    s = load(None, ScenarioFlags(code=str(CODE), memory="128,256"), cwd=ROOT)
    assert s.name == "sweep_tiny" and s.function.name == "lambdabench-sweep_tiny"
    assert s.target.kind == "local" and s.function.code == CODE
    assert s.sweep.timeout_s == (3,)
    assert [sc.to_dict() for sc in s.scenarios] == [{"kind": "cold", "invocations": 5},
                                                    {"kind": "warm", "invocations": 30, "warmup": 2}]
    assert s.path == ROOT / "(command line)"


def test_a_flags_only_aws_sweep_reads_the_functions_timeout_only_when_no_timeout_flag_is_given():
    calls = []

    def timeout() -> int:
        calls.append(1)
        return 42

    arn = "arn:aws:lambda:eu-west-1:123456789012:function:orders-api"
    s = load(None, ScenarioFlags(function=arn, memory="128"), function_timeout_s=timeout, cwd=ROOT)
    assert (s.name, s.function.name, s.target.kind, s.sweep.timeout_s) == ("orders-api", arn, "aws", (42,))
    given = load(None, ScenarioFlags(function="orders-api", memory="128", timeout="9"), function_timeout_s=timeout,
                 cwd=ROOT)
    assert given.sweep.timeout_s == (9,) and len(calls) == 1


def test_memory_range_and_search_are_passed_through_to_the_loader_as_the_scenario_keys():
    assert memory_value("128-3008") == {"min": 128, "max": 3008}
    assert memory_value(" 128 - 3008 ") == {"min": 128, "max": 3008}
    assert memory_value("128,256, 1024") == [128, 256, 1024]
    data, owners = apply({"sweep": {"memory_mb": [128]}}, ScenarioFlags(memory="128-3008", search="adaptive"),
                         cwd=ROOT)
    assert data["sweep"] == {"memory_mb": {"min": 128, "max": 3008}, "search": "adaptive"}
    assert owners["sweep.memory_mb"] == "--memory" and owners["sweep.search"] == "--search"


def test_the_file_mapping_is_not_changed_in_place():
    original = {"sweep": {"payload": {"a": 1}}, "scenario": [{"kind": "cold", "invocations": 1}]}
    snapshot = json.loads(json.dumps(original))
    apply(original, ScenarioFlags(payload="{}", cold=3), cwd=ROOT)
    assert original == snapshot


@pytest.mark.parametrize(("flags", "message", "hint"), [
    ({"memory": "128,64"}, "--memory: value 2: 64 MB is out of range (Lambda allows 128 to 10240 MB)",
     "use a whole number MB from 128 to 10240"),
    ({"memory": "128,128"}, "--memory: value 2: 128 MB is listed twice (also at value 1)",
     "remove the duplicate: each value is one point of the grid"),
    ({"memory": "128,abc"}, '--memory: value 2: must be a whole number MB, got the string "abc"', None),
    ({"timeout": "901"}, "--timeout: value 1: 901 s is out of range (Lambda allows 1 to 900 s)", None),
    ({"arch": "arm"}, '--arch: value 1: the string "arm" is not an architecture', "use one of: x86_64, arm64"),
    ({"payload": "{nope"}, "--payload: not valid JSON (column 2: Expecting property name enclosed in double quotes)",
     None),
    ({"payload": "@missing.json"}, f"--payload: payload file {ROOT / 'missing.json'} does not exist",
     "fix the path; relative paths start at the current folder"),
    ({"cold": -2}, "--cold: -2 is out of range", "use a whole number of at least 1"),
    ({"burst": "ten"}, '--burst: "ten" is not CONCURRENCYxWAVES', None),
    ({"burst": "0x2", "cold": 0, "warm": 0}, "--cold/--warm/--burst: leaves no scenario to run",
     "leave at least one of --cold, --warm and --burst above 0, e.g. --warm 30"),
    ({"strategy": "cheap"}, '--strategy: "cheap" is not one of cost, speed, balanced, slo', None),
    ({"strategy": "slo"}, '--p95-slo-ms: missing: strategy "slo" needs a latency objective',
     "add --p95-slo-ms <milliseconds> (the cheapest configuration whose p95 stays under it wins), or pick another "
     "strategy"),
    ({"p95_slo_ms": 0.0}, "--p95-slo-ms: 0 ms is out of range", "use a number ms above 0"),
    ({"handler": "app"}, '--handler: "app" names no function: the python3.12 runtime loads <module>.<function>', None),
])
def test_a_bad_flag_value_gets_the_loaders_message_under_the_flags_name(flags, message, hint):
    error = error_with(DEMO, **flags)
    assert error.message == message
    if hint is not None:
        assert error.hint == hint


def test_several_bad_flags_are_reported_together_each_under_its_flag():
    error = error_with(DEMO, arch="x86", strategy="cots")
    assert isinstance(error, ScenarioErrors)
    assert [e.message for e in error.errors] == ['--arch: value 1: the string "x86" is not an architecture',
                                                 '--strategy: "cots" is not one of cost, speed, balanced, slo']


def test_a_files_own_mistake_is_still_named_by_file_and_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(DEMO.read_text().replace("waves = 11", "waves = 0").replace(
        'code = "functions/cpu_hash"', f'code = "{(ROOT / "scenarios/functions/cpu_hash").as_posix()}"'))
    error = error_with(bad, warm=3)
    assert error.message.startswith(f"{bad}: scenario[2].waves: 0 is out of range")
    # --burst sets concurrency and waves, so then the value is the flag's
    assert error_with(bad, burst="2x0").message == "--burst: 0 is out of range"


def test_a_flags_only_sweep_needs_a_function_and_memory_sizes():
    assert error_with(None, memory="128").message == "no scenario file and no function to sweep"
    assert error_with(None, code=str(CODE)).message == (
        "--memory: missing: a sweep without a scenario file needs the memory sizes")
    with pytest.raises(UsageError) as err:
        load(None, ScenarioFlags(function="f", memory="128", timeout="3"), target="local", cwd=ROOT)
    assert err.value.message == "--code: missing: the local target runs the handler from a folder"
    assert "--function" in error_with(None, function="arn:aws:lambda:us-east-1:1:function:f:prod", memory="128",
                                      timeout="3").message


def test_default_names_are_folder_and_function_safe():
    assert default_name(ScenarioFlags(function="arn:aws:lambda:us-east-1:123456789012:function:api_v2")) == "api_v2"
    assert default_name(ScenarioFlags(code="/tmp/my.handler dir")) == "my-handler-dir"
    assert base_mapping(ScenarioFlags(code="x", memory="128"))["target"] == {"kind": "local"}


def test_argv_repeats_the_flags_as_typed():
    flags = ScenarioFlags(function="f", memory="128,256", cold=0, p95_slo_ms=250.0, burst="10x2")
    assert flags.argv() == ["--function", "f", "--memory", "128,256", "--cold", "0", "--burst", "10x2",
                            "--p95-slo-ms", "250"]
