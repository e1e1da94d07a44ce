"""`lambdabench init`'s files: a function's configuration becomes a scenario the loader accepts as written,
with a memory grid around its size and no environment values; a local folder's handler is found."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest

from lambdabench.errors import UsageError
from lambdabench.scenario import load_scenario
from lambdabench.scenario_init import event_path, find_handler, function_scenario, local_scenario, memory_grid, write

CONFIGURATION = {
    "FunctionName": "billing-worker", "MemorySize": 1536, "Timeout": 45, "Architectures": ["arm64"],
    "Runtime": "java21", "Handler": "example.Handler::handleRequest", "PackageType": "Zip",
    "Environment": {"Variables": {"DB_PASSWORD": "hunter2-secret", "MODE": "prod"}}, "_Region": "eu-west-1",
}


@pytest.mark.parametrize(("current", "grid"), [
    (1536, [768, 1536, 3072, 6144]),
    (128, [128, 256, 512]),          # half of 128 is below Lambda's minimum
    (200, [128, 200, 400, 800]),
    (4000, [2000, 4000, 8000, 10240]),
    (10240, [5120, 10240]),
])
def test_the_grid_is_half_current_double_and_quadruple_within_lambdas_range(current, grid):
    assert memory_grid(current) == grid


def test_a_functions_scenario_loads_as_written_and_keeps_its_environment_values_out(tmp_path):
    text = function_scenario(CONFIGURATION, function="billing-worker", file="billing-worker.toml",
                             event_file="billing-worker.event.json", today=dt.date(2026, 12, 3))
    assert "hunter2-secret" not in text and "DB_PASSWORD" not in text
    assert "#   memory 1536 MB, timeout 45 s, arm64, runtime java21, handler example.Handler::handleRequest, " \
           "package Zip" in text
    assert "#   2 environment variable(s): their values are not written here" in text
    out = tmp_path / "billing-worker.toml"
    write(text, out, event_path(out), force=False)
    scenario = load_scenario(out)
    assert scenario.name == "billing-worker"
    assert (scenario.target.kind, scenario.target.region, scenario.target.isolation) == ("aws", "eu-west-1", "copy")
    assert scenario.function.name == "billing-worker"
    assert scenario.sweep.memory_mb == (768, 1536, 3072, 6144) and scenario.sweep.timeout_s == (45,)
    assert scenario.sweep.architectures is None  # the function's own (arm64) is kept
    assert [(p.label, p.body) for p in scenario.sweep.payloads] == [("payload_file:billing-worker.event.json",
                                                                     b"{}\n")]
    assert [s.to_dict() for s in scenario.scenarios] == [{"kind": "cold", "invocations": 5},
                                                         {"kind": "warm", "invocations": 30, "warmup": 2}]
    assert '# architectures = ["arm64", "x86_64"]' in text


def test_an_image_function_with_profile_and_endpoint_loads_too(tmp_path):
    configuration = {"FunctionName": "img", "MemorySize": 512, "Timeout": 3, "PackageType": "Image",
                     "_Region": "us-east-1"}
    text = function_scenario(configuration, function="arn:aws:lambda:us-east-1:123456789012:function:img",
                             file="img.toml", event_file="img.event.json", profile="dev",
                             endpoint_url="http://127.0.0.1:9001")
    data = tomllib.loads(text)
    assert data["target"] == {"kind": "aws", "region": "us-east-1", "profile": "dev",
                              "endpoint_url": "http://127.0.0.1:9001", "isolation": "copy"}
    assert "runtime container image" in text and "# (an image function keeps its architecture" in text
    out = tmp_path / "img.toml"
    write(text, out, event_path(out), force=False)
    assert load_scenario(out).function.name.endswith(":function:img")


def test_a_local_scenario_finds_the_handler_and_loads_as_written(tmp_path):
    code = tmp_path / "src" / "my fn"
    code.mkdir(parents=True)
    (code / "lambda_function.py").write_text("import json\n\ndef lambda_handler(event, context):\n    return 1\n")
    out = tmp_path / "scenarios" / "mine.toml"
    text = local_scenario(code, file=str(out), out_dir=out.parent, event_file="mine.event.json")
    write(text, out, event_path(out), force=False)
    scenario = load_scenario(out)
    assert scenario.name == "my-fn"
    assert scenario.function.code == code and scenario.function.handler == "lambda_function.lambda_handler"
    assert tomllib.loads(text)["function"]["code"] == "../src/my fn"
    assert scenario.target.kind == "local" and scenario.sweep.memory_mb == (128, 256, 512, 1024, 1769)
    assert scenario.sweep.timeout_s == (3,)


@pytest.mark.parametrize(("files", "found"), [
    ({"app.py": "def handler(event, context):\n    pass\n"}, ("app.handler", "python")),
    ({"worker.py": "async def lambda_handler(e, c):\n    pass\n", "util.py": "x = 1\n"},
     ("worker.lambda_handler", "python")),
    ({"index.mjs": "export const handler = async (event) => event;\n"}, ("index.handler", "nodejs22.x")),
    ({"index.js": "exports.handler = async (event) => event;\n"}, ("index.handler", "nodejs22.x")),
    ({"bootstrap": "#!/bin/sh\n"}, ("function.handler", "provided.al2023")),
])
def test_the_handler_is_found_from_the_folders_files(tmp_path, files, found):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    handler, runtime = find_handler(tmp_path)
    assert handler == found[0]
    assert runtime.startswith(found[1])


def test_a_folder_without_a_handler_says_to_name_it(tmp_path):
    (tmp_path / "lib.py").write_text("def helper():\n    pass\n")
    with pytest.raises(UsageError) as err:
        find_handler(tmp_path)
    assert err.value.message.startswith(f"--code: no handler found in {tmp_path}")
    assert err.value.hint == "name it with --handler module.function (and --runtime)"
    handler, runtime = find_handler(tmp_path, handler="lib.helper")
    assert handler == "lib.helper" and runtime.startswith("python3.")


def test_write_never_overwrites_without_force_and_keeps_an_existing_event(tmp_path):
    out = tmp_path / "x.toml"
    first = write("a = 1\n", out, event_path(out), force=False)
    assert first.event == tmp_path / "x.event.json" and first.event_written
    with pytest.raises(UsageError) as err:
        write("a = 2\n", out, event_path(out), force=False)
    assert err.value.message == f"{out} already exists"
    assert out.read_text() == "a = 1\n"
    (tmp_path / "x.event.json").write_text('{"mine": true}')
    again = write("a = 2\n", out, event_path(out), force=True)
    assert out.read_text() == "a = 2\n" and not again.event_written
    assert (tmp_path / "x.event.json").read_text() == '{"mine": true}'


def test_the_code_path_is_relative_only_when_scenario_and_code_lie_together(tmp_path):
    from lambdabench.scenario_init import _code_path

    repo = tmp_path / "repo"
    assert _code_path(repo / "perf" / "fn", repo / "perf") == "fn"  # inside the scenario's folder
    assert _code_path(repo / "src" / "fn", repo / "perf") == "../src/fn"  # next to it, in one repository
    assert _code_path(repo / "a" / "b" / "fn", repo / "x" / "y") == str(repo / "a" / "b" / "fn")  # far apart
    assert _code_path(Path("/opt/fn"), Path("/tmp")) == "/opt/fn"  # only the filesystem root in common
