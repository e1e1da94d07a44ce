"""[hooks] end to end: real `python -m lambdabench sweep` runs command hooks on the local target and Lambda
hooks on the emulator (aws target, --endpoint-url), in the documented order, with the documented JSON,
outside every measured invocation; a failing hook stops the sweep (exit 1, hook_failed recorded, the
function restored or the copies deleted) and `--resume` finishes it once the hook is fixed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest

from lambdabench.emulator import Emulator
from lambdabench.results import RESULTS_FILE, read_results

ROOT = Path(__file__).resolve().parents[2]
CODE = Path(__file__).resolve().parents[1] / "data" / "sweep_tiny"

pytestmark = pytest.mark.slow

# A command hook that appends when it ran and what it was given to hooks.log beside the scenario (a shell
# script: a Python start per hook call would make these tests several times slower).
LOG_HOOK = """\
    #!/bin/sh
    doc=$(cat)
    printf '%s\\t%s\\n' "$(date +%s.%N)" "$doc" >> hooks.log
"""


def env() -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    out.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_CONFIG_FILE=os.devnull,
               AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    return out


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lambdabench", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=240, stdin=subprocess.DEVNULL, env=env())


def local_scenario(folder: Path, hooks: str, *, scenarios: str | None = None) -> Path:
    (folder / "log_hook.sh").write_text(textwrap.dedent(LOG_HOOK))
    (folder / "log_hook.sh").chmod(0o755)
    path = folder / "hooked.toml"
    path.write_text(textwrap.dedent(f"""
        name = "hooked"
        [function]
        name = "lb-hooked"
        code = "{CODE.as_posix()}"
        [sweep]
        memory_mb = [128, 256]
        timeout_s = [10]
        payload = {{ n = 3 }}
        """) + textwrap.dedent(scenarios or """
        [[scenario]]
        kind = "cold"
        invocations = 1
        [[scenario]]
        kind = "warm"
        invocations = 1
        warmup = 1
        [[scenario]]
        kind = "burst"
        concurrency = 2
        """) + "[hooks]\n" + textwrap.dedent(hooks))
    return path


def logged(folder: Path) -> list[dict]:
    path = folder / "hooks.log"
    if not path.exists():
        return []
    docs = []
    for line in path.read_text().splitlines():
        ran_at, doc = line.split("\t", 1)  # the document is compact JSON: a tab in it is escaped
        docs.append({**json.loads(doc), "ran_at": float(ran_at)})
    return docs


def lines_of(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / RESULTS_FILE).read_text().splitlines()]


def started(record: dict) -> float:
    return datetime.strptime(record["started_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


ALL_LOGGED = """
    before_config = { command = ["./log_hook.sh"] }
    before_each = { command = ["./log_hook.sh"] }
    after_each = { command = ["./log_hook.sh"] }
    after_config = { command = ["./log_hook.sh"] }
    """


def test_command_hooks_run_in_order_with_the_documented_json_and_outside_each_measured_invocation(tmp_path):
    path = local_scenario(tmp_path, ALL_LOGGED)
    out = tmp_path / "out"
    result = run_cli("sweep", str(path), "--out", str(out))
    assert result.returncode == 0, result.stderr

    docs = logged(tmp_path)
    order = [(d["hook"], d["config"]["memory_mb"], (d.get("invocation") or {}).get("invocation_id")) for d in docs]
    expected = []
    for m in (128, 256):
        c = f"m{m}-t10-x86_64"
        expected += [("before_config", m, None)]
        for iid in (f"{c}/cold/0", f"{c}/warm/warmup-0", f"{c}/warm/0"):
            expected += [("before_each", m, iid), ("after_each", m, iid)]
        burst = [f"{c}/burst/w0/0", f"{c}/burst/w0/1"]
        expected += [("before_each", m, i) for i in burst] + [("after_each", m, i) for i in burst]
        expected += [("after_config", m, None)]
    assert order == expected

    lines = lines_of(out)
    records = {r["invocation_id"]: r for r in lines if r["type"] == "invocation"}
    assert len(records) == 10 and {r["status"] for r in records.values()} == {"ok"}
    # Success leaves no trace but the header's scenario: results.jsonl holds what was measured.
    assert [e["event"] for e in lines if e["type"] == "event"].count("hook_failed") == 0
    assert lines[0]["scenario"]["hooks"]["before_each"] == {"command": [str(tmp_path.resolve() / "log_hook.sh")],
                                                            "timeout_s": 60.0}
    for doc in docs:
        assert doc["scenario"] == {"name": "hooked", "path": str(path.resolve())}
        assert doc["function"] == "lb-hooked"
        assert doc["config"] == {"memory_mb": doc["config"]["memory_mb"], "timeout_s": 10, "architecture": "x86_64"}
        if doc["hook"] in ("before_each", "after_each"):
            assert doc["payload"] == {"n": 3}
            inv = doc["invocation"]
            rec = records[inv["invocation_id"]]
            assert inv == {"invocation_id": rec["invocation_id"], "scenario": rec["scenario"], "wave": rec["wave"],
                           "warmup": rec["warmup"], "payload_label": "payload"}
        if doc["hook"] == "after_each":
            assert doc["record"] == records[doc["invocation"]["invocation_id"]]  # the line, seq included
            assert doc["ran_at"] > started(doc["record"])
        else:
            assert "record" not in doc
    # Every before_each of a wave finished before the wave was released.
    for m in (128, 256):
        wave = [r for r in records.values() if r["memory_mb"] == m and r["scenario"] == "burst"]
        befores = [d["ran_at"] for d in docs if d["hook"] == "before_each" and d["config"]["memory_mb"] == m
                   and d["invocation"]["scenario"] == "burst"]
        assert max(befores) < min(started(r) for r in wave)


FAIL_ON_WARM = """\
    #!/bin/sh
    case "$(cat)" in *'"invocation_id":"m128-t10-x86_64/warm/0"'*)
        echo "seeding the table failed: duplicate key"
        echo "Traceback: KeyError 'id'" >&2
        exit 3;;
    esac
"""


def test_a_hook_that_exits_non_zero_stops_the_sweep_and_resume_finishes_it_once_fixed(tmp_path):
    (tmp_path / "setup.sh").write_text(textwrap.dedent(FAIL_ON_WARM))
    (tmp_path / "setup.sh").chmod(0o755)
    path = local_scenario(tmp_path, """
        before_each = { command = ["sh", "setup.sh"] }
        after_config = { command = ["./log_hook.sh"] }
        """)
    out = tmp_path / "out"
    result = run_cli("sweep", str(path), "--out", str(out))
    assert result.returncode == 1, result.stderr
    assert "error: hook before_each (command sh setup.sh) failed: exit status 3 " \
           "[before m128-t10-x86_64/warm/0]" in result.stderr
    assert "seeding the table failed: duplicate key" in result.stderr and "KeyError 'id'" in result.stderr
    assert "partial results in" in result.stderr and "Traceback (most recent" not in result.stderr

    lines = lines_of(out)
    measured = [r["invocation_id"] for r in lines if r["type"] == "invocation"]
    assert measured == ["m128-t10-x86_64/cold/0", "m128-t10-x86_64/warm/warmup-0"]  # nothing after the failure
    events = [e for e in lines if e["type"] == "event"]
    assert [e["event"] for e in events][-3:] == ["hook_failed", "failed", "restored"]
    failed = events[-3]
    assert failed["hook"] == "before_each" and failed["run"] == "command sh setup.sh"
    assert failed["problem"] == "exit status 3" and failed["exit_status"] == 3
    assert failed["invocation_id"] == "m128-t10-x86_64/warm/0"
    assert failed["config"] == {"memory_mb": 128, "timeout_s": 10, "architecture": "x86_64"}
    assert failed["output_tail"].splitlines() == ["seeding the table failed: duplicate key",
                                                  "Traceback: KeyError 'id'"]
    assert logged(tmp_path) == []  # after_config does not run for a configuration the sweep abandoned

    (tmp_path / "setup.sh").write_text("cat > /dev/null\n")
    resumed = run_cli("sweep", str(path), "--resume", str(out))
    assert resumed.returncode == 0, resumed.stderr
    results = read_results(out)
    # The 10 planned invocations, plus the warm-up a resume adds before the interrupted warm scenario.
    assert len(results.records) == 11 and results.invocations["invocation_id"].is_unique
    assert "m128-t10-x86_64/warm/0/rewarm-1" in set(results.invocations["invocation_id"])
    assert [d["config"]["memory_mb"] for d in logged(tmp_path)] == [128, 256]


def test_a_hook_past_its_timeout_is_killed_with_its_children_and_stops_the_sweep(tmp_path):
    # The hook starts a grandchild that holds its output pipe: the timeout must end the whole group.
    (tmp_path / "slow.sh").write_text("#!/bin/sh\necho preparing\nsleep 30 &\nsleep 30\n")
    (tmp_path / "slow.sh").chmod(0o755)
    path = local_scenario(tmp_path, """
        before_config = { command = ["./slow.sh"], timeout_s = 0.5 }
        """, scenarios="""
        [[scenario]]
        kind = "warm"
        invocations = 1
        """)
    out = tmp_path / "out"
    result = run_cli("sweep", str(path), "--out", str(out))
    assert result.returncode == 1, result.stderr
    assert f"hook before_config (command {tmp_path.resolve() / 'slow.sh'}) failed: timed out after 0.5 s " \
           "(killed)" in result.stderr
    assert "preparing" in result.stderr
    lines = lines_of(out)
    assert [r for r in lines if r["type"] == "invocation"] == []
    failed = next(e for e in lines if e.get("event") == "hook_failed")
    assert failed["duration_ms"] < 10_000 and failed["exit_status"] is None
    assert lines[-1]["event"] == "restored"


# --- Lambda hooks on the emulator (aws target) ------------------------------------------------------

HOOK_FUNCTION = """
    import json, os
    def handler(event, context):
        with open(os.environ["HOOK_LOG"], "a") as f:
            f.write(json.dumps(event) + "\\n")
        if event["hook"] == os.environ.get("FAIL_ON"):
            raise RuntimeError("downstream table missing")
        return {"ok": True}
"""
TARGET_FUNCTION = """
    def handler(event, context):
        return {"n": event.get("n")}
"""


@pytest.fixture(scope="module")
def emulator():
    with Emulator(keep_alive_s=120, account_concurrency=12) as emu:
        yield emu


@pytest.fixture(scope="module")
def lam(emulator, emulator_helpers):
    return emulator_helpers.clients(emulator.endpoint)[0]


def aws_scenario(tmp_path: Path, function: str, hooks: str) -> Path:
    path = tmp_path / f"{function}.toml"
    path.write_text(textwrap.dedent(f"""
        name = "hooked-aws"
        [function]
        name = "{function}"
        [target]
        kind = "aws"
        region = "us-east-1"
        [sweep]
        memory_mb = [128]
        timeout_s = [10]
        payload = {{ order = 7 }}
        [[scenario]]
        kind = "warm"
        invocations = 1
        warmup = 1
        [[scenario]]
        kind = "burst"
        concurrency = 2
        [hooks]
        """) + textwrap.dedent(hooks))
    return path


def make_pair(lam, helpers, tmp_path: Path, name: str, fail_on: str = "") -> Path:
    log = tmp_path / f"{name}-hook.jsonl"
    helpers.create(lam, name, TARGET_FUNCTION, memory=192, timeout=5)
    helpers.create(lam, f"{name}-hook", HOOK_FUNCTION, timeout=5,
                   Environment={"Variables": {"HOOK_LOG": str(log), "FAIL_ON": fail_on or "none"}})
    return log


def copies_left(lam, name: str) -> list[str]:
    return [f["FunctionName"] for f in lam.list_functions()["Functions"] if f["FunctionName"].startswith(f"{name}-lb-")]


def test_lambda_hooks_are_invoked_through_the_target_and_the_confirmation_states_the_side_effects(
        emulator, lam, emulator_helpers, tmp_path):
    log = make_pair(lam, emulator_helpers, tmp_path, "hk-ok")
    path = aws_scenario(tmp_path, "hk-ok", """
        before_config = { function = "hk-ok-hook" }
        before_each = { function = "hk-ok-hook", timeout_s = 20 }
        after_each = { function = "hk-ok-hook" }
        """)
    out = tmp_path / "out"
    result = run_cli("sweep", str(path), "--endpoint-url", emulator.endpoint, "--out", str(out), "--yes")
    assert result.returncode == 0, result.stderr
    assert ("  side effects: the copies run 4 times with this payload (payload: {\"order\":7}) under the "
            "function's own role arn:aws:iam::123456789012:role/lambda-role, doing whatever the code does to its "
            "downstreams") in result.stderr
    assert "make the handler idempotent" in result.stderr
    assert f"  to see the plan without running anything: lambdabench sweep {path.resolve()} --dry-run" in result.stderr
    assert "    before_each: function hk-ok-hook (timeout 20 s), before each invocation" in result.stderr

    docs = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(d["hook"], (d.get("invocation") or {}).get("invocation_id")) for d in docs] == [
        ("before_config", None),
        ("before_each", "m128-t10-x86_64/warm/warmup-0"), ("after_each", "m128-t10-x86_64/warm/warmup-0"),
        ("before_each", "m128-t10-x86_64/warm/0"), ("after_each", "m128-t10-x86_64/warm/0"),
        ("before_each", "m128-t10-x86_64/burst/w0/0"), ("before_each", "m128-t10-x86_64/burst/w0/1"),
        ("after_each", "m128-t10-x86_64/burst/w0/0"), ("after_each", "m128-t10-x86_64/burst/w0/1"),
    ]
    records = {r.invocation_id: r for r in read_results(out).records}
    assert all(d["function"].startswith("hk-ok-lb-") for d in docs)  # the copy the sweep measures
    assert all(d["payload"] == {"order": 7} for d in docs if d["hook"] != "before_config")
    for d in docs:
        if d["hook"] == "after_each":
            assert d["record"]["request_id"] == records[d["invocation"]["invocation_id"]].request_id
    assert copies_left(lam, "hk-ok") == []


@pytest.mark.parametrize("hooks, problem", [
    ('after_each = { function = "hk-err-hook" }', "FunctionError Unhandled"),
    ('before_config = { function = "hk-err-missing" }', "Invoke answered ResourceNotFoundException"),
])
def test_a_failing_lambda_hook_stops_the_sweep_and_the_copies_are_deleted(emulator, lam, emulator_helpers,
                                                                            tmp_path, hooks, problem):
    if "hk-err" not in {f["FunctionName"] for f in lam.list_functions()["Functions"]}:  # once per module
        make_pair(lam, emulator_helpers, tmp_path, "hk-err", fail_on="after_each")
    path = aws_scenario(tmp_path, "hk-err", hooks)
    out = tmp_path / "out"
    result = run_cli("sweep", str(path), "--endpoint-url", emulator.endpoint, "--out", str(out), "--yes")
    assert result.returncode == 1, result.stderr
    # The hook function's own traceback is in the output tail; lambdabench's is not.
    assert problem in result.stderr and str(ROOT / "lambdabench") not in result.stderr
    lines = lines_of(out)
    failed = next(e for e in lines if e.get("event") == "hook_failed")
    assert failed["problem"].startswith(problem)
    if failed["hook"] == "after_each":
        assert "downstream table missing" in failed["output_tail"] and "RuntimeError" in failed["output_tail"]
        assert failed["invocation_id"] == "m128-t10-x86_64/warm/warmup-0"
        assert [r["invocation_id"] for r in lines if r["type"] == "invocation"] == ["m128-t10-x86_64/warm/warmup-0"]
    else:
        assert [r for r in lines if r["type"] == "invocation"] == []
    assert lines[-1]["event"] == "restored" and lines[-1]["copies_deleted"]
    assert copies_left(lam, "hk-err") == []


def test_a_lambda_hook_on_the_local_target_is_refused_before_anything_runs(tmp_path):
    path = local_scenario(tmp_path, 'before_each = { function = "setup" }')
    result = run_cli("sweep", str(path), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "hooks.before_each.function: a Lambda hook cannot run on the local target" in result.stderr
    assert not (tmp_path / "out").exists()


def test_ctrl_c_during_a_hook_ends_the_hook_and_its_children_and_restores(tmp_path, default_sigint,
                                                                           emulator_helpers):
    import signal
    import time

    (tmp_path / "hang.sh").write_text("#!/bin/sh\necho $$ > hook.pid\nsleep 60 &\necho $! > child.pid\nwait\n")
    (tmp_path / "hang.sh").chmod(0o755)
    path = local_scenario(tmp_path, 'before_each = { command = ["./hang.sh"] }\n', scenarios="""
        [[scenario]]
        kind = "warm"
        invocations = 1
        """)
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "lambdabench", "sweep", str(path), "--out", str(out)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(),
                               stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (tmp_path / "child.pid").exists() or not (tmp_path / "child.pid").read_text().strip():
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    pids = [int((tmp_path / name).read_text()) for name in ("hook.pid", "child.pid")]
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "interrupted: the function was restored" in stderr
    events = [e["event"] for e in lines_of(out) if e["type"] == "event"]
    assert events[-2:] == ["interrupted", "restored"] and "hook_failed" not in events
    deadline = time.monotonic() + 10
    while any(emulator_helpers.process_alive(pid) for pid in pids):
        assert time.monotonic() < deadline, "the hook or its child outlived the sweep"
        time.sleep(0.05)


def test_dry_run_lists_the_hooks_and_runs_none(tmp_path):
    path = local_scenario(tmp_path, ALL_LOGGED)
    result = run_cli("sweep", str(path), "--dry-run")
    assert result.returncode == 0, result.stderr
    hook = tmp_path.resolve() / "log_hook.sh"
    assert ("hooks (their time is never part of a measured invocation; a failing hook stops the sweep):\n"
            f"  before_config: command {hook} (timeout 60 s), after each configuration change, before its first "
            "invocation\n"
            f"  before_each: command {hook} (timeout 60 s), before each invocation (a burst: for each one, before "
            "the wave is released)\n") in result.stdout
    assert logged(tmp_path) == []


def test_a_lambda_hook_with_the_target_overridden_to_local_is_refused(tmp_path):
    path = aws_scenario(tmp_path, "orders", 'before_each = { function = "orders-seed" }\n')
    result = run_cli("sweep", str(path), "--target", "local", "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "[hooks] names a Lambda function, which the local target cannot invoke" in result.stderr
    assert not (tmp_path / "out").exists()
