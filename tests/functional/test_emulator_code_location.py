"""GetFunction's Code.Location: a presigned http URL on the emulator's port that serves the zip and,
like S3's presigned URL, is refused with 403 once expired (10 minutes) or when altered."""

from __future__ import annotations

import io
import textwrap
import urllib.error
import urllib.request
import zipfile
from urllib.parse import parse_qs, urlsplit

import pytest

from lambdabench.emulator import Emulator

SOURCE = """
    def handler(event, context):
        return "ok"
"""


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_767_225_600.0  # 2026-01-01T00:00:00Z

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def clock():
    return FakeClock()


@pytest.fixture(scope="module")
def emulator(clock):
    with Emulator(keep_alive_s=30, account_concurrency=4, clock=clock) as emu:
        yield emu


@pytest.fixture(scope="module")
def client(emulator, emulator_helpers):
    client, _ = emulator_helpers.clients(emulator.endpoint)
    emulator_helpers.create(client, "coded", SOURCE)
    return client


def _source(zip_bytes: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
        return archive.read("app.py").decode()


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_code_location_is_an_http_url_on_the_emulators_port_serving_the_zip(emulator, client):
    location = client.get_function(FunctionName="coded")["Code"]
    assert location["RepositoryType"] == "S3"
    assert location["Location"].startswith(emulator.endpoint + "/_lambdabench/code/us-east-1/")
    query = parse_qs(urlsplit(location["Location"]).query)
    assert query["X-Amz-Expires"] == ["600"] and query["X-Amz-Date"] == ["20260101T000000Z"]
    status, body = _get(location["Location"])
    assert status == 200
    assert _source(body) == textwrap.dedent(SOURCE)


def test_the_served_zip_is_the_code_sha256_lambda_reports(client):
    import base64
    import hashlib

    response = client.get_function(FunctionName="coded")
    body = _get(response["Code"]["Location"])[1]
    assert base64.b64encode(hashlib.sha256(body).digest()).decode() == response["Configuration"]["CodeSha256"]


def test_an_expired_code_location_is_refused_as_s3_refuses_it(client, clock):
    url = client.get_function(FunctionName="coded")["Code"]["Location"]
    start = clock.now
    try:
        clock.now = start + 600
        assert _get(url)[0] == 200  # still valid at exactly 10 minutes
        clock.now = start + 601
        status, body = _get(url)
    finally:
        clock.now = start
    assert status == 403
    assert b"<Code>AccessDenied</Code><Message>Request has expired</Message>" in body
    assert b"<Expires>2026-01-01T00:10:00Z</Expires><ServerTime>2026-01-01T00:10:01Z</ServerTime>" in body


@pytest.mark.parametrize("tamper", [
    lambda url: url.replace("X-Amz-Expires=600", "X-Amz-Expires=6000"),
    lambda url: url.replace("X-Amz-Date=20260101T000000Z", "X-Amz-Date=20260101T010000Z"),
    lambda url: url[:-1] + ("0" if url[-1] != "0" else "1"),
    lambda url: url.replace("/us-east-1/", "/us-west-2/"),
])
def test_an_altered_code_location_is_refused_with_signature_does_not_match(client, tamper):
    url = client.get_function(FunctionName="coded")["Code"]["Location"]
    status, body = _get(tamper(url))
    assert status == 403
    assert (b"<Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the "
            b"signature you provided. Check your key and signing method.</Message>") in body


def test_a_code_location_without_its_signature_is_access_denied(client):
    url = client.get_function(FunctionName="coded")["Code"]["Location"]
    status, body = _get(url.split("?", 1)[0])
    assert status == 403 and b"<Code>AccessDenied</Code><Message>Access Denied</Message>" in body


def test_a_signed_location_of_unknown_code_is_no_such_key(emulator):
    links = emulator.code_links
    status, body = _get(links.url("us-east-1", "0" * 64))
    assert status == 404 and b"<Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>" in body


def test_each_version_locates_its_own_code(client, emulator_helpers):
    client.publish_version(FunctionName="coded")
    new_source = "def handler(event, context):\n    return 'v2'\n"
    client.update_function_code(FunctionName="coded", ZipFile=emulator_helpers.zip_of({"app.py": new_source}))
    client.get_waiter("function_updated_v2").wait(FunctionName="coded", WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    old = _get(client.get_function(FunctionName="coded", Qualifier="1")["Code"]["Location"])[1]
    new = _get(client.get_function(FunctionName="coded")["Code"]["Location"])[1]
    assert _source(old) == textwrap.dedent(SOURCE)
    assert _source(new) == new_source


KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_the_code_kms_key_is_reported_and_an_upload_without_one_falls_back_to_an_aws_owned_key(
        client, emulator_helpers):
    code = emulator_helpers.zip_of({"app.py": textwrap.dedent(SOURCE)})
    client.create_function(FunctionName="keyed", Runtime="python3.12", Role=emulator_helpers.ROLE,
                           Handler="app.handler", Code={"ZipFile": code, "SourceKMSKeyArn": KEY})
    assert client.get_function(FunctionName="keyed")["Code"]["SourceKMSKeyArn"] == KEY
    client.get_waiter("function_active_v2").wait(FunctionName="keyed", WaiterConfig={"Delay": 1})
    client.update_function_code(FunctionName="keyed", ZipFile=code)  # no key: Lambda uses an AWS owned key
    client.get_waiter("function_updated_v2").wait(FunctionName="keyed", WaiterConfig={"Delay": 1})
    assert "SourceKMSKeyArn" not in client.get_function(FunctionName="keyed")["Code"]
    client.update_function_code(FunctionName="keyed", ZipFile=code, SourceKMSKeyArn=KEY)
    assert client.get_function(FunctionName="keyed")["Code"]["SourceKMSKeyArn"] == KEY


def test_a_code_kms_key_that_is_not_an_arn_is_refused_and_nothing_created(client, emulator_helpers):
    code = emulator_helpers.zip_of({"app.py": textwrap.dedent(SOURCE)})
    with pytest.raises(client.exceptions.ClientError, match="ValidationException") as raised:
        client.create_function(FunctionName="badkey", Runtime="python3.12", Role=emulator_helpers.ROLE,
                               Handler="app.handler", Code={"ZipFile": code, "SourceKMSKeyArn": "my-key"})
    assert "sourceKMSKeyArn" in str(raised.value)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_function(FunctionName="badkey")
