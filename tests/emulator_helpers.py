"""Helpers for the emulator tests (loaded by path through the `emulator_helpers` fixture)."""

from __future__ import annotations

import io
import os
import textwrap
import zipfile

import boto3
from botocore.config import Config

ROLE = "arn:aws:iam::123456789012:role/lambda-role"
# Retries off: a throttle or error must reach the test exactly as the emulator answered it.
NO_RETRY = Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=120, connect_timeout=10,
                  max_pool_connections=32)


def zip_of(files: dict[str, str]) -> bytes:
    """A deployment package from {path: source}; sources are dedented."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, source in files.items():
            archive.writestr(name, textwrap.dedent(source))
    return buffer.getvalue()


def clients(endpoint: str, region: str = "us-east-1"):
    kwargs = dict(endpoint_url=endpoint, region_name=region, aws_access_key_id="testing",
                  aws_secret_access_key="testing", config=NO_RETRY)
    return boto3.client("lambda", **kwargs), boto3.client("logs", **kwargs)


def create(client, name: str, source: str, *, handler: str = "app.handler", memory: int = 128,
           timeout: int = 3, wait: bool = True, **extra):
    response = client.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler=handler,
                                      Code={"ZipFile": zip_of({"app.py": source})}, MemorySize=memory,
                                      Timeout=timeout, **extra)
    if wait:
        client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    return response


def process_alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False
    except OSError:
        try:
            os.kill(pid, 0)
            return True
        except ProcessLookupError:
            return False


def second_writer(endpoint: str, region: str = "us-east-1"):
    """A Lambda client of its own session and connection pool: "a colleague" changing the function while
    the code under test holds its own client (e.g. to provoke PreconditionFailedException)."""
    session = boto3.session.Session(aws_access_key_id="colleague", aws_secret_access_key="colleague",
                                    region_name=region)
    return session.client("lambda", endpoint_url=endpoint, config=NO_RETRY)


def error_of(exc) -> tuple[str, int, str]:
    """(Code, HTTP status, Message) of a botocore ClientError."""
    response = exc.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]
