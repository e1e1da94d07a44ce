"""Node.js functions in the emulator, through real boto3: CommonJS and ES module handlers, async and
callback style, the context, errors and console lines as Lambda's Node.js runtime makes them, JSON logs,
and the same physics as Python (CPU quota, memory limit, timeout, Init Duration)."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from lambdabench.emulator import Emulator
from lambdabench.logs import decode_log_result, iter_reports

pytestmark = pytest.mark.skipif(shutil.which("node") is None,
                                reason="Node.js is not installed (apt-get install nodejs): these tests run `node`")

ROLE = "arn:aws:iam::123456789012:role/r"
ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


@pytest.fixture(scope="module")
def emulator():
    host = {"PATH": "/usr/local/bin:/usr/bin:/bin", "AWS_ACCESS_KEY_ID": "AKIAHOST", "AWS_SECRET_ACCESS_KEY": "s"}
    with Emulator(keep_alive_s=30, host_environment=host) as emu:
        yield emu


@pytest.fixture(scope="module")
def clients(emulator, emulator_helpers):
    return emulator_helpers.clients(emulator.endpoint)


def _create(client, emulator_helpers, name: str, files: dict[str, str], *, handler: str = "index.handler",
            runtime: str = "nodejs20.x", memory: int = 128, timeout: int = 5, **extra) -> None:
    client.create_function(FunctionName=name, Runtime=runtime, Role=ROLE, Handler=handler,
                           Code={"ZipFile": emulator_helpers.zip_of(files)}, MemorySize=memory, Timeout=timeout,
                           **extra)
    client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 5})


def _invoke(client, name: str, event) -> tuple[dict, object, str]:
    response = client.invoke(FunctionName=name, Payload=json.dumps(event), LogType="Tail")
    return response, json.loads(response["Payload"].read()), decode_log_result(response["LogResult"])


ESM = """
    export const handler = async (event, context) => {
      console.log("hello", event.name, {n: 1});
      return {greeting: `hi ${event.name}`, remaining: context.getRemainingTimeInMillis(),
              fn: context.functionName, memory: context.memoryLimitInMB, id: context.awsRequestId,
              creds: Object.keys(process.env).filter((k) => /KEY|TOKEN/.test(k))};
    };
"""


def test_es_module_async_handler_answers_with_context_and_lambda_log_lines(clients, emulator_helpers):
    client, _ = clients
    _create(client, emulator_helpers, "esm", {"index.mjs": ESM}, timeout=7)
    response, payload, log = _invoke(client, "esm", {"name": "ada"})
    assert "FunctionError" not in response
    assert payload["greeting"] == "hi ada" and payload["fn"] == "esm" and payload["memory"] == "128"
    assert payload["creds"] == []
    assert 5000 < payload["remaining"] <= 7000
    assert re.search(rf"^{ISO}\t{payload['id']}\tINFO\thello ada {{ n: 1 }}$", log, re.M), log
    report = next(iter_reports(log.splitlines()))
    assert report.init_duration_ms is not None and report.init_duration_ms > 0
    _, _, warm_log = _invoke(client, "esm", {"name": "bob"})
    assert "Init Duration" not in warm_log


def test_commonjs_callback_handler_and_type_module_package(clients, emulator_helpers):
    client, _ = clients
    _create(client, emulator_helpers, "cjs-callback", {"lib/app.js": """
        exports.run = function (event, context, callback) {
          setTimeout(() => callback(null, {doubled: event.n * 2}), 5);
        };
    """}, handler="lib/app.run")
    _, payload, _ = _invoke(client, "cjs-callback", {"n": 21})
    assert payload == {"doubled": 42}
    _create(client, emulator_helpers, "type-module", {
        "package.json": '{"type": "module"}',
        "index.js": "export async function handler(event) { return typeof require; }",
    })
    _, payload, _ = _invoke(client, "type-module", {})
    assert payload == "undefined"  # an ES module: no require
    _create(client, emulator_helpers, "cjs-file", {"main.cjs": "module.exports.handler = async () => typeof require;"},
            handler="main.handler")
    assert _invoke(client, "cjs-file", {})[1] == "function"


def test_a_thrown_error_is_shaped_as_lambdas_node_runtime_shapes_it(clients, emulator_helpers):
    client, _ = clients
    _create(client, emulator_helpers, "thrower", {"index.js": """
        class ValidationError extends Error { constructor(m) { super(m); this.name = "ValidationError"; } }
        exports.handler = async () => { throw new ValidationError("bad input"); };
    """})
    response, payload, log = _invoke(client, "thrower", {})
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "ValidationError" and payload["errorMessage"] == "bad input"
    assert payload["trace"][0] == "ValidationError: bad input" and payload["trace"][1].lstrip().startswith("at ")
    line = re.search(rf"^{ISO}\t[0-9a-f-]{{36}}\tERROR\tInvoke Error \t(.*)$", log, re.M)
    assert line is not None, log
    assert json.loads(line.group(1))["errorType"] == "ValidationError"


@pytest.mark.parametrize("files, handler, error_type", [
    ({"other.js": "exports.handler = async () => 1;"}, "index.handler", "Runtime.ImportModuleError"),
    ({"index.js": "exports.other = async () => 1;"}, "index.handler", "Runtime.HandlerNotFound"),
    ({"index.mjs": "export const handler = async () => {;"}, "index.handler", "Runtime.UserCodeSyntaxError"),
], ids=["no-module", "no-export", "syntax"])
def test_handler_load_failures_fail_init_with_the_node_runtimes_error_type(clients, emulator_helpers, files,
                                                                            handler, error_type):
    client, _ = clients
    name = "bad-" + error_type.split(".")[1]
    _create(client, emulator_helpers, name, files, handler=handler)
    response, payload, log = _invoke(client, name, {})
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == error_type
    assert f"Status: error\tError Type: {error_type}" in log


def test_json_log_format_gives_json_application_lines(clients, emulator_helpers):
    client, _ = clients
    _create(client, emulator_helpers, "json-logs", {"index.mjs": """
        export const handler = async () => { console.debug("hidden"); console.warn("careful", 7); return 1; };
    """}, LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "INFO"})
    _, _, log = _invoke(client, "json-logs", {})
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    app = [line for line in lines if "level" in line]
    assert [(line["level"], line["message"]) for line in app] == [("WARN", "careful 7")]
    assert re.fullmatch(ISO, app[0]["timestamp"]) and re.fullmatch(r"[0-9a-f-]{36}", app[0]["requestId"])


def test_a_timeout_kills_the_node_handler(clients, emulator_helpers):
    client, _ = clients
    _create(client, emulator_helpers, "sleeper", {"index.mjs": """
        export const handler = () => new Promise(() => setInterval(() => {}, 1000));
    """}, timeout=1)
    response, payload, log = _invoke(client, "sleeper", {})
    assert payload["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in log
    assert next(iter_reports(log.splitlines())).status == "timeout"


def test_node_out_of_memory_is_runtime_out_of_memory(emulator, clients, emulator_helpers):
    if emulator.resources.memory_mechanism not in ("cgroup-v1", "cgroup-v2"):
        pytest.skip(f"needs a memory cgroup to kill the process at its limit, not {emulator.resources.memory_mechanism}")
    client, _ = clients
    _create(client, emulator_helpers, "hog", {"index.mjs": """
        const keep = [];
        export const handler = async () => { for (;;) keep.push(Buffer.alloc(16 * 1024 * 1024, 1)); };
    """}, memory=128)
    response, payload, log = _invoke(client, "hog", {})
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.OutOfMemory"
    report = next(iter_reports(log.splitlines()))
    assert (report.error_type, report.max_memory_used_mb) == ("Runtime.OutOfMemory", 128)


def test_the_version_that_runs_is_stated_and_a_different_major_warned(emulator, clients, emulator_helpers):
    client, _ = clients
    _create(client, emulator_helpers, "node24", {"index.mjs": "export const handler = async () => process.version;"},
            runtime="nodejs24.x")
    _, version, _ = _invoke(client, "node24", {})
    info = emulator.info()
    assert info["runtimes"]["nodejs"].startswith(f"Node.js {version} (")
    if not version.startswith("v24."):
        assert f"nodejs24.x functions run on Node.js {version}" in " ".join(info["warnings"])


def test_without_node_a_node_function_is_refused_saying_how_to_get_it(emulator_helpers):
    with Emulator(keep_alive_s=5, host_environment={"PATH": "/nonexistent"}) as emu:
        client, _ = emulator_helpers.clients(emu.endpoint)
        with pytest.raises(client.exceptions.InvalidParameterValueException) as excinfo:
            client.create_function(FunctionName="n", Runtime="nodejs22.x", Role=ROLE, Handler="index.handler",
                                   Code={"ZipFile": emulator_helpers.zip_of({"index.js": ""})})
    message = excinfo.value.response["Error"]["Message"]
    assert "need `node`, which is not on this machine's PATH" in message and "nodejs.org" in message


BURN = """
    export const handler = async (event) => {
      const t0 = process.hrtime.bigint(), c0 = process.cpuUsage();
      let x = 0;
      for (;;) {
        for (let i = 0; i < 20000; i++) x = (x * 31 + i) % 1000003;
        const c = process.cpuUsage(c0);
        if ((c.user + c.system) / 1000 >= event.cpu_ms) {
          return {wall_ms: Number(process.hrtime.bigint() - t0) / 1e6, cpu_ms: (c.user + c.system) / 1000, x};
        }
      }
    };
"""


def _slowdown(client, name: str, runs: int = 3) -> float:
    """Wall time per CPU time of a CPU-bound Node.js handler, least of `runs` (load only slows it)."""
    ratios = []
    for _ in range(runs):
        _, result, _ = _invoke(client, name, {"cpu_ms": 30})
        ratios.append(result["wall_ms"] / result["cpu_ms"])
    return min(ratios)


def test_a_cpu_bound_node_handler_gets_the_cpu_share_of_its_memory_size(emulator, clients, emulator_helpers):
    if emulator.resources.cpu_mechanism == "none":
        pytest.skip("no CPU limit on this machine (cpu_limit none)")
    client, _ = clients
    _create(client, emulator_helpers, "burn-128", {"index.mjs": BURN}, memory=128)
    _create(client, emulator_helpers, "burn-1769", {"index.mjs": BURN}, memory=1769)
    slow, fast = _slowdown(client, "burn-128"), _slowdown(client, "burn-1769")
    # Model: 128 MB gets 128/1769 of a vCPU, 13.8 s of wall per CPU second; 1,769 MB a whole one.
    # Other load only ever raises a ratio, so the lower bound is firm; the upper ones leave room for it.
    assert slow >= 10, slow
    assert slow / fast >= 3, (slow, fast)
