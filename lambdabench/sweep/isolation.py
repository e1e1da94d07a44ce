"""How an aws-target sweep keeps the user's function safe: preflight, disposable copies, live-traffic evidence.

- `preflight` refuses (UsageError, exit 2) before anything is created or changed: a function Pending or
  Failed, an Inactive one in place (unless the user lets `wake` wake it; a copy does not need the
  original Active, `state_notes` says so), a Lambda Managed Instances function, an environment the nonce would push over 4 KB, a zip too
  big to upload again (copy mode), an image function with an architecture axis.
- `CopySet` creates, on demand, one temporary function per architecture that equals the original in
  everything that decides its performance (code, runtime, handler, role, layers, environment, VPC,
  file systems, /tmp, tracing, KMS key, log format and levels, architecture), tagged with the sweep's
  run id and the original's ARN, and deletes them with their log groups. The original is only read.
- `recorded_copies` finds one sweep's copies by the names its run id gives them (`lambdabench restore`
  after a kill -9, `--resume`); `sweep_copies` finds every copy by tag (`lambdabench cleanup`).
- `live_traffic` lists what would also reach the function during an in-place sweep.

Environment values pass from GetFunction to CreateFunction in memory only: nothing here writes them.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

import botocore.exceptions

from lambdabench import limits
from lambdabench.arns import derived_name
from lambdabench.errors import RunError, UsageError
from lambdabench.sweep.clients import Clients, call, error_code, translate

COPY = "copy"
IN_PLACE = "in-place"
SWEEP_TAG = "lambdabench:sweep"
SOURCE_TAG = "lambdabench:source"
# The nonce the driver adds: LAMBDABENCH_NONCE = 16 hex digits (snapshot.NONCE_VARIABLE).
NONCE_VALUE_CHARS = 16
_ARCH_SHORT = {"x86_64": "x86", "arm64": "arm"}
# What a copy cannot reproduce (said in the confirmation and kept in the results header for the report).
COPY_LIMITS = ("measures an on-demand $LATEST copy: the original's reserved and provisioned concurrency, "
               "SnapStart and triggers (event sources, URLs, resource policy) are not reproduced")
IN_PLACE_LIMITS = ("measures the live function: whatever traffic it also serves during the sweep shares its "
                   "sandboxes and concurrency and is served at the sweep's memory and timeout")


def new_run_id() -> str:
    return uuid.uuid4().hex[:8]


def copy_name(source_name: str, run_id: str, architecture: str, original_architecture: str) -> str:
    """`<name>-lb-<run id>` (plus `-arm`/`-x86` for the other architecture), at most 64 characters."""
    suffix = f"-lb-{run_id}" + ("" if architecture == original_architecture else f"-{_ARCH_SHORT[architecture]}")
    return derived_name(source_name, suffix)


def environment_bytes(variables: dict[str, str]) -> int:
    """Lambda's measure of the 4 KB environment limit: the variables as compact JSON, in UTF-8 bytes."""
    return len(json.dumps(variables, separators=(",", ":")).encode("utf-8"))


# -- preflight ------------------------------------------------------------------------------------

def preflight(configuration: dict[str, Any], *, isolation: str, architectures: set[str],
              nonce_variable: str, wake_inactive: bool = False) -> None:
    """Refuse (UsageError) what would fail or mislead after the user said yes. Reads nothing, changes nothing.

    An Inactive function (Lambda reclaimed its resources after weeks idle; StateReasonCode Idle) is
    refused in place unless `wake_inactive`; a copy does not need the original Active (GetFunction
    still answers its code and configuration, and the copy goes Pending -> Active on its own)."""
    name = configuration.get("FunctionName") or "the function"
    state = configuration.get("State") or "Active"
    reason = configuration.get("StateReason") or ""
    if state == "Pending":
        raise UsageError(f"{name} is Pending (being created or its VPC/file system set up): {reason}".rstrip(": "),
                         f"wait until it is Active (aws lambda wait function-active-v2 --function-name {name}), "
                         "then run again")
    if state == "Inactive" and isolation == IN_PLACE and not wake_inactive:
        raise UsageError(f"{name} is Inactive: Lambda reclaimed its resources after it stayed idle; its next invoke "
                         "fails and starts restoring them (Pending, then Active), so an in-place sweep's first "
                         "invokes would be error samples",
                         "sweep a disposable copy instead (drop --in-place: the copy is created Active from the same "
                         "code and the original stays as it is), or add --wake-inactive to let lambdabench wake "
                         "it with one invoke and wait until it is Active")
    if state not in ("Active", "Inactive"):
        raise UsageError(f"{name} is in State {state}: {reason}".rstrip(": "),
                         "fix the function until `aws lambda get-function` says State Active, then run again")
    if configuration.get("CapacityProviderConfig"):
        raise UsageError(
            f"{name} is a Lambda Managed Instances function (CapacityProviderConfig): it runs on the EC2 "
            "instances of its capacity provider, where memory does not buy CPU the way on-demand Lambda's does, "
            "and an unqualified invoke runs $LATEST.PUBLISHED, not the configuration a sweep sets",
            "sweep an on-demand function (one without CapacityProviderConfig); size Managed Instances through "
            "the capacity provider's instance types instead")
    variables = dict((configuration.get("Environment") or {}).get("Variables") or {})
    variables[nonce_variable] = "0" * NONCE_VALUE_CHARS
    size = environment_bytes(variables)
    if size > limits.ENVIRONMENT_MAX_BYTES:
        raise UsageError(
            f"{name}'s environment plus the sweep's {nonce_variable} would be {size} bytes, over Lambda's "
            f"{limits.ENVIRONMENT_MAX_BYTES}-byte limit, so the first configuration change would be refused",
            f"make room for {len(nonce_variable) + NONCE_VALUE_CHARS + 6} bytes (move large values to SSM "
            "Parameter Store or Secrets Manager), then run again")
    package = configuration.get("PackageType") or "Zip"
    current = (configuration.get("Architectures") or [limits.DEFAULT_ARCHITECTURE])[0]
    if package == "Image" and architectures - {current}:
        raise UsageError(
            f"{name} is a container image built for {current}: the architecture axis "
            f"({', '.join(sorted(architectures))}) would run it on an architecture it was not built for",
            f"remove [sweep] architectures, or build a multi-architecture image and sweep each "
            f"architecture's function separately")
    code_size = int(configuration.get("CodeSize") or 0)
    if isolation == COPY and package == "Zip" and code_size > limits.CODE_ZIP_MAX_BYTES:
        raise UsageError(
            f"{name}'s deployment package is {code_size / 1e6:.1f} MB, over the "
            f"{limits.CODE_ZIP_MAX_BYTES // (1024 * 1024)} MB that CreateFunction accepts directly, so the copy "
            "cannot be created",
            "sweep the function itself with --in-place (it changes the live function; read the README first)")


def state_notes(configuration: dict[str, Any], *, isolation: str) -> list[str]:
    """Confirmation lines about the function's State that the sweep goes ahead with (preflight passed)."""
    if (configuration.get("State") or "Active") != "Inactive":
        return []
    name = configuration.get("FunctionName") or "the function"
    if isolation == COPY:
        return [f"  note: {name} is Inactive (idle; Lambda reclaimed its resources): it is only read and stays "
                "Inactive; the copies are created from its code and become Active on their own"]
    return [f"  wakes {name} first: it is Inactive, so one invoke (which Lambda fails while it restores the "
            "function's resources) and a wait until it is Active (--wake-inactive)"]


def wake(clients: Clients, function: str, payload: bytes, *, sleep: Callable[[float], None] = time.sleep,
         delay_s: float = 1.0, max_wait_s: float = 300.0,
         clock: Callable[[], float] = time.monotonic) -> dict[str, Any]:
    """Wake an Inactive function the way AWS documents ("Lambda function states"): invoke it; the invoke
    fails and Lambda restores the function's resources (Pending, then Active). Returns the configuration
    once Active. An invoke that succeeds (the function woke meanwhile) ran the sweep's own payload once
    and is not a sample. RunError when Lambda sets it back to Inactive or Failed, or after `max_wait_s`."""
    try:
        clients.invoke.invoke(FunctionName=function, InvocationType="RequestResponse", Payload=payload)
    except botocore.exceptions.ClientError as exc:
        # ResourceConflictException ("... currently in the following state: Inactive/Pending") or, for a
        # VPC function, ResourceNotReadyException: the expected failure that starts the restore.
        if error_code(exc) not in ("ResourceConflictException", "ResourceNotReadyException"):
            raise translate(exc, function=function, action="waking the Inactive function") from exc
    except botocore.exceptions.BotoCoreError as exc:
        raise translate(exc, function=function, action="waking the Inactive function") from exc
    deadline = clock() + max_wait_s
    seen_pending = False
    while True:
        configuration = call(clients.control.get_function_configuration, FunctionName=function,
                             function=function, action="waiting for the function to wake")
        state = configuration.get("State") or "Active"
        if state == "Active":
            return configuration
        seen_pending = seen_pending or state == "Pending"
        if state == "Failed" or (state == "Inactive" and seen_pending):
            reason = configuration.get("StateReason") or configuration.get("StateReasonCode") or ""
            raise RunError(f"Lambda could not wake {function}: it is {state} again ({reason})".replace(" ()", ""),
                           "fix what the reason names (subnet addresses, security groups, the KMS key, the "
                           "image), or sweep a disposable copy instead (drop --in-place); nothing was changed")
        if clock() + delay_s > deadline:
            raise RunError(f"{function} was still {state} {max_wait_s:.0f} s after the wake-up invoke",
                           f"wait until it is Active (aws lambda wait function-active-v2 --function-name "
                           f"{function}), then run again; nothing was changed")
        sleep(delay_s)


# -- copies -------------------------------------------------------------------------------------------

def copy_request(configuration: dict[str, Any], code: dict[str, Any], *, name: str, architecture: str,
                 run_id: str, environment: dict[str, str], image_config: dict[str, Any] | None) -> dict[str, Any]:
    """CreateFunction arguments for a copy of `configuration` (GetFunction's Configuration)."""
    request: dict[str, Any] = {
        "FunctionName": name,
        "Role": configuration["Role"],
        "Code": code,
        "PackageType": configuration.get("PackageType") or "Zip",
        "MemorySize": int(configuration.get("MemorySize", 128)),
        "Timeout": int(configuration.get("Timeout", 3)),
        "Architectures": [architecture],
        "Environment": {"Variables": dict(environment)},
        "EphemeralStorage": {"Size": int((configuration.get("EphemeralStorage") or {}).get("Size", limits.EPHEMERAL_STORAGE_DEFAULT_MB))},
        "Tags": {SWEEP_TAG: run_id, SOURCE_TAG: configuration.get("FunctionArn", "")},
        "Description": f"lambdabench sweep {run_id} copy of {configuration.get('FunctionName', '')}"[:256],
    }
    if request["PackageType"] == "Zip":
        request["Runtime"] = configuration["Runtime"]
        request["Handler"] = configuration["Handler"]
    if image_config:
        request["ImageConfig"] = image_config
    layers = [layer["Arn"] for layer in configuration.get("Layers") or [] if layer.get("Arn")]
    if layers:
        request["Layers"] = layers
    vpc = configuration.get("VpcConfig") or {}
    if vpc.get("SubnetIds"):
        request["VpcConfig"] = {"SubnetIds": list(vpc["SubnetIds"]),
                                "SecurityGroupIds": list(vpc.get("SecurityGroupIds") or [])}
        if vpc.get("Ipv6AllowedForDualStack"):
            request["VpcConfig"]["Ipv6AllowedForDualStack"] = True
    file_systems = configuration.get("FileSystemConfigs") or []
    if file_systems:
        request["FileSystemConfigs"] = [{"Arn": f["Arn"], "LocalMountPath": f["LocalMountPath"]}
                                        for f in file_systems]
    tracing = (configuration.get("TracingConfig") or {}).get("Mode")
    if tracing:
        request["TracingConfig"] = {"Mode": tracing}
    if configuration.get("KMSKeyArn"):
        request["KMSKeyArn"] = configuration["KMSKeyArn"]
    logging_config = configuration.get("LoggingConfig") or {}
    if logging_config.get("LogFormat"):
        # Format and levels as the original's; no LogGroup: the copy logs to its own /aws/lambda/<copy>.
        request["LoggingConfig"] = {k: logging_config[k] for k in ("LogFormat", "ApplicationLogLevel",
                                                                   "SystemLogLevel") if logging_config.get(k)}
    return request


@dataclass
class CopySet:
    """The sweep's copies of one original, one per architecture, created on first use and deleted together."""

    clients: Clients
    configuration: dict[str, Any]  # the original's GetFunction Configuration (environment values: memory only)
    code: dict[str, Any]  # CreateFunction Code: {"ZipFile": bytes} or {"ImageUri": digest reference}
    run_id: str
    image_config: dict[str, Any] | None = None
    wait_delay_s: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    log_settle_s: float = 1.0
    created: dict[str, str] = field(default_factory=dict)  # architecture -> copy name

    @property
    def source_name(self) -> str:
        return self.configuration["FunctionName"]

    @property
    def original_architecture(self) -> str:
        return (self.configuration.get("Architectures") or [limits.DEFAULT_ARCHITECTURE])[0]

    def name_for(self, architecture: str) -> str:
        return copy_name(self.source_name, self.run_id, architecture, self.original_architecture)

    def function_for(self, architecture: str, environment: dict[str, str]) -> str:
        """The copy for `architecture` (created with `environment` when it does not exist yet)."""
        if architecture in self.created:
            return self.created[architecture]
        name = self.name_for(architecture)
        request = copy_request(self.configuration, self.code, name=name, architecture=architecture,
                               run_id=self.run_id, environment=environment, image_config=self.image_config)
        # Recorded before the call: a copy whose create answered an error is still looked for at deletion.
        self.created[architecture] = name
        _create(self.clients, request, self.sleep)
        waiter = self.clients.control.get_waiter("function_active_v2")
        try:
            waiter.wait(FunctionName=name, WaiterConfig={"Delay": self.wait_delay_s,
                                                         "MaxAttempts": max(1, int(300 / max(self.wait_delay_s,
                                                                                             0.01)))})
        except (botocore.exceptions.WaiterError, botocore.exceptions.ClientError,
                botocore.exceptions.BotoCoreError) as exc:
            raise translate(exc, function=name, action="waiting for the copy to become Active") from exc
        return name

    def delete_all(self) -> list[str]:
        """Delete every copy and its log group; returns the problems (empty: all gone). Never raises."""
        names = list(self.created.values())
        problems: list[str] = []
        for name in names:
            problems.extend(delete_function(self.clients, name))
        if names:
            # An invocation still in flight when the sweep stopped (Ctrl-C) writes its log after the
            # delete and so re-creates the group: let it land first.
            self.sleep(self.log_settle_s)
        for name in names:
            problems.extend(delete_log_group(self.clients, name))
        return problems


def _create(clients: Clients, request: dict[str, Any], sleep: Callable[[float], None]) -> None:
    # A just-created role may not be assumable for seconds (InvalidParameterValueException "The role
    # defined for the function cannot be assumed"): but the original already runs with this role, so a
    # refusal is real and reported at once.
    name = request["FunctionName"]
    try:
        clients.control.create_function(**request)
    except botocore.exceptions.ClientError as exc:
        if error_code(exc) == "ResourceConflictException":
            raise RunError(f"a function named {name} already exists",
                           "run `lambdabench cleanup` to delete a previous sweep's copies, then run again") from exc
        raise translate(exc, function=name, action="creating the sweep's copy") from exc
    except botocore.exceptions.BotoCoreError as exc:
        raise translate(exc, function=name, action="creating the sweep's copy") from exc


def delete_function_and_logs(clients: Clients, name: str) -> list[str]:
    """Delete one copy and its /aws/lambda/<name> log group; a part already gone is fine. Never raises."""
    return delete_function(clients, name) + delete_log_group(clients, name)


def delete_function(clients: Clients, name: str) -> list[str]:
    problems: list[str] = []
    try:
        clients.control.delete_function(FunctionName=name)
    except botocore.exceptions.ClientError as exc:
        if error_code(exc) not in ("ResourceNotFoundException",):
            message = exc.response.get("Error", {}).get("Message")
            problems.append(f"deleting function {name}: {error_code(exc)}: {message}")
    except botocore.exceptions.BotoCoreError as exc:
        problems.append(f"deleting function {name}: {exc}")
    return problems


def delete_log_group(clients: Clients, name: str) -> list[str]:
    problems: list[str] = []
    try:
        clients.logs.delete_log_group(logGroupName=f"/aws/lambda/{name}")
    except botocore.exceptions.ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            problems.append(f"deleting log group /aws/lambda/{name}: {error_code(exc)}")
    except botocore.exceptions.BotoCoreError as exc:
        problems.append(f"deleting log group /aws/lambda/{name}: {exc}")
    return problems


@dataclass(frozen=True)
class SweepCopy:
    name: str
    arn: str
    run_id: str
    source: str


def run_copy_names(source_name: str, run_id: str, original_architecture: str) -> list[str]:
    """Every name a sweep of `source_name` with `run_id` may have given a copy (one per architecture)."""
    others = [a for a in _ARCH_SHORT if a != original_architecture]
    return [copy_name(source_name, run_id, a, original_architecture) for a in [original_architecture, *others]]


def recorded_copies(clients: Clients, source_name: str, run_id: str, original_architecture: str
                    ) -> list[SweepCopy]:
    """The copies of one sweep that still exist, by the names its run id gives them (`lambdabench restore`,
    `--resume`). Each is read with GetFunction (which the sweep's policy grants on the copies' names) and
    counted only when its lambdabench:sweep tag holds this run id: a function that merely has the name
    is not the sweep's and is left alone."""
    found: list[SweepCopy] = []
    for name in run_copy_names(source_name, run_id, original_architecture):
        try:
            response = clients.control.get_function(FunctionName=name)
        except botocore.exceptions.ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                continue  # never created, or deleted already
            raise translate(exc, function=name, action="looking for the sweep's copies") from exc
        except botocore.exceptions.BotoCoreError as exc:
            raise translate(exc, function=name, action="looking for the sweep's copies") from exc
        tags = response.get("Tags") or {}
        if tags.get(SWEEP_TAG) == run_id:
            found.append(SweepCopy(name=name, arn=response["Configuration"].get("FunctionArn", ""), run_id=run_id,
                                   source=tags.get(SOURCE_TAG, "")))
    return found


def sweep_copies(clients: Clients, run_id: str | None = None) -> list[SweepCopy]:
    """Functions tagged lambdabench:sweep (of `run_id` only, when given) in the clients' account and region,
    found with the Resource Groups Tagging API (tag:GetResources, the call `lambdabench iam-policy` grants
    for `lambdabench cleanup`)."""
    found: list[SweepCopy] = []
    tag_filter: dict[str, Any] = {"Key": SWEEP_TAG, **({"Values": [run_id]} if run_id else {})}
    token = ""
    while True:
        page = call(clients.tagging.get_resources, action="listing the functions tagged " + SWEEP_TAG,
                    ResourceTypeFilters=["lambda:function"], TagFilters=[tag_filter],
                    **({"PaginationToken": token} if token else {}))
        for mapping in page.get("ResourceTagMappingList") or []:
            arn = mapping.get("ResourceARN", "")
            tags = {t["Key"]: t.get("Value", "") for t in mapping.get("Tags") or []}
            name = arn.split(":")[6] if arn.count(":") >= 6 else arn
            if tags.get(SWEEP_TAG):
                found.append(SweepCopy(name=name, arn=arn, run_id=tags[SWEEP_TAG], source=tags.get(SOURCE_TAG, "")))
        token = page.get("PaginationToken") or ""
        if not token:
            return sorted(found, key=lambda c: c.name)


def unreserved_concurrency(clients: Clients) -> int | None:
    """The account's UnreservedConcurrentExecutions in this region (None when it cannot be read)."""
    try:
        settings = clients.control.get_account_settings()
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError):
        return None
    value = (settings.get("AccountLimit") or {}).get("UnreservedConcurrentExecutions")
    return int(value) if value is not None else None


# -- live traffic (in-place) ------------------------------------------------------------------------

def live_traffic(clients: Clients, function: str) -> list[str]:
    """What else invokes the function's $LATEST: one line per event source mapping, alias, URL, principal."""
    evidence: list[str] = []
    mappings = _pages(clients.control.list_event_source_mappings, "EventSourceMappings", "NextMarker",
                      FunctionName=function)
    for m in mappings:
        evidence.append(f"event source mapping {m.get('UUID')} from {m.get('EventSourceArn')} "
                        f"({m.get('State', 'state unknown')})")
    for alias in _pages(clients.control.list_aliases, "Aliases", "NextMarker", FunctionName=function):
        weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        if alias.get("FunctionVersion") == "$LATEST" or "$LATEST" in weights:
            evidence.append(f"alias {alias['Name']} points at $LATEST")
        elif weights:
            evidence.append(f"alias {alias['Name']} routes traffic by weight ({json.dumps(weights)})")
    try:
        urls = clients.control.list_function_url_configs(FunctionName=function).get("FunctionUrlConfigs") or []
    except botocore.exceptions.ClientError as exc:
        # A bare 404 without a Lambda error code: the endpoint lacks the operation (moto), so it has no URLs.
        if error_code(exc) != "404":
            raise translate(exc, function=function, action="listing function URLs") from exc
        urls = []
    for url in urls:
        evidence.append(f"function URL {url.get('FunctionUrl')} (auth {url.get('AuthType')})")
    try:
        policy = json.loads(clients.control.get_policy(FunctionName=function).get("Policy") or "{}")
    except botocore.exceptions.ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":  # no policy at all
            raise translate(exc, function=function, action="reading the resource policy") from exc
        policy = {}
    for statement in policy.get("Statement") or []:
        if statement.get("Effect", "Allow") != "Allow":
            continue
        principal = statement.get("Principal")
        if isinstance(principal, dict):
            who = principal.get("Service") or principal.get("AWS") or json.dumps(principal)
        else:
            who = principal
        evidence.append(f"resource policy lets {who} invoke it (statement {statement.get('Sid', '?')})")
    return evidence


def _pages(operation: Callable[..., dict], key: str, marker_key: str, **kwargs: Any) -> list[dict]:
    items: list[dict] = []
    marker = None
    while True:
        page = call(operation, function=kwargs.get("FunctionName"), action="looking for live traffic",
                    **kwargs, **({"Marker": marker} if marker else {}))
        items.extend(page.get(key) or [])
        marker = page.get(marker_key)
        if not marker:
            return items


__all__ = ["COPY", "COPY_LIMITS", "CopySet", "IN_PLACE", "IN_PLACE_LIMITS", "SOURCE_TAG", "SWEEP_TAG",
           "SweepCopy", "copy_name", "copy_request", "delete_function_and_logs", "environment_bytes",
           "live_traffic", "new_run_id", "preflight", "recorded_copies", "run_copy_names", "state_notes",
           "sweep_copies", "unreserved_concurrency", "wake"]
