"""Node.js functions in the emulator, through real boto3, each through both runtime clients (AWS's
aws-lambda-ric where it is installed, and the built-in one): CommonJS and ES module handlers, async and
callback style, callbackWaitsForEmptyEventLoop, the context, errors and console lines as Lambda's Node.js
runtime makes them, JSON logs, and the same physics as Python (CPU quota, memory limit, timeout, Init
Duration)."""

from __future__ import annotations

import json
import os
import re
import shutil

import pytest

from lambdabench.emulator import Emulator
from lambdabench.emulator.launch_node import RIC_ENV, find_runtime_clients
from lambdabench.logs import decode_log_result, iter_reports

pytestmark = pytest.mark.skipif(shutil.which("node") is None,
                                reason="Node.js is not installed (apt-get install nodejs): these tests run `node`")

ROLE = "arn:aws:iam::123456789012:role/r"
ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
HOST_PATH = "/usr/local/bin:/usr/bin:/bin"
RIC_MISSING = ("aws-lambda-ric is not installed (.ci/run installs it: apt-get install autoconf automake libtool make "
               "g++ cmake, then npm install --prefix .venv aws-lambda-ric@3): the built-in client ran instead")


def _installed_clients():
    node = shutil.which("node", path=HOST_PATH)
    return find_runtime_clients(node, {k: v for k, v in os.environ.items() if k == RIC_ENV}) if node else []


@pytest.fixture(scope="module", params=["builtin", "aws-lambda-ric"])
def node_client(request):
    """Which runtime client runs the module's functions: the built-in one (LAMBDABENCH_NODE_RIC empty) or
    the installed aws-lambda-ric packages (named in LAMBDABENCH_NODE_RIC)."""
    if request.param == "builtin":
        return request.param, ""
    clients = _installed_clients()
    if not any(c.serves("nodejs20.x") for c in clients):
        pytest.skip(RIC_MISSING)
    return request.param, os.pathsep.join(str(c.package) for c in clients)


@pytest.fixture(scope="module")
def emulator(node_client):
    host = {"PATH": HOST_PATH, "AWS_ACCESS_KEY_ID": "AKIAHOST", "AWS_SECRET_ACCESS_KEY": "s",
            RIC_ENV: node_client[1]}
    with Emulator(keep_alive_s=30, host_environment=host) as emu:
        yield emu


@pytest.fixture(scope="module")
def clients(emulator, emulator_helpers):
    return emulator_helpers.clients(emulator.endpoint)


def _serves(node_client, runtime: str) -> bool:
    """Whether `runtime` runs on the client the module is testing (an aws-lambda-ric serves only the
    runtimes Lambda runs it for: 3.x nodejs20.x/22.x, 4.x nodejs24.x)."""
    if node_client[0] == "builtin":
        return True
    return any(c.serves(runtime) for c in _installed_clients())


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
    """}, memory=128, timeout=60)  # at 0.07 vCPU filling 128 MB is slow on a loaded host: it must end in OOM, not time out
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


def test_the_client_that_runs_is_the_one_asked_for(emulator, clients, emulator_helpers, node_client):
    client, logs = clients
    _create(client, emulator_helpers, "which-client", {"index.js": "exports.handler = async () => 1;"})
    _invoke(client, "which-client", {})
    described = emulator.info()["runtimes"]["nodejs"]
    log = "".join(e["message"] for e in logs.filter_log_events(logGroupName="/aws/lambda/which-client")["events"])
    if node_client[0] == "builtin":
        assert "runtime client: the built-in client for nodejs20.x, nodejs22.x, nodejs24.x" in described
        assert "Executing 'index.handler'" not in log
    else:
        assert re.search(r"aws-lambda-ric 3\.[\d.]+ \([^)]+\) for nodejs20\.x, nodejs22\.x", described), described
        # aws-lambda-ric 3.x's own first line, before it patches the console
        assert "Executing 'index.handler' in function directory '" in log, log


def test_without_node_a_node_function_is_refused_saying_how_to_get_it(emulator_helpers):
    with Emulator(keep_alive_s=5, host_environment={"PATH": "/nonexistent"}) as emu:
        client, _ = emulator_helpers.clients(emu.endpoint)
        with pytest.raises(client.exceptions.InvalidParameterValueException) as excinfo:
            client.create_function(FunctionName="n", Runtime="nodejs22.x", Role=ROLE, Handler="index.handler",
                                   Code={"ZipFile": emulator_helpers.zip_of({"index.js": ""})})
    message = excinfo.value.response["Error"]["Message"]
    assert "need `node`, which is not on this machine's PATH" in message and "nodejs.org" in message


def _report(log: str):
    return next(iter_reports(log.splitlines()))


# The callback answers at once; a timer set during the invocation logs later.
LATE_TIMER = """
    exports.handler = function (event, context, callback) {
      if (event.waits === false) context.callbackWaitsForEmptyEventLoop = false;
      setTimeout(() => console.log("timer fired"), event.timer_ms);
      callback(null, {waits: context.callbackWaitsForEmptyEventLoop});
    };
"""


def test_a_callback_answer_waits_for_the_empty_event_loop_by_default(clients, emulator_helpers):
    client, _ = clients
    _create(client, emulator_helpers, "waits", {"index.js": LATE_TIMER})
    response, payload, log = _invoke(client, "waits", {"timer_ms": 600})
    assert "FunctionError" not in response and payload == {"waits": True}
    # Sent once the timer had fired: its line is in this invocation's log, its time in the Duration.
    assert re.search(rf"^{ISO}\t[0-9a-f-]{{36}}\tINFO\ttimer fired$", log, re.M), log
    assert _report(log).duration_ms >= 600


def test_callback_waits_for_empty_event_loop_false_answers_at_once(clients, emulator_helpers):
    client, _ = clients
    _create(client, emulator_helpers, "no-wait", {"index.js": LATE_TIMER})
    response, payload, log = _invoke(client, "no-wait", {"timer_ms": 2500, "waits": False})
    assert "FunctionError" not in response and payload == {"waits": False}
    assert "timer fired" not in log  # the answer went out before the timer
    assert _report(log).duration_ms < 2500


def test_a_callback_error_and_a_sync_handler_that_never_answers(clients, emulator_helpers):
    client, _ = clients
    _create(client, emulator_helpers, "cb-error", {"index.js": """
        exports.handler = (event, context, callback) => callback(new TypeError("nope"));
    """})
    response, payload, _ = _invoke(client, "cb-error", {})
    assert response["FunctionError"] == "Unhandled"
    assert (payload["errorType"], payload["errorMessage"]) == ("TypeError", "nope")
    # nodejs20.x: what a handler without callback returns (not a promise) is not its answer; once the
    # event loop is empty the runtime answers null.
    _create(client, emulator_helpers, "sync-return", {"index.js": "exports.handler = (event) => 42;"})
    response, payload, _ = _invoke(client, "sync-return", {})
    assert "FunctionError" not in response and payload is None
    # Only the first callback counts; a promise rejected with nothing is the error "handled".
    _create(client, emulator_helpers, "twice", {"index.js": "exports.handler = (e, c, cb) => { cb(null, 1); cb(null, 2); };"})
    assert _invoke(client, "twice", {})[1] == 1
    _create(client, emulator_helpers, "reject-nothing", {"index.js": "exports.handler = () => Promise.reject();"})
    response, payload, _ = _invoke(client, "reject-nothing", {})
    assert response["FunctionError"] == "Unhandled"
    assert (payload["errorType"], payload["errorMessage"]) == ("string", "handled")


def test_nodejs24_has_no_callback_handlers(node_client, clients, emulator_helpers):
    if not _serves(node_client, "nodejs24.x"):
        pytest.skip("no installed aws-lambda-ric serves nodejs24.x (its 4.x does): npm install --prefix .venv "
                    "aws-lambda-ric-4@npm:aws-lambda-ric@4")
    client, _ = clients
    _create(client, emulator_helpers, "cb24", {"index.js": "exports.handler = (e, c, callback) => callback(null, 1);"},
            runtime="nodejs24.x")
    response, payload, log = _invoke(client, "cb24", {})
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.CallbackHandlerDeprecated"
    assert payload["errorMessage"].startswith("ERROR: AWS Lambda has removed support for callback-based function "
                                              "handlers starting with Node.js 24.")
    assert "Status: error\tError Type: Runtime.CallbackHandlerDeprecated" in log
    # ... and a handler's return value is its answer, promise or not
    _create(client, emulator_helpers, "sync24", {"index.js": "exports.handler = (event) => 42;"}, runtime="nodejs24.x")
    response, payload, _ = _invoke(client, "sync24", {})
    assert "FunctionError" not in response and payload == 42


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
