"""`lambdabench restore DIR`: exit statuses and messages, against moto server (aws target)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[2]
ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_CONFIG_FILE": os.devnull,
       "AWS_SHARED_CREDENTIALS_FILE": os.devnull}


def lam(url: str):
    return boto3.client("lambda", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def create(url: str, name: str) -> str:
    iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                       aws_secret_access_key="testing")
    role = iam.create_role(RoleName=f"r-{name}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "def handler(e, c):\n    return 1\n")
    return lam(url).create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
                                    Code={"ZipFile": buf.getvalue()}, MemorySize=256, Timeout=5)["FunctionArn"]


def snapshot(out: Path, url: str, name: str, arn: str, *, kind: str = "aws", storage_mb: int = 512) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "original_config.json").write_text(json.dumps({
        "format_version": 1,
        "target": {"kind": kind, "region": "us-east-1", "profile": None, "endpoint_url": url},
        "function_name": name, "function_arn": arn,
        "config": {"memory_mb": 256, "timeout_s": 5, "architecture": "x86_64", "environment": {"K": "v"},
                   "ephemeral_storage_mb": storage_mb},
        "versions": [], "aliases": [],
    }))


def restore(out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lambdabench", "restore", str(out)], cwd=ROOT,
                          env={**os.environ, **ENV}, capture_output=True, text=True, timeout=60)


def test_restore_sets_the_snapshot_back(moto_url, tmp_path):
    arn = create(moto_url, "lb-r1")
    snapshot(tmp_path, moto_url, "lb-r1", arn)
    result = restore(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "lb-r1: restored (memory 256 MB, timeout 5 s, x86_64, 1 environment variable(s)" in result.stdout
    config = lam(moto_url).get_function_configuration(FunctionName="lb-r1")
    assert config["Environment"]["Variables"] == {"K": "v"}


def test_a_difference_that_remains_is_named_with_the_fix_and_exit_1(moto_url, tmp_path):
    # moto does not apply EphemeralStorage updates: a real case of a change the service did not take.
    arn = create(moto_url, "lb-r2")
    snapshot(tmp_path, moto_url, "lb-r2", arn, storage_mb=1024)
    result = restore(tmp_path)
    assert result.returncode == 1
    assert "lb-r2 still differs from its original configuration" in result.stderr
    assert "ephemeral_storage_mb: expected 1024, found 512" in result.stderr
    assert "hint: aws lambda update-function-configuration --function-name lb-r2" in result.stderr
    assert "--ephemeral-storage Size=1024" in result.stderr


def test_local_target_has_nothing_to_restore(tmp_path):
    snapshot(tmp_path, "http://127.0.0.1:1", "lb-local", "lb-local", kind="local")
    result = restore(tmp_path)
    assert result.returncode == 0
    assert "a local-target sweep; nothing to restore" in result.stdout


def test_a_folder_without_a_snapshot_exits_2(tmp_path):
    result = restore(tmp_path)
    assert result.returncode == 2
    assert "no snapshot here" in result.stderr and "hint:" in result.stderr


def test_a_function_that_no_longer_exists_exits_2(moto_url, tmp_path):
    snapshot(tmp_path, moto_url, "lb-gone", "lb-gone")
    result = restore(tmp_path)
    assert result.returncode == 2
    assert "function 'lb-gone' not found" in result.stderr


REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/orders"


def create_image(url: str, name: str, image_uri: str) -> dict:
    iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                       aws_secret_access_key="testing")
    role = iam.create_role(RoleName=f"r-{name}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam(url).create_function(FunctionName=name, Role=role, PackageType="Image", Code={"ImageUri": image_uri},
                             MemorySize=256, Timeout=5, Environment={"Variables": {"K": "v"}})
    return lam(url).get_function(FunctionName=name)


def image_snapshot(out: Path, url: str, function: dict, *, tag_uri: str, digest_uri: str) -> None:
    configuration = function["Configuration"]
    snapshot(out, url, configuration["FunctionName"], configuration["FunctionArn"])
    data = json.loads((out / "original_config.json").read_text())
    data.update(package_type="Image", image_tag_uri=tag_uri, image_uri=digest_uri)
    (out / "original_config.json").write_text(json.dumps(data))


def test_restore_reports_an_image_tag_moved_since_the_sweep_and_does_not_redeploy_over_it(moto_url, tmp_path):
    # the sweep saw orders:v1; a colleague has deployed orders:v2 since
    function = create_image(moto_url, "lb-img-moved", f"{REPO}:v2")
    image_snapshot(tmp_path, moto_url, function, tag_uri=f"{REPO}:v1", digest_uri=f"{REPO}@sha256:{'1' * 64}")
    result = restore(tmp_path)
    assert result.returncode == 1, result.stderr
    assert f"image: expected {REPO}:v1, found {REPO}:v2" in result.stderr
    assert f"hint: aws lambda update-function-code --function-name lb-img-moved --image-uri {REPO}:v1" in result.stderr
    assert "only if the code now there is not a deploy someone made since the sweep" in result.stderr
    assert lam(moto_url).get_function(FunctionName="lb-img-moved")["Code"]["ImageUri"] == f"{REPO}:v2"


def test_restore_compares_the_image_tag_not_the_digest_it_resolves_to(moto_url, tmp_path):
    # same tag, another digest (the tag was pushed again): the function still runs what was deployed
    function = create_image(moto_url, "lb-img-same", f"{REPO}:v1")
    assert function["Code"]["ResolvedImageUri"] != f"{REPO}@sha256:{'2' * 64}"
    image_snapshot(tmp_path, moto_url, function, tag_uri=f"{REPO}:v1", digest_uri=f"{REPO}@sha256:{'2' * 64}")
    result = restore(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "lb-img-same: already matched its original configuration" in result.stdout
