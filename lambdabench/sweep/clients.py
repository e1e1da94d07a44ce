"""The one boto3 wrapper of the sweep: client creation for a target and botocore errors → our errors.

Four clients per target, each configured for its job:
- `control`: Lambda control plane (get/update configuration, code, versions, aliases). botocore's
  `standard` retry mode, so transient 5xx and throttled control-plane calls are retried.
- `invoke`: Lambda Invoke with retries OFF (`total_max_attempts = 1`: the initial request only).
  A throttle (429) or a timeout is data; a retry would hide it or count one request twice.
  Its connection pool is at least the burst size (else burst threads queue for a socket and the
  release is no longer simultaneous) and its read timeout exceeds the function timeout.
- `logs`: CloudWatch Logs, for REPORT lines the LogResult tail did not carry.
- `tagging`: the Resource Groups Tagging API, for `lambdabench cleanup` (tag:GetResources finds the
  functions tagged lambdabench:sweep without reading every function's tags).

Every botocore error that reaches the user goes through `translate` so it becomes a UsageError
(exit 2: wrong name, region, credentials, parameters) or a RunError (exit 1) with a hint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, TypeVar

import boto3
import botocore.exceptions
from botocore.config import Config

from lambdabench.errors import RunError, UsageError

T = TypeVar("T")

# The emulator accepts any credentials; these are sent only to a local endpoint we started.
LOCAL_CREDENTIALS = {"aws_access_key_id": "lambdabench", "aws_secret_access_key": "lambdabench"}

# Botocore's own connect timeout is 60 s; a Lambda endpoint that does not accept a TCP
# connection in 10 s is not going to.
CONNECT_TIMEOUT_S = 10
# Margin over the function timeout for the Invoke read timeout: Lambda answers a timed-out
# invocation shortly after the deadline, plus cold-start init (up to 10 s on demand).
INVOKE_READ_MARGIN_S = 30


@dataclass(frozen=True)
class TargetInfo:
    """Where the sweep's boto3 clients point. Stored in original_config.json for `restore`."""

    kind: str  # local | aws
    region: str
    profile: str | None = None
    endpoint_url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "region": self.region,
            "profile": self.profile,
            "endpoint_url": self.endpoint_url,
        }


@dataclass(frozen=True)
class Clients:
    target: TargetInfo
    control: Any  # botocore client "lambda", standard retries
    invoke: Any  # botocore client "lambda", no retries
    logs: Any  # botocore client "logs", standard retries
    tagging: Any = None  # botocore client "resourcegroupstaggingapi", standard retries


def make_clients(
    kind: str,
    *,
    region: str | None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    max_timeout_s: int = 900,
    pool_size: int = 10,
) -> Clients:
    """Create the four clients for a target; raise UsageError for a missing region/credentials/profile.

    `kind="local"` uses dummy credentials (the endpoint is our own emulator); `kind="aws"` uses the
    standard credential chain of `profile` (environment, config files, instance roles).
    """
    try:
        if kind == "local":
            session = boto3.Session(region_name=region or "us-east-1", **LOCAL_CREDENTIALS)
        else:
            session = boto3.Session(profile_name=profile, region_name=region)
    except botocore.exceptions.ProfileNotFound as exc:
        raise UsageError(
            f"AWS profile {profile!r} not found",
            "pass an existing --profile (see `aws configure list-profiles`) or leave it out",
        ) from exc
    resolved_region = session.region_name
    if not resolved_region:
        raise UsageError(
            "No region configured",
            "pass --region, set [target] region in the scenario, or set AWS_REGION",
        )
    if kind != "local":
        try:
            credentials = session.get_credentials()
        except botocore.exceptions.BotoCoreError as exc:
            raise UsageError(f"could not load AWS credentials: {exc}", _CREDENTIALS_HINT) from exc
        if credentials is None:
            raise UsageError("No AWS credentials found", _CREDENTIALS_HINT)
    pool = max(10, pool_size)
    control = session.client(
        "lambda",
        endpoint_url=endpoint_url,
        config=Config(
            retries={"mode": "standard", "total_max_attempts": 5},
            connect_timeout=CONNECT_TIMEOUT_S,
            read_timeout=60,
            max_pool_connections=10,
        ),
    )
    invoke = session.client(
        "lambda",
        endpoint_url=endpoint_url,
        config=Config(
            # total_max_attempts counts the first request: 1 means no retry at all. (The older
            # `max_attempts` key counts retries only; 0 there means the same thing.)
            retries={"mode": "standard", "total_max_attempts": 1},
            connect_timeout=CONNECT_TIMEOUT_S,
            read_timeout=max_timeout_s + INVOKE_READ_MARGIN_S,
            max_pool_connections=pool,
            tcp_keepalive=True,
            # The driver builds every Invoke itself (a name and bytes); client-side validation would
            # only add CPU per invocation (~0.2 ms here, measured by bench/driver_bench.py's baseline).
            parameter_validation=False,
        ),
    )
    # Burst threads wait, request signed, at this hook until the release (see release.run_released).
    from lambdabench.sweep.release import hold_at_gate

    invoke.meta.events.register("before-send.lambda.Invoke", hold_at_gate)
    # CloudWatch Logs and the tagging API (cleanup's search for copies): reads, retried as the control plane is.
    reads = Config(retries={"mode": "standard", "total_max_attempts": 5}, connect_timeout=CONNECT_TIMEOUT_S)
    logs = session.client("logs", endpoint_url=endpoint_url, config=reads)
    tagging = session.client("resourcegroupstaggingapi", endpoint_url=endpoint_url, config=reads)
    target = TargetInfo(kind=kind, region=resolved_region, profile=profile, endpoint_url=endpoint_url)
    return Clients(target=target, control=control, invoke=invoke, logs=logs, tagging=tagging)


_CREDENTIALS_HINT = (
    "configure credentials (aws configure, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or --profile); "
    "or run the local target, which needs none: --target local"
)


def error_code(exc: BaseException) -> str | None:
    if isinstance(exc, botocore.exceptions.ClientError):
        return exc.response.get("Error", {}).get("Code")
    return None


def translate(exc: BaseException, *, function: str | None = None, action: str = "") -> Exception:
    """A botocore exception → UsageError/RunError with a hint. Returns it (the caller raises)."""
    what = f" while {action}" if action else ""
    if isinstance(exc, botocore.exceptions.ClientError):
        code = error_code(exc) or "Unknown"
        message = exc.response.get("Error", {}).get("Message") or str(exc)
        if code in ("ResourceNotFoundException", "ResourceNotFound"):
            return UsageError(
                f"function {function!r} not found{what}: {message}",
                "check the function name or ARN, and that --region/--endpoint-url point where it lives",
            )
        if code in (
            "UnrecognizedClientException",
            "InvalidSignatureException",
            "ExpiredTokenException",
            "ExpiredToken",
            "InvalidClientTokenId",
        ):
            return UsageError(f"AWS rejected the credentials{what}: {message}", _CREDENTIALS_HINT)
        if code in ("AccessDeniedException", "AccessDenied"):
            return UsageError(
                f"access denied{what}: {message}",
                "`lambdabench iam-policy SCENARIO` prints the policy the sweep needs "
                "(add --in-place for an in-place sweep)",
            )
        if code in ("InvalidParameterValueException", "ValidationException"):
            return UsageError(f"Lambda rejected a parameter{what}: {message}", "fix the value in the scenario file")
        return RunError(f"{code}{what}: {message}", "run again; add --debug to see the full error")
    if isinstance(exc, botocore.exceptions.NoCredentialsError):
        return UsageError("No AWS credentials found", _CREDENTIALS_HINT)
    if isinstance(exc, botocore.exceptions.NoRegionError):
        return UsageError("No region configured", "pass --region or set AWS_REGION")
    if isinstance(exc, botocore.exceptions.EndpointConnectionError):
        return UsageError(
            f"cannot connect to the Lambda endpoint{what}: {exc}",
            "check --endpoint-url (is `lambdabench serve` running?) and the network",
        )
    if isinstance(exc, botocore.exceptions.WaiterError):
        return RunError(
            f"the function did not finish updating{what}: {exc}",
            "look at LastUpdateStatusReason in `aws lambda get-function-configuration`, then run again",
        )
    if isinstance(exc, botocore.exceptions.BotoCoreError):
        return RunError(f"AWS client error{what}: {exc}", "run again; add --debug to see the full error")
    return RunError(f"{type(exc).__name__}{what}: {exc}")


def call(fn: Callable[..., T], *args: Any, function: str | None = None, action: str = "", **kwargs: Any) -> T:
    """Run one boto3 call; botocore errors become our errors."""
    try:
        return fn(*args, **kwargs)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        raise translate(exc, function=function, action=action) from exc
