"""The generated policy against moto with IAM enforcement on: enough for a whole in-place sweep, nothing spare.

The server (tests/functional/moto_iam_server.py, its own process) authorizes each call against the
caller's policies with AWS's resource ARNs and logs every decision. An admin user is made with the
first unauthenticated calls (INITIAL_NO_AUTH_ACTION_COUNT); every other identity is made by it.
moto's Invoke runs no code without Docker, so samples have no REPORT (and the sweep polls CloudWatch
Logs for each): that is all an authorization test needs.
"""

from __future__ import annotations

import fnmatch
import io
import json
import os
import subprocess
import sys
import textwrap
import uuid
import zipfile
from pathlib import Path

import boto3
import pytest

from lambdabench.errors import LambdabenchError
from lambdabench.scenario import load_scenario
from lambdabench.sweep import iam
from lambdabench.sweep.clients import make_clients
from lambdabench.sweep.isolation import SOURCE_TAG, SWEEP_TAG
from lambdabench.sweep.run import SweepOptions, cleanup_candidates, delete_copies, restore_from_dir, run_sweep

ROOT = Path(__file__).resolve().parents[2]
SERVER = Path(__file__).resolve().parent / "moto_iam_server.py"
REGION = "us-east-1"
FUNCTION = "lb-iam"
# A tagged image function: moto gives a zip function's GetFunction a Code.Location nobody can fetch, so
# the copy-mode sweep copies this one (by its image digest).
IMAGE_FUNCTION = "lb-iam-image"
# moto routes no ListFunctionUrlConfigs (/urls): it answers it 404 before any
# authorization, so its permission is granted and the call made, but moto cannot show it used.
MOTO_UNROUTED = {"lambda:ListFunctionUrlConfigs"}
ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


class Moto:
    def __init__(self, url: str, decisions: Path, admin: dict[str, str]) -> None:
        self.url, self.decisions, self.admin = url, decisions, admin

    def client(self, service: str, keys: dict[str, str] | None = None):
        keys = keys or self.admin
        return boto3.client(service, endpoint_url=self.url, region_name=REGION, **keys)

    def user_with(self, policy: dict) -> dict[str, str]:
        iam_client = self.client("iam")
        name = f"sweeper-{uuid.uuid4().hex[:8]}"
        iam_client.create_user(UserName=name)
        iam_client.put_user_policy(UserName=name, PolicyName="lambdabench", PolicyDocument=json.dumps(policy))
        key = iam_client.create_access_key(UserName=name)["AccessKey"]
        return {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}

    def read_decisions(self) -> list[dict]:
        lines = self.decisions.read_text(encoding="utf-8").splitlines() if self.decisions.exists() else []
        self.decisions.write_text("", encoding="utf-8")
        return [json.loads(line) for line in lines]


def zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "def handler(event, context):\n    return 1\n")
    return buf.getvalue()


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    folder = tmp_path_factory.mktemp("authz")
    decisions = folder / "decisions.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(INITIAL_NO_AUTH_ACTION_COUNT="3", AWS_ACCESS_KEY_ID="root", AWS_SECRET_ACCESS_KEY="root",
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    server_log = open(folder / "server.log", "w", encoding="utf-8")  # its request log and tracebacks
    proc = subprocess.Popen([sys.executable, str(SERVER), str(decisions)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=server_log, env=env, cwd=ROOT, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("PORT "), line
        url = f"http://127.0.0.1:{int(line.split()[1])}"
        root = boto3.client("iam", endpoint_url=url, region_name=REGION, aws_access_key_id="root",
                            aws_secret_access_key="root")
        # The three unauthenticated calls: an admin that makes everything else.
        root.create_user(UserName="admin")
        root.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=json.dumps(ADMIN_POLICY))
        key = root.create_access_key(UserName="admin")["AccessKey"]
        server = Moto(url, decisions, {"aws_access_key_id": key["AccessKeyId"],
                                       "aws_secret_access_key": key["SecretAccessKey"]})
        with pytest.raises(Exception, match="InvalidClientTokenId|AccessDenied|not valid"):
            root.list_users()  # enforcement is on from here
        role = server.client("iam").create_role(RoleName="lb-exec", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        server.client("lambda").create_function(
            FunctionName=FUNCTION, Runtime="python3.12", Role=role, Handler="app.handler",
            Code={"ZipFile": zip_bytes()}, MemorySize=192, Timeout=7, Environment={"Variables": {"A": "1"}})
        server.client("lambda").create_function(
            FunctionName=IMAGE_FUNCTION, Role=role, PackageType="Image", MemorySize=192, Timeout=7,
            Code={"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:latest"}, Tags={"team": "orders"})
        server.read_decisions()
        yield server
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
        server_log.close()


@pytest.fixture()
def as_user(monkeypatch):
    """Point the standard credential chain (what the sweep uses) at one IAM user's keys."""
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)

    def use(keys: dict[str, str]) -> None:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys["aws_access_key_id"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys["aws_secret_access_key"])
    return use


def scenario_file(tmp_path: Path, function: str = FUNCTION, isolation: str = iam.IN_PLACE) -> Path:
    path = tmp_path / f"{function}-{isolation}.toml"
    path.write_text(textwrap.dedent(f"""
        name = "iam"
        [function]
        name = "{function}"
        [target]
        kind = "aws"
        region = "{REGION}"
        isolation = "{isolation}"
        [sweep]
        memory_mb = [128, 256]
        timeout_s = [10]
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
        """))
    return path


def sweep(moto: Moto, tmp_path: Path, function: str = FUNCTION, isolation: str = iam.IN_PLACE):
    return run_sweep(load_scenario(scenario_file(tmp_path, function, isolation)),
                     SweepOptions(out_dir=tmp_path / f"out-{uuid.uuid4().hex[:6]}", endpoint_url=moto.url,
                                  logs_max_wait_s=0),
                     confirm=lambda lines: None)


def cleanup(moto: Moto) -> list[str]:
    """`lambdabench cleanup --yes` as the current user: the copies it found (it deletes them)."""
    clients = make_clients("aws", region=REGION, endpoint_url=moto.url)
    copies = cleanup_candidates(clients)
    assert delete_copies(clients, copies) == []
    return [c.name for c in copies]


def exercise(moto: Moto, tmp_path: Path, function: str, mode: str):
    """What the policy is for: the sweep, and in copy mode `lambdabench cleanup` of its leftovers too."""
    run = sweep(moto, tmp_path, function, mode)
    if mode == iam.COPY:
        assert cleanup(moto) == []  # the sweep left nothing
    return run


def leftover_copy(moto: Moto, name: str, run_id: str, function: str = IMAGE_FUNCTION) -> None:
    """A copy as a killed sweep leaves it (made by the admin: the sweep did not get to delete it)."""
    source = moto.client("lambda").get_function_configuration(FunctionName=function)
    moto.client("lambda").create_function(
        FunctionName=name, Role=source["Role"], PackageType="Image", MemorySize=128, Timeout=10,
        Code={"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:latest"},
        Tags={SWEEP_TAG: run_id, SOURCE_TAG: source["FunctionArn"]})


def original_config(moto: Moto, function: str = FUNCTION) -> dict:
    c = moto.client("lambda").get_function_configuration(FunctionName=function)
    return {"memory": c["MemorySize"], "timeout": c["Timeout"], "env": (c.get("Environment") or {}).get("Variables"),
            "architectures": c["Architectures"]}


def printed_policy(moto: Moto, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=moto.admin["aws_access_key_id"],
               AWS_SECRET_ACCESS_KEY=moto.admin["aws_secret_access_key"],
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    return subprocess.run([sys.executable, "-m", "lambdabench", "iam-policy", *args, "--endpoint-url", moto.url],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, stdin=subprocess.DEVNULL)


def policy_of(moto: Moto, function: str = FUNCTION, mode: str = iam.IN_PLACE) -> dict:
    response = moto.client("lambda").get_function(FunctionName=function)
    return iam.policy(response["Configuration"], mode=mode, tagged=bool(response.get("Tags")))


def in_place_policy(moto: Moto, function: str = FUNCTION) -> dict:
    return policy_of(moto, function)


def test_iam_policy_command_prints_the_policy_of_the_function_it_reads(moto, tmp_path):
    result = printed_policy(moto, tmp_path, str(scenario_file(tmp_path)), "--in-place")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document == in_place_policy(moto)
    arn = f"arn:aws:lambda:{REGION}:123456789012:function:{FUNCTION}"
    assert {s["Sid"]: s["Resource"] for s in document["Statement"]}["ChangeFunction"] == arn
    # the scenario's [target] isolation decides without a flag; --copy overrides it
    scenario = scenario_file(tmp_path)
    assert json.loads(printed_policy(moto, tmp_path, str(scenario)).stdout) == document
    copy = json.loads(printed_policy(moto, tmp_path, str(scenario), "--copy").stdout)
    assert copy == policy_of(moto, FUNCTION, iam.COPY)
    assert {s["Sid"]: s["Resource"] for s in copy["Statement"]}["PassRoleToCopies"] == (
        "arn:aws:iam::123456789012:role/lb-exec")


def test_iam_policy_command_grants_invoke_on_the_scenarios_lambda_hooks(moto, tmp_path):
    scenario = scenario_file(tmp_path)
    scenario.write_text(scenario.read_text() + '[hooks]\nbefore_each = { function = "seed" }\n'
                        'after_config = { command = ["true"] }\n')
    result = printed_policy(moto, tmp_path, str(scenario), "--in-place")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    hooks = [s for s in document["Statement"] if s["Sid"] == "InvokeHooks"]
    assert hooks == [{"Sid": "InvokeHooks", "Effect": "Allow", "Action": ["lambda:InvokeFunction"],
                      "Resource": f"arn:aws:lambda:{REGION}:123456789012:function:seed"}]
    assert [s for s in document["Statement"] if s["Sid"] != "InvokeHooks"] == in_place_policy(moto)["Statement"]


def test_iam_policy_command_for_a_missing_function_exits_2(moto, tmp_path):
    path = scenario_file(tmp_path)
    path.write_text(path.read_text().replace(f'name = "{FUNCTION}"', 'name = "lb-nowhere"'))
    result = printed_policy(moto, tmp_path, str(path))
    assert result.returncode == 2
    assert "function 'lb-nowhere' not found" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def copies_left(moto: Moto) -> list[str]:
    names = [f["FunctionName"] for f in moto.client("lambda").list_functions()["Functions"]]
    return sorted(n for n in names if iam.COPY_INFIX in n)


# (function, mode): moto gives a zip function a Code.Location nobody can fetch, so copies are of the image
SWEEPS = [(FUNCTION, iam.IN_PLACE), (IMAGE_FUNCTION, iam.IN_PLACE), (IMAGE_FUNCTION, iam.COPY)]


@pytest.mark.parametrize("function,mode", SWEEPS)
def test_a_user_with_only_the_generated_policy_sweeps_without_one_access_denied(moto, as_user, tmp_path,
                                                                              function, mode):
    before = original_config(moto, function)
    policy = policy_of(moto, function, mode)
    as_user(moto.user_with(policy))
    moto.read_decisions()
    run = exercise(moto, tmp_path, function, mode)
    decisions = moto.read_decisions()
    assert run.outcome.completed and run.outcome.restore.ok
    assert [d for d in decisions if not d["allowed"]] == []
    assert original_config(moto, function) == before and copies_left(moto) == []
    # the image function is the tagged one: its GetFunction needs lambda:ListTags as well
    assert ("lambda:ListTags" in {d["action"] for d in decisions if d["resource"].endswith(f":{function}")}) == (
        function == IMAGE_FUNCTION)
    # nothing spare: every action of every statement was used on that statement's resource (but what
    # moto cannot authorize)
    unused = {(s["Sid"], action) for s in policy["Statement"] for action in s["Action"]
              if not any(d["action"] == action and any(fnmatch.fnmatchcase(d["resource"], r) for r in
                                                       (s["Resource"] if isinstance(s["Resource"], list)
                                                        else [s["Resource"]])) for d in decisions)}
    # moto's Invoke of an image function answers 500 (it looks for a zip's code digest): those samples
    # are errors, which the sweep does not look up in CloudWatch Logs
    expected = {(s["Sid"], a) for s in policy["Statement"] for a in s["Action"] if a in MOTO_UNROUTED}
    if function == IMAGE_FUNCTION:
        expected.add(("ReadLogs" if mode == iam.IN_PLACE else "CopyLogs", "logs:FilterLogEvents"))
    assert unused == expected
    # writes went to the copies only (copy) or to the function only (in place)
    arn = f"arn:aws:lambda:{REGION}:123456789012:function:{function}"
    written = {d["resource"] for d in decisions if d["action"] == "lambda:UpdateFunctionConfiguration"}
    if mode == iam.IN_PLACE:
        assert written == {arn}
    else:
        assert len(written) == 1 and written.pop().startswith(f"{arn}-lb-")


def test_a_tagged_function_cannot_be_read_without_list_tags(moto, as_user, tmp_path):
    policy = in_place_policy(moto, IMAGE_FUNCTION)
    read = next(s for s in policy["Statement"] if s["Sid"] == "ReadFunction")
    read["Action"].remove("lambda:ListTags")
    as_user(moto.user_with(policy))
    moto.read_decisions()
    with pytest.raises(LambdabenchError, match="lambda:ListTags"):
        sweep(moto, tmp_path, IMAGE_FUNCTION)
    assert [d["action"] for d in moto.read_decisions() if not d["allowed"]] == ["lambda:ListTags"]


def test_the_same_policy_lets_restore_put_back_a_function_left_mid_sweep(moto, as_user, tmp_path):
    before = original_config(moto)
    policy = in_place_policy(moto)
    as_user(moto.user_with(policy))
    run = sweep(moto, tmp_path)
    # changed after the sweep (not by it): --force puts the snapshot back over whoever wrote it
    moto.client("lambda").update_function_configuration(
        FunctionName=FUNCTION, MemorySize=1024, Timeout=10, Environment={"Variables": {"A": "1", "NONCE": "z"}})
    moto.read_decisions()
    report = restore_from_dir(run.outcome.out_dir, force=True)
    assert report.outcome.ok and report.outcome.changed
    assert [d for d in moto.read_decisions() if not d["allowed"]] == []
    assert original_config(moto) == before


def test_the_copy_policy_lets_restore_delete_a_killed_sweeps_copies_found_by_name(moto, as_user, tmp_path):
    policy = policy_of(moto, IMAGE_FUNCTION, iam.COPY)
    as_user(moto.user_with(policy))
    run = sweep(moto, tmp_path, IMAGE_FUNCTION, iam.COPY)
    run_id = json.loads((run.outcome.out_dir / "original_config.json").read_text())["run_id"]
    leftover_copy(moto, f"{IMAGE_FUNCTION}-lb-{run_id}", run_id)  # as if kill -9 had stopped the sweep
    leftover_copy(moto, f"{IMAGE_FUNCTION}-lb-0ther0ne", "0ther0ne")  # another sweep's: not restore's to delete
    moto.read_decisions()
    report = restore_from_dir(run.outcome.out_dir)
    decisions = moto.read_decisions()
    assert report.outcome.ok and report.outcome.deleted_copies == (f"{IMAGE_FUNCTION}-lb-{run_id}",)
    assert [d for d in decisions if not d["allowed"]] == []
    assert not {"lambda:ListFunctions", "tag:GetResources"} & {d["action"] for d in decisions}
    assert copies_left(moto) == [f"{IMAGE_FUNCTION}-lb-0ther0ne"]
    moto.client("lambda").delete_function(FunctionName=f"{IMAGE_FUNCTION}-lb-0ther0ne")


def test_the_copy_policy_lets_cleanup_find_and_delete_leftover_copies_by_tag(moto, as_user, tmp_path):
    as_user(moto.user_with(policy_of(moto, IMAGE_FUNCTION, iam.COPY)))
    leftover_copy(moto, f"{IMAGE_FUNCTION}-lb-deadbeef", "deadbeef")
    moto.read_decisions()
    assert cleanup(moto) == [f"{IMAGE_FUNCTION}-lb-deadbeef"]
    decisions = moto.read_decisions()
    assert [d for d in decisions if not d["allowed"]] == []
    assert ("tag:GetResources", "*") in {(d["action"], d["resource"]) for d in decisions}
    assert "lambda:ListFunctions" not in {d["action"] for d in decisions}
    assert copies_left(moto) == []


def test_cleanup_without_the_find_statement_is_denied_by_name(moto, as_user, tmp_path):
    policy = policy_of(moto, IMAGE_FUNCTION, iam.COPY)
    policy["Statement"] = [s for s in policy["Statement"] if s["Sid"] != "FindLeftoverCopies"]
    as_user(moto.user_with(policy))
    with pytest.raises(LambdabenchError) as raised:
        cleanup(moto)
    assert "access denied" in raised.value.message.lower() or "AccessDenied" in raised.value.message
    assert [d["action"] for d in moto.read_decisions() if not d["allowed"]] == ["tag:GetResources"]


def test_the_policy_denies_another_function(moto, as_user, tmp_path):
    policy = in_place_policy(moto)
    keys = moto.user_with(policy)
    other = moto.client("lambda").get_function_configuration(FunctionName=FUNCTION)
    moto.client("lambda").create_function(
        FunctionName="lb-iam-other", Runtime="python3.12", Role=other["Role"], Handler="app.handler",
        Code={"ZipFile": zip_bytes()})
    with pytest.raises(Exception, match="AccessDenied"):
        moto.client("lambda", keys).update_function_configuration(FunctionName="lb-iam-other", MemorySize=256)
    moto.client("lambda", keys).get_function_configuration(FunctionName=FUNCTION)  # its own: allowed


def test_the_copy_policy_creates_tags_and_deletes_copies_only_and_passes_the_role_to_lambda_only(moto):
    configuration = moto.client("lambda").get_function_configuration(FunctionName=FUNCTION)
    policy = iam.policy(configuration, mode=iam.COPY)
    user = moto.client("lambda", moto.user_with(policy))
    code = {"ZipFile": zip_bytes()}
    create = dict(Runtime="python3.12", Role=configuration["Role"], Handler="app.handler", Code=code,
                  Tags={"lambdabench:sweep": "run-1", "lambdabench:source": configuration["FunctionArn"]})
    copy = user.create_function(FunctionName=f"{FUNCTION}-lb-a1b2c3d4", **create)
    assert copy["FunctionName"] == f"{FUNCTION}-lb-a1b2c3d4"
    user.update_function_configuration(FunctionName=copy["FunctionName"], MemorySize=512)
    user.delete_function(FunctionName=copy["FunctionName"])
    for forbidden in (lambda: user.create_function(FunctionName="lb-iam-other-copy", **create),
                      lambda: user.update_function_configuration(FunctionName=FUNCTION, MemorySize=512),
                      lambda: user.delete_function(FunctionName=FUNCTION)):
        with pytest.raises(Exception, match="AccessDenied"):
            forbidden()
    # without the PassRole statement, or with it for another service, no copy can be created
    for passrole in ([], [{"Sid": "PassRoleToCopies", "Effect": "Allow", "Action": ["iam:PassRole"],
                           "Resource": configuration["Role"],
                           "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}}]):
        narrowed = dict(policy, Statement=[s for s in policy["Statement"] if s["Sid"] != "PassRoleToCopies"] + passrole)
        moto.read_decisions()
        with pytest.raises(Exception, match="AccessDenied"):
            moto.client("lambda", moto.user_with(narrowed)).create_function(
                FunctionName=f"{FUNCTION}-lb-e5f6a7b8", **create)
        assert [d["action"] for d in moto.read_decisions() if not d["allowed"]] == ["iam:PassRole"]
    assert original_config(moto)["memory"] == 192


DROPS = [(function, mode, s["Sid"]) for function, mode in ((FUNCTION, iam.IN_PLACE), (IMAGE_FUNCTION, iam.COPY))
         for s in iam.policy({"FunctionArn": f"arn:aws:lambda:{REGION}:123456789012:function:{function}",
                              "Role": "arn:aws:iam::123456789012:role/lb-exec"}, mode=mode)["Statement"]]


@pytest.mark.parametrize("function,mode,sid", DROPS)
def test_dropping_any_statement_makes_a_step_fail_with_access_denied(moto, as_user, tmp_path, function, mode, sid):
    before = original_config(moto, function)
    policy = policy_of(moto, function, mode)
    dropped = next(s for s in policy["Statement"] if s["Sid"] == sid)
    policy["Statement"] = [s for s in policy["Statement"] if s["Sid"] != sid]
    as_user(moto.user_with(policy))
    moto.read_decisions()
    try:
        exercise(moto, tmp_path, function, mode)
    except LambdabenchError as exc:
        # moto answers a denied Lambda call with an XML body botocore reads as code "403" (AWS sends
        # AccessDeniedException, which becomes "access denied" and the iam-policy hint)
        assert "AccessDenied" in exc.message or "access denied" in exc.message
    denied = {d["action"] for d in moto.read_decisions() if not d["allowed"]}
    assert denied and denied <= set(dropped["Action"])
    assert original_config(moto, function) == before  # a denied step never leaves the function changed
    for name in copies_left(moto):  # a copy whose deletion was denied: the admin cleans up after the test
        moto.client("lambda").delete_function(FunctionName=name)


def test_logs_the_policy_does_not_let_the_sweep_read_are_said_by_permission_and_recorded_as_denied(moto, tmp_path):
    policy = in_place_policy(moto)
    policy["Statement"] = [s for s in policy["Statement"] if s["Sid"] != "ReadLogs"]
    keys = moto.user_with(policy)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=keys["aws_access_key_id"], AWS_SECRET_ACCESS_KEY=keys["aws_secret_access_key"],
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    out = tmp_path / "out"
    moto.read_decisions()
    result = subprocess.run([sys.executable, "-m", "lambdabench", "sweep", str(scenario_file(tmp_path)),
                             "--endpoint-url", moto.url, "--yes", "--out", str(out), "--logs-wait-s", "5"],
                            capture_output=True, text=True, env=env, cwd=ROOT, timeout=180, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    group = f"/aws/lambda/{FUNCTION}"
    assert (f"warning: CloudWatch Logs refused to let this identity read {group} (") in result.stderr
    assert (f"logs:FilterLogEvents is not granted, so invocations whose LogResult tail had no REPORT line are "
            "recorded without Duration, Billed Duration or cost") in result.stderr
    assert f"grant logs:FilterLogEvents on arn:aws:logs:{REGION}:123456789012:log-group:{group}" in result.stderr
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    records = [r for r in lines if "invocation_id" in r]
    assert records and {r["report_source"] for r in records} == {"logs_denied"}
    denied_events = [e for e in lines if e.get("event") == "logs_unreadable"]
    assert [(e["log_group"], e["permission"]) for e in denied_events] == [(group, "logs:FilterLogEvents")]
    # asked once, not once per sample (and not polled for the whole --logs-wait-s either)
    filters = [d for d in moto.read_decisions() if d["action"] == "logs:FilterLogEvents"]
    assert len(filters) == 1 and not filters[0]["allowed"]
    # and the report (a CI artifact) says it too
    warnings = {w["kind"]: w for w in json.loads((out / "report.json").read_text())["warnings"]}
    assert warnings["logs_unreadable"]["message"].startswith(
        f"CloudWatch Logs refused to let the sweep read {group} (")
    assert "logs:FilterLogEvents not granted" in warnings["logs_unreadable"]["message"]
    assert "logs_unreadable" in result.stdout  # the summary's warnings
