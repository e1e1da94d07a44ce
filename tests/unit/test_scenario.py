"""Scenario files: what loads, what it loads into, and every error naming file, key and fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambdabench import limits
from lambdabench.errors import UsageError
from lambdabench.scenario import (
    FunctionSpec, Payload, RecommendSpec, ScenarioError, ScenarioErrors, ScenarioSpec, SweepSpec, TargetSpec,
    load_scenario,
)

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

FUNCTION = '[function]\ncode = "fn"\n'
SWEEP = '[sweep]\nmemory_mb = [128, 256]\ntimeout_s = [10]\n'
WARM = '[[scenario]]\nkind = "warm"\ninvocations = 3\n'


def write(tmp_path: Path, text: str, *, code: bool = True) -> Path:
    if code:
        (tmp_path / "fn").mkdir(exist_ok=True)
        (tmp_path / "fn" / "app.py").write_text("def handler(event, context):\n    return event\n")
    path = tmp_path / "s.toml"
    path.write_text(text)
    return path


def scenario_text(*, top: str = 'name = "t"\n', function: str = FUNCTION, target: str = "", sweep: str = SWEEP,
                  recommend: str = "", scenarios: str = WARM) -> str:
    return top + function + target + sweep + recommend + scenarios


def error_for(tmp_path: Path, text: str, **kw) -> ScenarioError:
    path = write(tmp_path, text, **kw)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert isinstance(err.value, UsageError) and err.value.exit_status == 2
    assert err.value.message.startswith(f"{path.resolve()}: ")
    assert err.value.hint
    return err.value


# --- what a good file loads into --------------------------------------------------------------

def test_minimal_local_scenario_gets_the_documented_defaults(tmp_path):
    path = write(tmp_path, scenario_text())
    s = load_scenario(path)
    assert s.name == "t"
    assert s.path == path.resolve()
    assert s.function == FunctionSpec(name="lambdabench-t", code=(tmp_path / "fn").resolve())
    assert s.function.handler == "app.handler" and s.function.runtime == "python3.12"
    assert s.function.log_format == "Text" and s.function.ephemeral_storage_mb == 512
    assert dict(s.function.environment) == {}
    assert s.target == TargetSpec(kind="local", region=None, profile=None, endpoint_url=None)
    assert s.sweep == SweepSpec(memory_mb=(128, 256), timeout_s=(10,), architectures=None,
                                payloads=(Payload(body=b"{}", weight=1.0, label="default"),), seed=0,
                                order="sequential")
    assert s.recommend == RecommendSpec()
    assert s.scenarios == (ScenarioSpec(kind="warm", invocations=3, warmup=2),)
    hash(s)  # frozen all the way down


def test_full_scenario_loads_every_key(tmp_path):
    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "big.json").write_text('{"n": 5}\n')
    text = scenario_text(
        function='[function]\nname = "fn-1"\ncode = "fn"\nhandler = "app.handler"\nruntime = "python3.11"\n'
                 'architecture = "arm64"\nlog_format = "JSON"\nephemeral_storage_mb = 1024\n'
                 '[function.environment]\nAA = "1"\nB_2 = "x"\n',
        target='[target]\nkind = "local"\nregion = "eu-west-1"\n',
        sweep='[sweep]\nmemory_mb = [1769, 128]\ntimeout_s = [3, 900]\narchitectures = ["x86_64", "arm64"]\n'
              'seed = 42\norder = "shuffled"\n'
              '[[sweep.payloads]]\nweight = 3\npayload = { n = 1, tags = ["a"] }\nlabel = "small"\n'
              '[[sweep.payloads]]\nweight = 0.5\npayload_file = "events/big.json"\n',
        recommend='[recommend]\nstrategy = "slo"\np95_slo_ms = 250\nbalanced_weight = 0.25\ncold_share = 0.1\n'
                  'percentile = 99\n',
        scenarios='[[scenario]]\nkind = "cold"\ninvocations = 5\n'
                  '[[scenario]]\nkind = "warm"\ninvocations = 20\nwarmup = 0\n'
                  '[[scenario]]\nkind = "burst"\nconcurrency = 10\nwaves = 2\npause_s = 1.5\n',
    )
    s = load_scenario(write(tmp_path, text))
    assert s.function.name == "fn-1"
    assert s.function.runtime == "python3.11" and s.function.architecture == "arm64"
    assert s.function.log_format == "JSON" and s.function.ephemeral_storage_mb == 1024
    assert dict(s.function.environment) == {"AA": "1", "B_2": "x"}
    assert s.target.region == "eu-west-1"
    assert s.sweep.memory_mb == (1769, 128) and s.sweep.timeout_s == (3, 900)
    assert s.sweep.architectures == ("x86_64", "arm64")
    assert s.sweep.seed == 42 and s.sweep.order == "shuffled"
    assert s.sweep.payloads == (
        Payload(body=b'{"n":1,"tags":["a"]}', weight=3.0, label="small"),
        Payload(body=b'{"n": 5}\n', weight=0.5, label="payloads[1]"),
    )
    assert s.recommend == RecommendSpec(strategy="slo", balanced_weight=0.25, p95_slo_ms=250.0, cold_share=0.1,
                                        percentile=99.0)
    assert s.scenarios == (
        ScenarioSpec(kind="cold", invocations=5),
        ScenarioSpec(kind="warm", invocations=20, warmup=0),
        ScenarioSpec(kind="burst", concurrency=10, waves=2, pause_s=1.5),
    )


def test_payload_file_body_is_sent_byte_for_byte(tmp_path):
    (tmp_path / "e.json").write_bytes(b'{ "k" : "v\\u00e9" }')
    s = load_scenario(write(tmp_path, scenario_text(sweep=SWEEP + 'payload_file = "e.json"\n')))
    assert s.sweep.payloads == (Payload(body=b'{ "k" : "v\\u00e9" }', label="payload_file:e.json"),)


def test_inline_payload_becomes_compact_utf8_json(tmp_path):
    s = load_scenario(write(tmp_path, scenario_text(sweep=SWEEP + 'payload = { name = "é", n = 1.5, ok = true }\n')))
    assert s.sweep.payloads == (Payload(body='{"name":"é","n":1.5,"ok":true}'.encode(), label="payload"),)


def test_name_defaults_to_the_file_name(tmp_path):
    s = load_scenario(write(tmp_path, scenario_text(top="")))
    assert s.name == "s"


def test_aws_target_takes_a_name_or_arn_and_no_code(tmp_path):
    arn = "arn:aws:lambda:us-east-1:123456789012:function:my-fn"
    text = scenario_text(function=f'[function]\nname = "{arn}"\nruntime = "nodejs20.x"\n',
                         target='[target]\nkind = "aws"\nprofile = "dev"\nendpoint_url = "http://127.0.0.1:9001"\n')
    s = load_scenario(write(tmp_path, text, code=False))
    assert s.function.name == arn and s.function.code is None
    assert s.target == TargetSpec(kind="aws", region=None, profile="dev", endpoint_url="http://127.0.0.1:9001")


def test_to_dict_is_json_safe_and_complete(tmp_path):
    s = load_scenario(write(tmp_path, scenario_text(sweep=SWEEP + 'payload = { n = 2 }\n')))
    d = json.loads(json.dumps(s.to_dict()))
    assert d["name"] == "t"
    assert d["path"] == str(s.path)
    assert d["function"]["code"] == str((tmp_path / "fn").resolve())
    assert d["sweep"]["payloads"] == [{"label": "payload", "weight": 1.0, "body": '{"n":2}'}]
    assert d["sweep"]["memory_mb"] == [128, 256]
    assert d["scenarios"] == [{"kind": "warm", "invocations": 3, "warmup": 2}]
    assert d["recommend"]["strategy"] == "balanced"


def test_relative_paths_do_not_depend_on_the_working_directory(tmp_path, monkeypatch):
    path = write(tmp_path, scenario_text())
    monkeypatch.chdir("/")
    assert load_scenario(path).function.code == (tmp_path / "fn").resolve()


@pytest.mark.parametrize("file", sorted(p.name for p in SCENARIOS.glob("*.toml")))
def test_every_shipped_scenario_loads(file):
    s = load_scenario(SCENARIOS / file)
    assert s.scenarios
    if s.target.kind == "local":
        module = s.function.handler.rsplit(".", 1)[0]
        ext = ".mjs" if s.function.runtime.startswith("nodejs") else ".py"
        assert s.function.code is not None and (s.function.code / (module + ext)).is_file()


def test_the_shipped_scenarios_are_the_documented_ones():
    assert sorted(p.name for p in SCENARIOS.glob("*.toml")) == [
        "adaptive.toml", "aws-example.toml", "demo.toml", "hooks_demo.toml", "inference.toml", "io_wait.toml",
        "node_demo.toml"]



def test_the_adaptive_scenario_searches_the_demo_function_over_128_to_3008_mb():
    s = load_scenario(SCENARIOS / "adaptive.toml")
    demo = load_scenario(SCENARIOS / "demo.toml")
    assert s.sweep.adaptive and s.sweep.memory_range == (128, 3008) and len(s.sweep.memory_mb) == 2881
    assert s.function.code == demo.function.code and s.sweep.payloads == demo.sweep.payloads
    assert s.sweep.tolerance == 0.02 and s.sweep.budget_invocations == 160


def test_demo_measures_enough_samples_and_its_bursts_fit_a_two_core_host():
    from lambdabench.analysis.warnings import MIN_SAMPLES
    from lambdabench.records import wave_demand_vcpus

    s = load_scenario(SCENARIOS / "demo.toml")
    assert s.sweep.memory_mb == (128, 256, 512, 1024, 1769)
    kinds = {x.kind: x for x in s.scenarios}
    assert kinds["cold"].invocations >= MIN_SAMPLES["cold"]
    assert kinds["warm"].invocations >= MIN_SAMPLES["warm"]
    burst = kinds["burst"]
    assert burst.concurrency * (burst.waves - 1) >= MIN_SAMPLES["burst"]  # even without the cold first wave
    assert max(wave_demand_vcpus(burst.concurrency, m) for m in s.sweep.memory_mb) <= 2
    # The time budget: 48 invocations per size (5 cold, 2 + 30 warm, 11 waves) keep the demo near 20 s.
    per_size = kinds["cold"].invocations + kinds["warm"].warmup + kinds["warm"].invocations + burst.waves
    assert per_size == 48


# --- errors: file, key, fix -------------------------------------------------------------------

def test_missing_file(tmp_path):
    with pytest.raises(ScenarioError) as err:
        load_scenario(tmp_path / "nope.toml")
    assert err.value.message == f"{tmp_path / 'nope.toml'}: scenario file not found"
    assert "scenarios/demo.toml" in err.value.hint


def test_bad_toml_syntax_reports_line_and_column(tmp_path):
    err = error_for(tmp_path, 'name = "t"\n[sweep]\nmemory_mb = [128,\ntimeout_s = 3\n')
    assert "invalid TOML" in err.message
    assert "line 4" in err.message and "column" in err.message
    assert "syntax" in err.hint


@pytest.mark.parametrize("parts, key, problem, fix", [
    # unknown keys, with the nearest valid key
    (dict(top='name = "t"\nnmae = "x"\n'), "nmae", "unknown key in the top level", "did you mean 'name'?"),
    (dict(sweep=SWEEP + "memroy_mb = [1]\n"), "sweep.memroy_mb", "unknown key in [sweep]", "did you mean 'memory_mb'?"),
    (dict(function=FUNCTION + 'handlr = "a.b"\n'), "function.handlr", "unknown key", "did you mean 'handler'?"),
    (dict(target='[target]\nregoin = "us-east-1"\n'), "target.regoin", "unknown key", "did you mean 'region'?"),
    (dict(recommend='[recommend]\nstrategey = "cost"\n'), "recommend.strategey", "unknown key",
     "did you mean 'strategy'?"),
    (dict(scenarios='[[scenario]]\nkind = "burst"\nconcurency = 3\n'), "scenario[0].concurency",
     "unknown key in a burst scenario", "did you mean 'concurrency'?"),
    (dict(scenarios=WARM + '[[scenario]]\nkind = "cold"\ninvocations = 2\nwarmup = 1\n'), "scenario[1].warmup",
     "not a key of a cold scenario (it belongs to warm)", "a cold scenario takes: kind, invocations"),
    # memory and timeout limits
    (dict(sweep='[sweep]\nmemory_mb = [128, 100]\ntimeout_s = [10]\n'), "sweep.memory_mb[1]",
     "100 MB is out of range (Lambda allows 128 to 10240 MB)", "from 128 to 10240"),
    (dict(sweep='[sweep]\nmemory_mb = [10241]\ntimeout_s = [10]\n'), "sweep.memory_mb[0]", "10241 MB is out of range",
     "from 128 to 10240"),
    (dict(sweep='[sweep]\nmemory_mb = [128]\ntimeout_s = [901]\n'), "sweep.timeout_s[0]",
     "901 s is out of range (Lambda allows 1 to 900 s)", "from 1 to 900"),
    (dict(sweep='[sweep]\nmemory_mb = [128]\ntimeout_s = [0]\n'), "sweep.timeout_s[0]", "0 s is out of range",
     "from 1 to 900"),
    # duplicates, empty lists, wrong types
    (dict(sweep='[sweep]\nmemory_mb = [128, 256, 128]\ntimeout_s = [10]\n'), "sweep.memory_mb[2]",
     "128 MB is listed twice (also at sweep.memory_mb[0])", "remove the duplicate"),
    (dict(sweep='[sweep]\nmemory_mb = []\ntimeout_s = [10]\n'), "sweep.memory_mb", "is empty", "at least one value"),
    (dict(sweep='[sweep]\nmemory_mb = 512\ntimeout_s = [10]\n'), "sweep.memory_mb",
     "must be a list, got the integer 512", "memory_mb = [128, 512, 1024]"),
    (dict(sweep='[sweep]\nmemory_mb = ["512"]\ntimeout_s = [10]\n'), "sweep.memory_mb[0]",
     'must be a whole number MB, got the string "512"', "without quotes"),
    (dict(sweep='[sweep]\nmemory_mb = [512.5]\ntimeout_s = [10]\n'), "sweep.memory_mb[0]",
     "got the float 512.5", "whole number"),
    (dict(sweep='[sweep]\nmemory_mb = [128]\n'), "sweep.timeout_s", "missing", "timeout_s = [10]"),
    (dict(sweep='[sweep]\nmemory_mb = [128]\ntimeout_s = [10]\nseed = true\n'), "sweep.seed",
     "got the boolean true", "whole number"),
    (dict(sweep=SWEEP + 'order = "random"\n'), "sweep.order", '"random" is not one of sequential, shuffled',
     "use one of: sequential, shuffled"),
    # architectures
    (dict(function=FUNCTION + 'architecture = "x86"\n'), "function.architecture", '"x86" is not one of x86_64, arm64',
     "did you mean 'x86_64'?"),
    (dict(sweep=SWEEP + 'architectures = ["arm64", "aarch64"]\n'), "sweep.architectures[1]",
     'the string "aarch64" is not an architecture', "x86_64, arm64"),
    (dict(sweep=SWEEP + 'architectures = ["arm64", "arm64"]\n'), "sweep.architectures[1]", "listed twice",
     "remove the duplicate"),
    (dict(sweep=SWEEP + 'architectures = []\n'), "sweep.architectures", "is empty", "keep the function's own"),
    # payloads
    (dict(sweep=SWEEP + 'payload = { a = 1 }\npayload_file = "e.json"\n'), "sweep.payload_file",
     "given together with sweep.payload", "keep one"),
    (dict(sweep=SWEEP + 'payload_file = "missing.json"\n'), "sweep.payload_file", "missing.json does not exist",
     "relative paths start at the scenario's folder"),
    (dict(sweep=SWEEP + 'payload = { when = 2024-01-31 }\n'), "sweep.payload.when",
     "the date/time 2024-01-31 has no JSON form", "write dates and times as strings"),
    (dict(sweep=SWEEP + '[[sweep.payloads]]\nweight = 0\npayload = {}\n'), "sweep.payloads[0].weight",
     "0 is out of range", "above 0"),
    (dict(sweep=SWEEP + '[[sweep.payloads]]\nweight = -1\npayload = {}\n'), "sweep.payloads[0].weight",
     "-1 is out of range", "above 0"),
    (dict(sweep=SWEEP + '[[sweep.payloads]]\nweight = 1\n'), "sweep.payloads[0].payload", "missing",
     "payload_file"),
    (dict(sweep=SWEEP + '[[sweep.payloads]]\npayload = {}\nlabel = "a"\n[[sweep.payloads]]\npayload = {}\nlabel = "a"\n'),
     "sweep.payloads[1].label", '"a" is also the label of sweep.payloads[0]', "its own label"),
    (dict(sweep=SWEEP + '[[sweep.payloads]]\npayload = {}\npayload_file = "x.json"\n'),
     "sweep.payloads[0].payload_file", "given together with sweep.payloads[0].payload", "keep one"),
    # function
    (dict(function='[function]\ncode = "nowhere"\n'), "function.code", "does not exist", "fix the path"),
    (dict(function='[function]\n'), "function.code", "missing: the local target runs the handler from a folder",
     'code = "functions/<folder>"'),
    (dict(function=FUNCTION + 'handler = "main.handler"\n'), "function.handler", "module main.py not found",
     "main.py"),
    (dict(function=FUNCTION + 'handler = "handler"\n'), "function.handler",
     "names no function: the python3.12 runtime loads <module>.<function>", 'handler = "app.handler"'),
    (dict(function=FUNCTION + 'handler = "app handler"\n'), "function.handler",
     "is not a handler Lambda accepts: it must satisfy regular expression pattern: [^\\s]+", "without blanks"),
    (dict(function=FUNCTION + f'handler = "{"a" * 126}.fn"\n'), "function.handler",
     "must have length less than or equal to 128", "module.function"),
    (dict(function=FUNCTION + 'runtime = "java21"\n'), "function.runtime",
     '"java21" cannot run on the local target', "Python, Node.js and custom (bootstrap) handlers only"),
    (dict(function=FUNCTION + 'runtime = "nodejs22.x"\n'), "function.handler",
     "module app.js (.mjs, .cjs) not found", "app.mjs"),
    (dict(function=FUNCTION + 'runtime = "provided.al2023"\n'), "function.handler",
     "bootstrap not found in the code folder", "create it (executable)"),
    (dict(function=FUNCTION + 'name = "arn:aws:lambda:us-east-1:123456789012:function:f"\n'), "function.name",
     "is not a Lambda function name", "no ARN"),
    (dict(function=FUNCTION + 'environment = { AA = 1 }\n'), "function.environment.AA",
     "must be a string, got the integer 1", 'quote it, AA = "1"'),
    # Lambda's pattern needs two characters: a scenario that loaded would fail at CreateFunction.
    (dict(function=FUNCTION + 'environment = { X = "1" }\n'), "function.environment.X",
     "not a valid environment variable name", "(Lambda's pattern [a-zA-Z]([a-zA-Z0-9_])+)"),
    (dict(function=FUNCTION + 'environment = { AWS_REGION = "eu-west-1" }\n'), "function.environment.AWS_REGION",
     "is an environment variable Lambda reserves", "rename it"),
    (dict(function=FUNCTION + 'environment = { 1A = "x" }\n'), "function.environment.1A",
     "not a valid environment variable name", "start with a letter"),
    (dict(function=FUNCTION + 'ephemeral_storage_mb = 100\n'), "function.ephemeral_storage_mb",
     "100 MB is out of range", "from 512 to 10240"),
    (dict(function=FUNCTION + 'log_format = "json"\n'), "function.log_format", '"json" is not one of Text, JSON',
     "did you mean 'JSON'?"),
    (dict(function=""), "[function]", "missing table", "add a [function] section"),
    # target
    (dict(target='[target]\nkind = "lambda"\n'), "target.kind", '"lambda" is not one of local, aws', "local, aws"),
    (dict(target='[target]\nregion = "Virginia"\n'), "target.region", "is not an AWS region name", "us-east-1"),
    (dict(target='[target]\nendpoint_url = "localhost:3001"\n'), "target.endpoint_url", "is not an http(s) URL",
     "http://host:port"),
    # recommend
    (dict(recommend='[recommend]\nstrategy = "slo"\n'), "recommend.p95_slo_ms",
     'missing: strategy "slo" needs a latency objective', "add p95_slo_ms = <milliseconds>"),
    (dict(recommend='[recommend]\nstrategy = "cheap"\n'), "recommend.strategy",
     '"cheap" is not one of cost, speed, balanced, slo', "use one of"),
    (dict(recommend='[recommend]\nbalanced_weight = 1.5\n'), "recommend.balanced_weight", "1.5 is out of range",
     "from 0 to 1"),
    (dict(recommend='[recommend]\ncold_share = -0.1\n'), "recommend.cold_share", "-0.1 is out of range", "from 0 to 1"),
    (dict(recommend='[recommend]\npercentile = 100\n'), "recommend.percentile", "100 is out of range",
     "above 0 and below 100"),
    (dict(recommend='[recommend]\npercentile = 0\n'), "recommend.percentile", "0 is out of range",
     "above 0 and below 100"),
    (dict(recommend='[recommend]\np95_slo_ms = "300"\n'), "recommend.p95_slo_ms", 'got the string "300"',
     "without quotes"),
    (dict(recommend='[recommend]\nmonthly_invocations = 0\n'), "recommend.monthly_invocations",
     "0 is out of range", "of at least 1"),
    (dict(recommend='[recommend]\nmonthly_invocations = 1.5e6\n'), "recommend.monthly_invocations",
     "must be a whole number, got", "without quotes or decimals"),
    (dict(recommend='[recommend]\nmonthly_invocations = "10M"\n'), "recommend.monthly_invocations",
     'got the string "10M"', "without quotes"),
    (dict(recommend='[recommend]\nmonthly_invoctions = 5\n'), "recommend.monthly_invoctions",
     "unknown key", "monthly_invocations"),
    # scenarios
    (dict(scenarios=""), "[[scenario]]", "missing: nothing to run", "add at least one [[scenario]]"),
    (dict(scenarios='[[scenario]]\ninvocations = 3\n'), "scenario[0].kind", "missing", 'kind = "cold"'),
    (dict(scenarios='[[scenario]]\nkind = "hot"\n'), "scenario[0].kind", '"hot" is not one of cold, warm, burst',
     "use one of"),
    (dict(scenarios=WARM + '[[scenario]]\nkind = "burst"\nconcurrency = 0\n'), "scenario[1].concurrency",
     "0 is out of range", "at least 1"),
    (dict(scenarios='[[scenario]]\nkind = "burst"\n'), "scenario[0].concurrency", "missing", "add concurrency ="),
    (dict(scenarios='[[scenario]]\nkind = "cold"\n'), "scenario[0].invocations", "missing", "add invocations ="),
    (dict(scenarios='[[scenario]]\nkind = "warm"\ninvocations = 2\nwarmup = -1\n'), "scenario[0].warmup",
     "-1 is out of range", "at least 0"),
    (dict(scenarios='[[scenario]]\nkind = "burst"\nconcurrency = 2\npause_s = -1\n'), "scenario[0].pause_s",
     "-1 s is out of range", "of at least 0"),
    (dict(top='name = "t"\nscenario = "warm"\n', scenarios=""), "scenario", 'must be an array of tables, got the string "warm"',
     "[[scenario]] section"),
    # name
    (dict(top='name = "my demo/1"\n'), "name", "cannot be used as a folder name", "letters, digits"),
])
def test_errors_name_file_key_and_fix(tmp_path, parts, key, problem, fix):
    err = error_for(tmp_path, scenario_text(**parts))
    assert err.key == key
    assert err.message.startswith(f"{err.path}: {key}: ")
    assert problem in err.message
    assert fix in err.hint


def test_aws_target_needs_a_function_name(tmp_path):
    err = error_for(tmp_path, scenario_text(function="[function]\n", target='[target]\nkind = "aws"\n'), code=False)
    assert err.key == "function.name"
    assert "missing" in err.message and 'name = "..."' in err.hint


def test_aws_target_rejects_a_qualified_arn(tmp_path):
    arn = "arn:aws:lambda:us-east-1:123456789012:function:f:prod"
    err = error_for(tmp_path, scenario_text(function=f'[function]\nname = "{arn}"\n', target='[target]\nkind = "aws"\n'),
                    code=False)
    assert err.key == "function.name"
    assert "qualified ARN" in err.message and "without the :qualifier" in err.hint


def test_payload_file_with_bad_json_names_its_line(tmp_path):
    (tmp_path / "e.json").write_text('{\n  "a": 1,\n}\n')
    err = error_for(tmp_path, scenario_text(sweep=SWEEP + 'payload_file = "e.json"\n'))
    assert err.key == "sweep.payload_file"
    assert "is not valid JSON (line 3, column 1" in err.message
    assert "fix the JSON" in err.hint


def test_payload_over_6_mb_is_rejected(tmp_path):
    (tmp_path / "big.json").write_text(json.dumps({"x": "a" * (6 * 1024 * 1024)}))
    err = error_for(tmp_path, scenario_text(sweep=SWEEP + 'payload_file = "big.json"\n'))
    assert err.key == "sweep.payload_file"
    assert "over Lambda's synchronous limit of 6,291,456 bytes" in err.message


def test_code_path_that_is_a_file_is_rejected(tmp_path):
    (tmp_path / "file.py").write_text("")
    err = error_for(tmp_path, scenario_text(function='[function]\ncode = "file.py"\n'))
    assert err.key == "function.code"
    assert "is not a folder" in err.message


def test_unknown_key_far_from_any_valid_one_lists_the_valid_keys(tmp_path):
    err = error_for(tmp_path, scenario_text(sweep=SWEEP + "zzz = 1\n"))
    assert err.key == "sweep.zzz"
    assert "did you mean" not in err.hint
    assert "valid keys: memory_mb, timeout_s" in err.hint


def test_bad_scenario_exits_2_from_the_cli_without_traceback(tmp_path):
    import subprocess
    import sys

    path = write(tmp_path, scenario_text(sweep='[sweep]\nmemory_mb = [64]\ntimeout_s = [10]\n'))
    proc = subprocess.run([sys.executable, "-m", "lambdabench", "sweep", str(path), "--dry-run"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert f"{path.resolve()}: sweep.memory_mb[0]: 64 MB is out of range" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_every_independent_problem_is_reported_in_one_pass(tmp_path):
    text = scenario_text(top='name = "bad name"\n',
                         sweep='[sweep]\nmemory_mb = [64]\ntimeout_s = [10]\n',
                         recommend='[recommend]\nstrategy = "cheapest"\n',
                         scenarios='[[scenario]]\ninvocations = 3\n'
                                   '[[scenario]]\nkind = "warm"\ninvocations = 3\n'
                                   '[[scenario]]\nkind = "burst"\nconcurency = 4\n')
    err = error_for(tmp_path, text)
    assert isinstance(err, ScenarioErrors)
    assert [e.key for e in err.errors] == ["name", "sweep.memory_mb[0]", "recommend.strategy", "scenario[0].kind",
                                           "scenario[2].concurency"]
    assert err.message.startswith(f"{tmp_path / 's.toml'}: 5 problems\n")
    for e in err.errors:  # each line names its key and problem, and its fix follows it
        assert f"\n  {e.key}: {e.problem}\n    fix: {e.fix}" in err.message
    assert "did you mean 'concurrency'?" in err.message
    assert (err.key, err.problem) == (err.errors[0].key, err.errors[0].problem)


def test_a_function_section_is_not_judged_against_a_target_that_failed(tmp_path):
    # with a bad [target], the local-only checks of [function] would be noise: only the target is reported
    err = error_for(tmp_path, scenario_text(function='[function]\nname = "f"\n',
                                            target='[target]\nkind = "aws"\nregion = "mars-1"\n'))
    assert not isinstance(err, ScenarioErrors) and err.key == "target.region"


@pytest.mark.parametrize("runtime, file", [("nodejs20.x", "app.mjs"), ("nodejs24.x", "app.cjs"),
                                           ("provided.al2023", "bootstrap")])
def test_node_and_custom_runtime_handlers_load_for_the_local_target(tmp_path, runtime, file):
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / file).write_text("")
    path = tmp_path / "s.toml"
    path.write_text(scenario_text(function=FUNCTION + f'runtime = "{runtime}"\n'))
    assert load_scenario(path).function.runtime == runtime


def test_target_isolation_is_copy_or_in_place_for_the_aws_target_only(tmp_path):
    aws = '[function]\nname = "my-fn"\n'
    s = load_scenario(write(tmp_path, scenario_text(function=aws, target='[target]\nkind = "aws"\nisolation = "in-place"\n'),
                            code=False))
    assert s.target.isolation == "in-place" and s.to_dict()["target"]["isolation"] == "in-place"
    default = load_scenario(write(tmp_path, scenario_text(function=aws, target='[target]\nkind = "aws"\n'), code=False))
    assert default.target.isolation is None and "isolation" not in default.to_dict()["target"]
    err = error_for(tmp_path, scenario_text(function=aws, target='[target]\nkind = "aws"\nisolation = "clone"\n'),
                    code=False)
    assert "target.isolation" in err.message and "copy" in err.message + err.hint
    err = error_for(tmp_path, scenario_text(target='[target]\nisolation = "copy"\n'))
    assert "target.isolation: applies to the aws target only" in err.message
    assert "the local target creates its own function" in err.hint


def test_monthly_invocations_is_read_and_recorded_only_when_set(tmp_path):
    plain = load_scenario(write(tmp_path, scenario_text()))
    assert plain.recommend.monthly_invocations is None
    assert "monthly_invocations" not in plain.to_dict()["recommend"]  # headers without it stay as they were
    text = scenario_text(recommend="[recommend]\nmonthly_invocations = 10_000_000\n")
    s = load_scenario(write(tmp_path, text))
    assert s.recommend.monthly_invocations == 10_000_000
    assert s.to_dict()["recommend"]["monthly_invocations"] == 10_000_000


# --- [hooks] ------------------------------------------------------------------------------------

def hooks_text(hooks: str, *, target: str = "") -> str:
    return scenario_text(target=target) + "[hooks]\n" + hooks


def test_hooks_load_commands_resolved_against_the_file_and_functions_by_name(tmp_path):
    (tmp_path / "hooks").mkdir()
    (tmp_path / "hooks" / "seed.sh").write_text("#!/bin/sh\n")
    (tmp_path / "hooks" / "seed.sh").chmod(0o755)
    s = load_scenario(write(tmp_path, hooks_text(
        'before_config = { command = ["./hooks/seed.sh", "--table", "t"] }\n'
        'after_each = { command = ["python3", "check.py"], timeout_s = 2.5 }\n')))
    assert s.hooks.before_config.command == (str(tmp_path.resolve() / "hooks" / "seed.sh"), "--table", "t")
    assert s.hooks.before_config.timeout_s == 60.0 and s.hooks.before_config.function is None
    assert s.hooks.after_each.command == ("python3", "check.py") and s.hooks.after_each.timeout_s == 2.5
    assert s.hooks.before_each is None and s.hooks.after_config is None
    assert s.to_dict()["hooks"] == {
        "before_config": {"command": [str(tmp_path.resolve() / "hooks" / "seed.sh"), "--table", "t"],
                          "timeout_s": 60.0},
        "after_each": {"command": ["python3", "check.py"], "timeout_s": 2.5}}
    aws = load_scenario(write(tmp_path, 'name = "t"\n[function]\nname = "orders"\n[target]\nkind = "aws"\n'
                              + SWEEP + WARM + '[hooks]\nbefore_each = { function = "orders-seed:live" }\n',
                              code=False))
    assert aws.hooks.before_each.function == "orders-seed:live"


def test_without_hooks_the_header_has_no_hooks_key(tmp_path):
    assert "hooks" not in load_scenario(write(tmp_path, scenario_text())).to_dict()
    assert load_scenario(write(tmp_path, hooks_text(""))).hooks is None  # an empty [hooks] is no hooks


@pytest.mark.parametrize("hooks, key, problem", [
    ('before_all = { command = ["true"] }\n', "hooks.before_all", "unknown key in [hooks]"),
    ('before_each = "setup.sh"\n', "hooks.before_each", 'must be a table, got the string "setup.sh"'),
    ('before_each = { }\n', "hooks.before_each", "names neither a function nor a command"),
    ('before_each = { command = ["true"], function = "f" }\n', "hooks.before_each",
     "gives both function and command"),
    ('before_each = { command = "python3 setup.py" }\n', "hooks.before_each.command",
     'must be a list of strings, got the string "python3 setup.py"'),
    ('before_each = { command = [] }\n', "hooks.before_each.command", "is empty"),
    ('before_each = { command = ["python3", 1] }\n', "hooks.before_each.command[1]",
     "must be a string, got the integer 1"),
    ('before_each = { command = ["no-such-program-lb"] }\n', "hooks.before_each.command[0]",
     '"no-such-program-lb" is not a program on PATH'),
    ('before_each = { command = ["true"], timeout_s = 0 }\n', "hooks.before_each.timeout_s", "0 s is out of range"),
    ('before_each = { command = ["true"], timeout_s = 3601 }\n', "hooks.before_each.timeout_s",
     "3601 s is out of range"),
    ('before_each = { command = ["true"], timout_s = 1 }\n', "hooks.before_each.timout_s",
     "unknown key in a hook (hooks.before_each)"),
    ('after_config = { function = "setup" }\n', "hooks.after_config.function",
     "a Lambda hook cannot run on the local target: its emulator holds only the function under test"),
    ('after_config = { function = "no such" }\n', "hooks.after_config.function",
     '"no such" is neither a function name nor a function ARN'),
])
def test_hook_errors_name_file_key_and_fix(tmp_path, hooks, key, problem):
    err = error_for(tmp_path, hooks_text(hooks))
    assert (err.key, err.problem) == (key, problem)


def test_a_hook_program_that_is_missing_or_not_executable_is_named_with_its_resolved_path(tmp_path):
    err = error_for(tmp_path, hooks_text('before_each = { command = ["./setup.sh"] }\n'))
    assert err.key == "hooks.before_each.command[0]"
    assert err.problem == f"program {tmp_path.resolve() / 'setup.sh'} does not exist"
    (tmp_path / "setup.sh").write_text("#!/bin/sh\n")
    err = error_for(tmp_path, hooks_text('before_each = { command = ["./setup.sh"] }\n'))
    assert err.problem == f"program {tmp_path.resolve() / 'setup.sh'} is not an executable file"
    assert "chmod +x" in err.fix


@pytest.mark.parametrize("runtime, handler, file", [
    ("nodejs20.x", "src/handlers/app.handler", "src/handlers/app.mjs"),
    ("nodejs22.x", "app.routes.get", "app.js"),          # Node.js: an export path after the module
    ("python3.12", "src/app.handler", "src/app.py"),
    ("python3.12", "pkg.app.handler", "pkg/app.py"),
])
def test_handlers_with_folders_load_as_lambda_accepts_them(tmp_path, runtime, handler, file):
    (tmp_path / "fn" / file).parent.mkdir(parents=True)
    (tmp_path / "fn" / file).write_text("")
    path = tmp_path / "s.toml"
    path.write_text(scenario_text(function=FUNCTION + f'runtime = "{runtime}"\nhandler = "{handler}"\n'))
    assert load_scenario(path).function.handler == handler


def test_the_handler_rule_is_lambdas_own_from_the_service_model():
    import botocore.session

    shape = botocore.session.get_session().get_service_model("lambda").shape_for("Handler").metadata
    assert limits.handler_rule() == (shape["pattern"], shape["max"])
    assert limits.handler_problem("src/handlers/app.handler") is None
    assert limits.handler_problem("a b.c") is not None and limits.handler_problem("") is not None
