"""The emulator's Lambda state for one region: functions, versions, aliases, concurrency, revisions.

No HTTP here: `lambda_api.py` parses requests into plain values, calls one method, and serialises the
dict it returns (already in the botocore response shape). Errors are `errors.LambdaApiError`s.

Behaviour kept from Lambda (so waiters and sweeps see what they see on AWS):
- Create answers `State: Pending`; an update answers `LastUpdateStatus: InProgress`. Reads after
  `settle_s` (default 0: the next read) show Active / Successful, so `function_active_v2` and
  `function_updated_v2` pass on their first poll. Another update while InProgress →
  ResourceConflictException 409.
- Every change of $LATEST gets a new RevisionId; a request carrying a stale RevisionId →
  PreconditionFailedException 412. Changes retire $LATEST's sandboxes (the next invoke is cold);
  published versions keep theirs.
- PublishVersion snapshots $LATEST; publishing an unchanged $LATEST returns the last version.
- Concurrency: `account_limit` concurrent invocations in the region; reserved concurrency takes its share
  out of the pool. The unreserved minimum is Lambda's 100 of 1,000 scaled to this account limit (10%,
  at least 1), because an emulator whose account limit is sized to the host (e.g. 8) could otherwise
  never reserve anything. Beyond a limit: 429 TooManyRequestsException with Lambda's `Reason`.
- Model-constraint violations answer ValidationException with Smithy's wording; semantic ones
  (runtime, environment, zip content) InvalidParameterValueException with Lambda's wording.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import io
import json
import os
import random
import re
import shutil
import stat
import threading
import time
import uuid
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from lambdabench import limits
from lambdabench.emulator import errors as E
from lambdabench.emulator.launchers import SUPPORTED_RUNTIMES  # the runtimes the emulator can run
from lambdabench.emulator.sandbox import InvocationOutcome, SandboxSpec
from lambdabench.emulator.sandbox_pool import SandboxPool
from lambdabench.emulator.stores import Stores

ACCOUNT_ID = "123456789012"
ZIP_MAX_BYTES = limits.CODE_ZIP_MAX_BYTES
UNZIPPED_MAX_BYTES = limits.CODE_UNZIPPED_MAX_BYTES
ENVIRONMENT_MAX_BYTES = limits.ENVIRONMENT_MAX_BYTES
# A response may be 100 bytes over the 6 MiB request limit: Lambda's own error message names
# "maximum allowed payload size (6291556 bytes)".
RESPONSE_MAX_BYTES = limits.PAYLOAD_SYNC_MAX_BYTES + 100
_NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_ALIAS_RE = re.compile(r"^(?!^[0-9]+$)[a-zA-Z0-9_-]{1,128}$")
_FUNCTION_NAME_PATTERN = (r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?"
                          r"(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?")
LATEST = "$LATEST"


def default_account_concurrency(cores: int | None = None) -> int:
    """max(4, 4 × cores). Every invocation is a real process on this host: far beyond a few runnable
    sandboxes per core, Durations measure the host's run queue, not the function. Four per core still
    lets burst scenarios open many mostly-waiting sandboxes."""
    return max(4, 4 * (cores or os.cpu_count() or 1))


def unreserved_minimum(account_limit: int) -> int:
    """Lambda keeps 100 of a 1,000 account limit unreserved; the same 10% of this emulator's limit
    (at least 1, at most Lambda's 100)."""
    scaled = account_limit * limits.UNRESERVED_CONCURRENCY_MIN // limits.ACCOUNT_CONCURRENCY_DEFAULT
    return max(1, min(limits.UNRESERVED_CONCURRENCY_MIN, scaled))


def _timestamp() -> str:
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+0000"


@dataclass(frozen=True)
class CodeArtifact:
    sha256: str           # base64, as Lambda's CodeSha256
    size: int             # zip bytes
    path: str             # unpacked folder


@dataclass(frozen=True)
class VersionConfig:
    """One immutable configuration of a function ($LATEST at some revision, or a published version)."""

    name: str
    version: str
    runtime: str
    role: str
    handler: str
    code: CodeArtifact
    description: str = ""
    timeout_s: int = limits.TIMEOUT_DEFAULT_S
    memory_mb: int = 128
    environment: dict[str, str] = field(default_factory=dict)
    ephemeral_storage_mb: int = limits.EPHEMERAL_STORAGE_DEFAULT_MB
    architecture: str = limits.DEFAULT_ARCHITECTURE
    log_format: str = "Text"
    application_log_level: str | None = None
    system_log_level: str | None = None
    log_group: str = ""
    tracing_mode: str = "PassThrough"
    revision_id: str = ""
    last_modified: str = ""

    def publish_signature(self) -> tuple:
        """What makes two $LATEST snapshots the same version for PublishVersion."""
        return dataclasses.astuple(dataclasses.replace(self, version="", revision_id="", last_modified=""))


@dataclass(frozen=True)
class Alias:
    name: str
    function_version: str
    description: str = ""
    weights: tuple[tuple[str, float], ...] = ()
    revision_id: str = ""


class Function:
    def __init__(self, latest: VersionConfig, settle_s: float):
        self.latest = latest
        self.versions: dict[int, VersionConfig] = {}
        self.aliases: dict[str, Alias] = {}
        self.reserved: int | None = None
        self.next_version = 1
        self.pending_until = time.monotonic() + settle_s
        self.update_until = 0.0
        self.last_update_kind = "Creating"
        self.specs: dict[tuple, SandboxSpec] = {}


@dataclass(frozen=True)
class InvokeResult:
    status_code: int
    payload: bytes
    executed_version: str
    function_error: str | None = None
    log_result: str | None = None
    outcome: InvocationOutcome | None = None


class CodeStore:
    """Unpacks each distinct zip once into its own folder under the emulator's temp dir, and keeps the
    zip itself beside it (GetFunction's Code.Location serves it)."""

    def __init__(self, root: Path):
        self._root = root
        self._root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._artifacts: dict[str, CodeArtifact] = {}

    def add(self, zip_bytes: bytes) -> CodeArtifact:
        if len(zip_bytes) > ZIP_MAX_BYTES:
            raise E.RequestTooLarge(f"Request must be smaller than {ZIP_MAX_BYTES} bytes for the "
                                    "CreateFunction operation")
        digest = hashlib.sha256(zip_bytes).digest()
        sha_b64 = base64.b64encode(digest).decode()
        with self._lock:
            known = self._artifacts.get(sha_b64)
            if known is not None:
                return known
            target = self._root / digest.hex()
            staging = self._root / f".{digest.hex()}.{uuid.uuid4().hex[:8]}"
            try:
                _safe_unzip(zip_bytes, staging)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            staging.rename(target)
            (self._root / f"{digest.hex()}.zip").write_bytes(zip_bytes)
            artifact = CodeArtifact(sha256=sha_b64, size=len(zip_bytes), path=str(target))
            self._artifacts[sha_b64] = artifact
            return artifact

    def zip_path(self, sha256_hex: str) -> Path | None:
        """The stored zip whose SHA-256 is `sha256_hex` (hex), or None."""
        if not re.fullmatch(r"[0-9a-f]{64}", sha256_hex):
            return None
        path = self._root / f"{sha256_hex}.zip"
        return path if path.is_file() else None


def _safe_unzip(zip_bytes: bytes, target: Path) -> None:
    """Extract refusing entries that would land outside `target`: absolute paths, `..`, and symlinks
    pointing out of it."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(zip_bytes))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise E.InvalidParameterValue("Could not unzip uploaded file. Please check your file, then try to "
                                      "upload again.") from None
    total = sum(info.file_size for info in infos)
    if total > UNZIPPED_MAX_BYTES:
        raise E.InvalidParameterValue(f"Unzipped size must be smaller than {UNZIPPED_MAX_BYTES} bytes")
    target.mkdir(parents=True)
    root = Path(os.path.realpath(target))

    def inside(path: str) -> bool:
        full = os.path.normpath(os.path.join(str(root), path))
        return full == str(root) or full.startswith(str(root) + os.sep)

    def refuse(name: str):
        return E.InvalidParameterValue(
            f"Could not unzip uploaded file: the entry '{name}' points outside the deployment package. "
            "Use relative paths inside the archive.")

    try:
        _extract(archive, infos, root, inside, refuse)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        # A lying local header (size, CRC), a corrupt deflate stream, an unsupported compression method
        # or an encrypted entry: the package is bad, not the emulator.
        raise E.InvalidParameterValue("Could not unzip uploaded file. Please check your file, then try to "
                                      f"upload again. ({exc})") from None


def _extract(archive: zipfile.ZipFile, infos: list, root: Path, inside: Callable[[str], bool],
             refuse: Callable[[str], Exception]) -> None:
    for info in infos:
        name = info.filename
        if name.startswith("/") or name.startswith("\\") or re.match(r"^[A-Za-z]:", name) \
                or ".." in re.split(r"[\\/]", name) or not inside(name):
            raise refuse(name)
        mode = info.external_attr >> 16
        dest = root / name
        # Judge by where the parent really is on disk: an earlier symlinked folder must not carry a
        # later entry (or a relative link target) outside.
        dest.parent.mkdir(parents=True, exist_ok=True)
        real_parent = os.path.realpath(dest.parent)
        if not (real_parent == str(root) or real_parent.startswith(str(root) + os.sep)):
            raise refuse(name)
        if stat.S_ISLNK(mode):
            link_target = archive.read(info).decode("utf-8", "replace")
            resolved = os.path.normpath(os.path.join(real_parent, link_target))
            if os.path.isabs(link_target) or not (resolved == str(root) or resolved.startswith(str(root) + os.sep)):
                raise refuse(name)
            os.symlink(link_target, dest)
            continue
        if info.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
            continue
        if dest.is_symlink():  # a file written through an earlier link could escape
            raise refuse(name)
        with archive.open(info) as src, open(dest, "wb") as out:
            shutil.copyfileobj(src, out)
        perms = mode & 0o777
        os.chmod(dest, (perms | 0o444) if perms else 0o644)


class Backend:
    """All Lambda state of one region. Thread-safe; invokes run outside the lock."""

    def __init__(self, *, region: str, pool: SandboxPool, code_store: CodeStore, account_limit: int,
                 settle_s: float = 0.0, stores: Stores | None = None):
        self.region = region
        self.account_id = ACCOUNT_ID
        self.stores = stores or Stores()
        self.pool = pool
        self.code_store = code_store
        self.account_limit = account_limit
        self.settle_s = settle_s
        self._lock = threading.RLock()
        self._functions: dict[str, Function] = {}
        self._in_flight: dict[str, int] = {}
        self._in_flight_total = 0
        if pool is not None:  # (None in unit tests of the name parsing)
            pool.set_key_check(region, self._key_is_current)

    # ----- names ------------------------------------------------------------------------------
    def arn(self, name: str, qualifier: str | None = None) -> str:
        base = f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{name}"
        return f"{base}:{qualifier}" if qualifier else base

    def _split_name(self, function_name: str, qualifier: str | None) -> tuple[str, str | None]:
        """FunctionName may be a name, a partial ARN or a full ARN, each optionally qualified."""
        if not re.fullmatch(_FUNCTION_NAME_PATTERN, function_name or ""):
            raise E.validation_error("functionName", function_name,
                                     f"Member must satisfy regular expression pattern: {_FUNCTION_NAME_PATTERN}")
        parts = function_name.split(":")
        if function_name.startswith("arn:"):
            name, derived = parts[6], (parts[7] if len(parts) > 7 else None)
        elif len(parts) >= 3 and parts[1] == "function":
            name, derived = parts[2], (parts[3] if len(parts) > 3 else None)
        elif len(parts) == 2:
            name, derived = parts[0], parts[1]
        else:
            name, derived = function_name, None
        if derived is not None and qualifier is not None and derived != qualifier:
            raise E.InvalidParameterValue("The derived qualifier from the function name does not match the "
                                          "specified qualifier.")
        return name, derived if derived is not None else qualifier

    def locate(self, function_name: str, qualifier: str | None = None) -> tuple[str, str | None]:
        """(name, qualifier) of an existing function, version or alias: the stores' operations' lookup."""
        with self._lock:
            name, qualifier = self._split_name(function_name, qualifier)
            fn = self._function(name)
            if qualifier not in (None, LATEST) and qualifier not in fn.aliases \
                    and not (qualifier.isdigit() and int(qualifier) in fn.versions):
                raise E.function_not_found(self.arn(name, qualifier))
            return name, qualifier

    def split_name(self, function_name: str) -> tuple[str, str | None]:
        return self._split_name(function_name, None)

    def _function(self, name: str) -> Function:
        fn = self._functions.get(name)
        if fn is None:
            raise E.function_not_found(self.arn(name))
        return fn

    def _resolve(self, fn: Function, qualifier: str | None) -> tuple[VersionConfig, str | None]:
        """(configuration, alias name or None) for a qualifier: none/$LATEST, a version, an alias."""
        if qualifier in (None, LATEST):
            return fn.latest, None
        if qualifier.isdigit():
            config = fn.versions.get(int(qualifier))
            if config is None:
                raise E.function_not_found(self.arn(fn.latest.name, qualifier))
            return config, None
        alias = fn.aliases.get(qualifier)
        if alias is None:
            raise E.function_not_found(self.arn(fn.latest.name, qualifier))
        version = alias.function_version
        roll = random.random() if alias.weights else 1.0
        for extra_version, weight in alias.weights:
            if roll < weight:
                version = extra_version
                break
            roll -= weight
        config = fn.latest if version == LATEST else fn.versions[int(version)]
        return config, alias.name

    # ----- validation -------------------------------------------------------------------------
    def _validate(self, params: dict[str, Any], creating: bool) -> None:
        _check_range("MemorySize", params.get("MemorySize"), limits.MEMORY_MIN_MB, limits.MEMORY_MAX_MB)
        _check_range("Timeout", params.get("Timeout"), limits.TIMEOUT_MIN_S, limits.TIMEOUT_MAX_S)
        handler = params.get("Handler")
        if handler is not None and (not re.fullmatch(r"[^\s]+", handler) or len(handler) > 128):
            raise E.validation_error("handler", handler,
                                     "Member must satisfy regular expression pattern: [^\\s]+" if len(handler) <= 128
                                     else "Member must have length less than or equal to 128")
        storage = (params.get("EphemeralStorage") or {}).get("Size")
        if storage is not None and not limits.is_valid_ephemeral_storage_mb(storage):
            bound = ("less than or equal to " + str(limits.EPHEMERAL_STORAGE_MAX_MB)
                     if storage > limits.EPHEMERAL_STORAGE_MAX_MB
                     else "greater than or equal to " + str(limits.EPHEMERAL_STORAGE_MIN_MB))
            raise E.validation_error("ephemeralStorage.size", storage, f"Member must have value {bound}")
        runtime = params.get("Runtime")
        if runtime is not None and runtime not in SUPPORTED_RUNTIMES:
            raise E.InvalidParameterValue(
                f"The runtime parameter of {runtime} is not supported by the lambdabench emulator, which "
                f"runs these runtimes only: {', '.join(SUPPORTED_RUNTIMES)}.")
        problem = self.pool.runtime_problem(runtime) if runtime is not None else None
        if problem is not None:
            raise E.InvalidParameterValue(f"The runtime parameter of {runtime} cannot run here. {problem}")
        if creating and runtime is None:
            raise E.InvalidParameterValue("Runtime and Handler are mandatory parameters for functions created "
                                          "with deployment packages.")
        if params.get("Layers"):
            raise E.InvalidParameterValue("Layers are not supported by the lambdabench emulator: package the "
                                          "layer's contents into the function's zip instead.")
        architectures = params.get("Architectures")
        if architectures is not None:
            if len(architectures) != 1:
                raise E.validation_error("architectures", architectures,
                                         "Member must have length less than or equal to 1")
            if architectures[0] not in limits.ARCHITECTURES:
                raise E.validation_error("architectures", architectures,
                                         "Member must satisfy constraint: [Member must satisfy enum value set: "
                                         "[x86_64, arm64]]")
        logging_config = params.get("LoggingConfig") or {}
        log_format = logging_config.get("LogFormat")
        if log_format is not None and log_format not in ("Text", "JSON"):
            raise E.validation_error("loggingConfig.logFormat", log_format,
                                     "Member must satisfy enum value set: [JSON, Text]")
        if log_format != "JSON" and (logging_config.get("ApplicationLogLevel") or logging_config.get("SystemLogLevel")):
            if log_format == "Text" or (log_format is None and creating):
                raise E.InvalidParameterValue("Application log level and system log level can only be set when "
                                              "LogFormat is JSON.")
        variables = (params.get("Environment") or {}).get("Variables")
        if variables is not None:
            bad_keys = [k for k in variables if not limits.is_valid_environment_variable_name(k)]
            if bad_keys:
                raise E.validation_error("environment.variables", "[" + ", ".join(bad_keys) + "]",
                                         "Map keys must satisfy constraint: [Member must satisfy regular "
                                         f"expression pattern: {limits.environment_variable_name_pattern()}]")
            reserved = sorted(k for k in variables if k in limits.RESERVED_ENVIRONMENT_KEYS)
            if reserved:
                raise E.InvalidParameterValue(
                    "Lambda was unable to configure your environment variables because the environment variables "
                    "you have provided contains reserved keys that are currently not supported for modification. "
                    f"Reserved keys used in this request: {','.join(reserved)}")
            # Lambda measures the map as compact JSON and quotes that string in its refusal.
            measured = json.dumps({k: str(v) for k, v in variables.items()}, separators=(",", ":"))
            if len(measured.encode("utf-8")) > ENVIRONMENT_MAX_BYTES:
                raise E.InvalidParameterValue(
                    "Lambda was unable to configure your environment variables because the environment variables "
                    f"you have provided exceeded the 4KB limit. String measured: {measured}")

    def _apply(self, config: VersionConfig, params: dict[str, Any]) -> VersionConfig:
        changes: dict[str, Any] = {}
        simple = {"Runtime": "runtime", "Role": "role", "Handler": "handler", "Description": "description",
                  "Timeout": "timeout_s", "MemorySize": "memory_mb"}
        for key, attr in simple.items():
            if params.get(key) is not None:
                changes[attr] = params[key]
        if params.get("Environment") is not None:
            changes["environment"] = {k: str(v) for k, v in (params["Environment"].get("Variables") or {}).items()}
        if (params.get("EphemeralStorage") or {}).get("Size") is not None:
            changes["ephemeral_storage_mb"] = params["EphemeralStorage"]["Size"]
        if params.get("Architectures"):
            changes["architecture"] = params["Architectures"][0]
        if (params.get("TracingConfig") or {}).get("Mode"):
            changes["tracing_mode"] = params["TracingConfig"]["Mode"]
        logging_config = params.get("LoggingConfig")
        if logging_config:
            log_format = logging_config.get("LogFormat", config.log_format)
            changes["log_format"] = log_format
            if log_format == "JSON":
                changes["application_log_level"] = logging_config.get("ApplicationLogLevel",
                                                                      config.application_log_level or "INFO")
                changes["system_log_level"] = logging_config.get("SystemLogLevel", config.system_log_level or "INFO")
            else:
                changes["application_log_level"] = changes["system_log_level"] = None
            if logging_config.get("LogGroup"):
                changes["log_group"] = logging_config["LogGroup"]
        changes["revision_id"] = str(uuid.uuid4())
        changes["last_modified"] = _timestamp()
        return dataclasses.replace(config, **changes)

    # ----- serialisation ----------------------------------------------------------------------
    def _state(self, fn: Function) -> tuple[str, str]:
        now = time.monotonic()
        state = "Pending" if now < fn.pending_until else "Active"
        if self.stores.is_inactive(fn.latest.name):
            state = "Inactive"
        update = "InProgress" if now < fn.update_until else "Successful"
        return state, update

    def configuration(self, fn: Function, config: VersionConfig, qualified: bool = False) -> dict[str, Any]:
        state, update = self._state(fn) if config is fn.latest else ("Active", "Successful")
        doc: dict[str, Any] = {
            "FunctionName": config.name,
            "FunctionArn": self.arn(config.name, config.version if (qualified or config.version != LATEST) else None),
            "Runtime": config.runtime,
            "Role": config.role,
            "Handler": config.handler,
            "CodeSize": config.code.size,
            "Description": config.description,
            "Timeout": config.timeout_s,
            "MemorySize": config.memory_mb,
            "LastModified": config.last_modified,
            "CodeSha256": config.code.sha256,
            "Version": config.version,
            "TracingConfig": {"Mode": config.tracing_mode},
            "RevisionId": config.revision_id,
            "State": state,
            "LastUpdateStatus": update,
            "PackageType": "Zip",
            "Architectures": [config.architecture],
            "EphemeralStorage": {"Size": config.ephemeral_storage_mb},
            "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
            "LoggingConfig": {"LogFormat": config.log_format, "LogGroup": config.log_group},
        }
        if config.environment:
            doc["Environment"] = {"Variables": dict(config.environment)}
        if config.log_format == "JSON":
            doc["LoggingConfig"]["ApplicationLogLevel"] = config.application_log_level or "INFO"
            doc["LoggingConfig"]["SystemLogLevel"] = config.system_log_level or "INFO"
        if state == "Pending":
            doc.update(self.stores.pending_reason(config.name))
        elif state == "Inactive":
            doc.update(StateReason="The function is inactive.", StateReasonCode="Idle")
        self.stores.decorate(config.name, doc)
        if update == "InProgress":
            doc.update(LastUpdateStatusReason="The function is being created.", LastUpdateStatusReasonCode="Creating") \
                if fn.last_update_kind == "Creating" else \
                doc.update(LastUpdateStatusReason="The function is being updated.",
                           LastUpdateStatusReasonCode="Updating")
        return doc

    def _alias_doc(self, fn: Function, alias: Alias) -> dict[str, Any]:
        doc: dict[str, Any] = {"AliasArn": self.arn(fn.latest.name, alias.name), "Name": alias.name,
                               "FunctionVersion": alias.function_version, "Description": alias.description,
                               "RevisionId": alias.revision_id}
        if alias.weights:
            doc["RoutingConfig"] = {"AdditionalVersionWeights": dict(alias.weights)}
        return doc

    # ----- control plane ----------------------------------------------------------------------
    def create_function(self, params: dict[str, Any]) -> dict[str, Any]:
        name, qualifier = self._split_name(params.get("FunctionName", ""), None)
        if qualifier is not None:
            raise E.InvalidParameterValue("Unsupported function name: a qualifier is not allowed in "
                                          "CreateFunction.")
        self._validate(params, creating=True)
        self.stores.validate_create(params)
        code = params.get("Code") or {}
        if code.get("ZipFile") is None:
            raise E.InvalidParameterValue(
                "The lambdabench emulator accepts deployment packages as Code.ZipFile bytes only "
                "(S3 locations and container images are not available locally).")
        if params.get("PackageType", "Zip") != "Zip":
            raise E.InvalidParameterValue("The lambdabench emulator runs Zip package functions only.")
        artifact = self.code_store.add(code["ZipFile"])
        with self._lock:
            if name in self._functions:
                raise E.ResourceConflict(f"Function already exist: {name}")
            base = VersionConfig(name=name, version=LATEST, runtime=params["Runtime"], role=params.get("Role", ""),
                                 handler=params.get("Handler") or "", code=artifact,
                                 log_group=f"/aws/lambda/{name}")
            latest = self._apply(base, params)
            fn = Function(latest, max(self.settle_s, self.stores.lifecycle.pending_s))
            self._functions[name] = fn
            self.stores.on_create(name, params)
            response = self.configuration(fn, latest)
            response.update(State="Pending", StateReason="The function is being created.",
                            StateReasonCode="Creating")
            response.pop("LastUpdateStatus", None)
            if params.get("Publish"):
                version = self._publish(fn, "")
                response = self.configuration(fn, version)
                response.update(State="Pending", StateReason="The function is being created.",
                                StateReasonCode="Creating")
            return response

    def get_function(self, function_name: str, qualifier: str | None) -> dict[str, Any]:
        with self._lock:
            name, qualifier = self._split_name(function_name, qualifier)
            fn = self._function(name)
            config, _ = self._resolve(fn, qualifier)
            doc: dict[str, Any] = {
                "Configuration": self.configuration(fn, config),
                "Code": {"RepositoryType": "S3",
                         "Location": self.stores.code_location(config.code.sha256, f"file://{config.code.path}")},
            }
            if config is fn.latest:  # the key is kept for $LATEST's code only
                doc["Code"].update(self.stores.code_fields(name))
            tags = self.stores.tags.get(name)
            if tags:
                doc["Tags"] = tags
            if fn.reserved is not None:
                doc["Concurrency"] = {"ReservedConcurrentExecutions": fn.reserved}
            return doc

    def get_function_configuration(self, function_name: str, qualifier: str | None) -> dict[str, Any]:
        with self._lock:
            name, qualifier = self._split_name(function_name, qualifier)
            fn = self._function(name)
            config, _ = self._resolve(fn, qualifier)
            return self.configuration(fn, config)

    def _check_updatable(self, fn: Function, revision_id: str | None) -> None:
        if time.monotonic() < fn.update_until or time.monotonic() < fn.pending_until:
            raise E.ResourceConflict("The operation cannot be performed at this time. An update is in progress "
                                     f"for resource: {self.arn(fn.latest.name)}")
        if revision_id is not None and revision_id != fn.latest.revision_id:
            raise E.PreconditionFailed("The Revision Id provided does not match the latest Revision Id. Call the "
                                       "GetFunction/GetAlias API to retrieve the latest Revision Id")

    def _changed(self, fn: Function, latest: VersionConfig) -> None:
        fn.latest = latest
        fn.update_until = time.monotonic() + self.settle_s
        fn.last_update_kind = "Updating"
        keep = frozenset(self._spec(fn, c).key for c in fn.versions.values())
        fn.specs = {key: spec for key, spec in fn.specs.items() if key in keep}
        self.pool.retire(fn.latest.name, keep)

    def update_function_configuration(self, function_name: str, params: dict[str, Any]) -> dict[str, Any]:
        self._validate(params, creating=False)
        with self._lock:
            name, qualifier = self._split_name(function_name, None)
            fn = self._function(name)
            self._check_updatable(fn, params.get("RevisionId"))
            self._changed(fn, self._apply(fn.latest, params))
            self.stores.on_update(name, params)
            response = self.configuration(fn, fn.latest)
            response.update(LastUpdateStatus="InProgress", LastUpdateStatusReason="The function is being updated.",
                            LastUpdateStatusReasonCode="Updating")
            return response

    def update_function_code(self, function_name: str, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("ZipFile") is None:
            raise E.InvalidParameterValue(
                "The lambdabench emulator accepts deployment packages as ZipFile bytes only "
                "(S3 locations and container images are not available locally).")
        self._validate({"Architectures": params.get("Architectures")}, creating=False)
        self.stores.validate_code_update(params)
        artifact = self.code_store.add(params["ZipFile"])
        with self._lock:
            name, _ = self._split_name(function_name, None)
            fn = self._function(name)
            self._check_updatable(fn, params.get("RevisionId"))
            if params.get("DryRun"):
                return self.configuration(fn, fn.latest)
            latest = self._apply(dataclasses.replace(fn.latest, code=artifact),
                                 {"Architectures": params.get("Architectures")})
            self._changed(fn, latest)
            self.stores.on_code_update(name, params)
            if params.get("Publish"):
                version = self._publish(fn, "")
                return self.configuration(fn, version)
            response = self.configuration(fn, fn.latest)
            response.update(LastUpdateStatus="InProgress", LastUpdateStatusReason="The function is being updated.",
                            LastUpdateStatusReasonCode="Updating")
            return response

    def _publish(self, fn: Function, description: str) -> VersionConfig:
        if fn.versions:
            last = fn.versions[max(fn.versions)]
            if last.publish_signature() == dataclasses.replace(fn.latest, description=last.description)\
                    .publish_signature():
                return last
        number = fn.next_version
        fn.next_version += 1
        version = dataclasses.replace(fn.latest, version=str(number), description=description or fn.latest.description,
                                      revision_id=str(uuid.uuid4()), last_modified=_timestamp())
        fn.versions[number] = version
        return version

    def publish_version(self, function_name: str, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            name, _ = self._split_name(function_name, None)
            fn = self._function(name)
            self._check_updatable(fn, params.get("RevisionId"))
            if params.get("CodeSha256") and params["CodeSha256"] != fn.latest.code.sha256:
                raise E.InvalidParameterValue(
                    "CodeSHA256 (" + params["CodeSha256"] + ") is different from current CodeSHA256 in $LATEST ("
                    + fn.latest.code.sha256 + "). Please try again with the CodeSHA256 in $LATEST.")
            return self.configuration(fn, self._publish(fn, params.get("Description") or ""))

    @staticmethod
    def _page(items: list, marker: str | None, max_items: int | None) -> tuple[list, str | None]:
        start = 0
        if marker:
            try:
                start = int(marker)
            except ValueError:
                raise E.InvalidParameterValue(f"Invalid marker: {marker}") from None
        size = max_items or 50
        page = items[start:start + size]
        nxt = str(start + size) if start + size < len(items) else None
        return page, nxt

    def list_versions(self, function_name: str, marker: str | None, max_items: int | None) -> dict[str, Any]:
        with self._lock:
            name, _ = self._split_name(function_name, None)
            fn = self._function(name)
            items = [self.configuration(fn, fn.latest, qualified=True)]
            items += [self.configuration(fn, fn.versions[n]) for n in sorted(fn.versions)]
        page, nxt = self._page(items, marker, max_items)
        doc: dict[str, Any] = {"Versions": page}
        if nxt:
            doc["NextMarker"] = nxt
        return doc

    def list_functions(self, marker: str | None, max_items: int | None, function_version: str | None) -> dict:
        with self._lock:
            items = []
            for name in sorted(self._functions):
                fn = self._functions[name]
                items.append(self.configuration(fn, fn.latest))
                if function_version == "ALL":
                    items += [self.configuration(fn, fn.versions[n]) for n in sorted(fn.versions)]
        page, nxt = self._page(items, marker, max_items)
        doc: dict[str, Any] = {"Functions": page}
        if nxt:
            doc["NextMarker"] = nxt
        return doc

    def delete_function(self, function_name: str, qualifier: str | None) -> None:
        with self._lock:
            name, qualifier = self._split_name(function_name, qualifier)
            fn = self._function(name)
            if qualifier is None:
                del self._functions[name]
                self.stores.on_delete(name)
                self.pool.retire(name)
                return
            if qualifier == LATEST:
                raise E.InvalidParameterValue("$LATEST version cannot be deleted without deleting the function.")
            if not qualifier.isdigit():
                raise E.InvalidParameterValue("Deletion of aliases is not supported with DeleteFunction; use "
                                              "DeleteAlias.")
            if int(qualifier) not in fn.versions:
                raise E.function_not_found(self.arn(name, qualifier))
            users = sorted(a.name for a in fn.aliases.values()
                           if a.function_version == qualifier or qualifier in dict(a.weights))
            if users:
                raise E.ResourceConflict("Unable to delete version because the following aliases reference it: "
                                         f"[{', '.join(users)}]")
            del fn.versions[int(qualifier)]
            keep = frozenset([self._spec(fn, fn.latest).key] + [self._spec(fn, c).key for c in fn.versions.values()])
            self.pool.retire(name, keep)

    # ----- aliases ----------------------------------------------------------------------------
    def _check_version(self, fn: Function, version: str) -> None:
        if version != LATEST and not (version.isdigit() and int(version) in fn.versions):
            raise E.function_not_found(self.arn(fn.latest.name, version))

    def _weights(self, fn: Function, routing: dict | None) -> tuple[tuple[str, float], ...]:
        weights = tuple(((routing or {}).get("AdditionalVersionWeights") or {}).items())
        for version, weight in weights:
            self._check_version(fn, version)
            if not 0.0 <= weight <= 1.0:
                raise E.validation_error("routingConfig.additionalVersionWeights", weight,
                                         "Member must have value between 0.0 and 1.0")
        return weights

    def create_alias(self, function_name: str, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            name, _ = self._split_name(function_name, None)
            fn = self._function(name)
            alias_name = params.get("Name", "")
            if not _ALIAS_RE.match(alias_name):
                raise E.validation_error("name", alias_name, "Member must satisfy regular expression pattern: "
                                         "(?!^[0-9]+$)([a-zA-Z0-9-_]+)")
            if alias_name in fn.aliases:
                raise E.ResourceConflict(f"Alias already exists: {self.arn(name, alias_name)}")
            self._check_version(fn, params.get("FunctionVersion", ""))
            alias = Alias(alias_name, params["FunctionVersion"], params.get("Description") or "",
                          self._weights(fn, params.get("RoutingConfig")), str(uuid.uuid4()))
            fn.aliases[alias_name] = alias
            return self._alias_doc(fn, alias)

    def _alias(self, fn: Function, alias_name: str) -> Alias:
        alias = fn.aliases.get(alias_name)
        if alias is None:
            raise E.ResourceNotFound(f"Alias not found: {self.arn(fn.latest.name, alias_name)}")
        return alias

    def get_alias(self, function_name: str, alias_name: str) -> dict[str, Any]:
        with self._lock:
            fn = self._function(self._split_name(function_name, None)[0])
            return self._alias_doc(fn, self._alias(fn, alias_name))

    def update_alias(self, function_name: str, alias_name: str, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            fn = self._function(self._split_name(function_name, None)[0])
            alias = self._alias(fn, alias_name)
            if params.get("RevisionId") and params["RevisionId"] != alias.revision_id:
                raise E.PreconditionFailed("The Revision Id provided does not match the latest Revision Id. Call "
                                           "the GetFunction/GetAlias API to retrieve the latest Revision Id")
            changes: dict[str, Any] = {"revision_id": str(uuid.uuid4())}
            if params.get("FunctionVersion"):
                self._check_version(fn, params["FunctionVersion"])
                changes["function_version"] = params["FunctionVersion"]
            if params.get("Description") is not None:
                changes["description"] = params["Description"]
            if params.get("RoutingConfig") is not None:
                changes["weights"] = self._weights(fn, params["RoutingConfig"])
            alias = dataclasses.replace(alias, **changes)
            fn.aliases[alias_name] = alias
            return self._alias_doc(fn, alias)

    def delete_alias(self, function_name: str, alias_name: str) -> None:
        with self._lock:
            fn = self._function(self._split_name(function_name, None)[0])
            fn.aliases.pop(alias_name, None)  # Lambda answers 204 for an unknown alias too

    def list_aliases(self, function_name: str, function_version: str | None, marker: str | None,
                     max_items: int | None) -> dict[str, Any]:
        with self._lock:
            fn = self._function(self._split_name(function_name, None)[0])
            items = [self._alias_doc(fn, a) for n, a in sorted(fn.aliases.items())
                     if function_version is None or a.function_version == function_version]
        page, nxt = self._page(items, marker, max_items)
        doc: dict[str, Any] = {"Aliases": page}
        if nxt:
            doc["NextMarker"] = nxt
        return doc

    # ----- concurrency ------------------------------------------------------------------------
    @property
    def unreserved_minimum(self) -> int:
        return unreserved_minimum(self.account_limit)

    def _reserved_total(self, excluding: str | None = None) -> int:
        return sum(fn.reserved or 0 for name, fn in self._functions.items() if name != excluding)

    def put_function_concurrency(self, function_name: str, reserved: int) -> dict[str, Any]:
        with self._lock:
            name, _ = self._split_name(function_name, None)
            fn = self._function(name)
            if reserved is None or reserved < 0:
                raise E.validation_error("reservedConcurrentExecutions", reserved,
                                         "Member must have value greater than or equal to 0")
            if self._reserved_total(excluding=name) + reserved > self.account_limit - self.unreserved_minimum:
                raise E.InvalidParameterValue(
                    "Specified ReservedConcurrentExecutions for function decreases account's "
                    f"UnreservedConcurrentExecution below its minimum value of [{self.unreserved_minimum}].")
            fn.reserved = reserved
            return {"ReservedConcurrentExecutions": reserved}

    def get_function_concurrency(self, function_name: str) -> dict[str, Any]:
        with self._lock:
            fn = self._function(self._split_name(function_name, None)[0])
            return {} if fn.reserved is None else {"ReservedConcurrentExecutions": fn.reserved}

    def delete_function_concurrency(self, function_name: str) -> None:
        with self._lock:
            self._function(self._split_name(function_name, None)[0]).reserved = None

    def get_account_settings(self) -> dict[str, Any]:
        with self._lock:
            code_total = sum(fn.latest.code.size + sum(v.code.size for v in fn.versions.values())
                             for fn in self._functions.values())
            return {
                "AccountLimit": {
                    "TotalCodeSize": 80_530_636_800, "CodeSizeUnzipped": UNZIPPED_MAX_BYTES,
                    "CodeSizeZipped": ZIP_MAX_BYTES, "ConcurrentExecutions": self.account_limit,
                    "UnreservedConcurrentExecutions": self.account_limit - self._reserved_total(),
                },
                "AccountUsage": {"TotalCodeSize": code_total, "FunctionCount": len(self._functions)},
            }

    def _acquire_slot(self, name: str, fn: Function) -> None:
        """Count one running invocation or raise the throttle Lambda would answer."""
        running = self._in_flight.get(name, 0)
        if fn.reserved is not None:
            if running >= fn.reserved:
                raise E.TooManyRequests("ReservedFunctionConcurrentInvocationLimitExceeded")
        else:
            unreserved_running = self._in_flight_total - sum(
                self._in_flight.get(n, 0) for n, f in self._functions.items() if f.reserved is not None)
            if unreserved_running >= self.account_limit - self._reserved_total():
                raise E.TooManyRequests("ConcurrentInvocationLimitExceeded")
        self._in_flight[name] = running + 1
        self._in_flight_total += 1

    def _release_slot(self, name: str) -> None:
        with self._lock:
            self._in_flight[name] -= 1
            if not self._in_flight[name]:
                del self._in_flight[name]
            self._in_flight_total -= 1

    # ----- invoke -----------------------------------------------------------------------------
    def _spec(self, fn: Function, config: VersionConfig) -> SandboxSpec:
        key = (config.name, config.version, config.revision_id)
        spec = fn.specs.get(key)
        if spec is None:
            spec = SandboxSpec(
                key=key, function_name=config.name, version=config.version, function_arn=self.arn(config.name),
                region=self.region, runtime=config.runtime, handler=config.handler, code_dir=config.code.path,
                memory_mb=config.memory_mb, timeout_s=config.timeout_s, environment=dict(config.environment),
                log_format=config.log_format, application_log_level=config.application_log_level,
                log_group=config.log_group, ephemeral_storage_mb=config.ephemeral_storage_mb,
                architecture=config.architecture)
            fn.specs[key] = spec
        return spec

    def _key_is_current(self, key: tuple) -> bool:
        """Whether a sandbox key (name, version, revision) is still that version's configuration."""
        name, version, revision_id = key
        with self._lock:
            fn = self._functions.get(name)
            if fn is None:
                return False
            config = fn.latest if version == LATEST else (fn.versions.get(int(version)) if version.isdigit() else None)
            return config is not None and config.revision_id == revision_id

    def prepare_invoke(self, function_name: str, qualifier: str | None) -> tuple[str, SandboxSpec, str, str]:
        """Resolve what an invoke runs: (function name, spec, executed version, invoked ARN)."""
        with self._lock:
            name, qualifier = self._split_name(function_name, qualifier)
            fn = self._function(name)
            config, alias = self._resolve(fn, qualifier)
            state = self._state(fn)[0]
            if state != "Active" and config is fn.latest:
                if state == "Inactive":  # the failed invoke starts restoring it (AWS docs "Lambda function states")
                    fn.pending_until = time.monotonic() + self.stores.wake(name)
                raise E.ResourceConflict("The operation cannot be performed at this time. The function is currently "
                                         f"in the following state: {state}")
            invoked_arn = self.arn(name, qualifier) if qualifier else self.arn(name)
            return name, self._spec(fn, config), config.version, invoked_arn

    def invoke(self, function_name: str, qualifier: str | None, payload: bytes, *, log_tail: bool = False,
               client_context: str | None = None) -> InvokeResult:
        """A synchronous invoke (RequestResponse). Throttles raise TooManyRequests; never retried here."""
        if len(payload) > limits.PAYLOAD_SYNC_MAX_BYTES:
            raise E.RequestTooLarge(f"Request must be smaller than {limits.PAYLOAD_SYNC_MAX_BYTES} bytes for the "
                                    "InvokeFunction operation")
        name, spec, version, invoked_arn = self.prepare_invoke(function_name, qualifier)
        with self._lock:
            fn = self._function(name)
            self._acquire_slot(name, fn)
        try:
            outcome = self._run(spec, payload, invoked_arn, client_context)
        finally:
            self._release_slot(name)
        payload_out = outcome.payload
        if len(payload_out) > RESPONSE_MAX_BYTES and outcome.function_error is None:
            payload_out = json.dumps({
                "errorMessage": f"Response payload size exceeded maximum allowed payload size ({RESPONSE_MAX_BYTES} "
                                "bytes).",
                "errorType": "Function.ResponseSizeTooLarge"}).encode()
            return InvokeResult(200, payload_out, version, "Unhandled",
                                _tail(outcome) if log_tail else None, outcome)
        return InvokeResult(200, payload_out, version, outcome.function_error,
                            _tail(outcome) if log_tail else None, outcome)

    def _run(self, spec: SandboxSpec, payload: bytes, invoked_arn: str, client_context: str | None,
             request_id: str | None = None):
        sandbox = self.pool.checkout(spec)
        try:
            return sandbox.invoke(request_id or str(uuid.uuid4()), payload, invoked_arn=invoked_arn,
                                  client_context=client_context)
        finally:
            self.pool.checkin(sandbox)

    def invoke_event(self, function_name: str, qualifier: str | None, payload: bytes) -> tuple[str, str]:
        """InvocationType=Event: validated now, run in the background; answers (executed version,
        request id), the id its START/REPORT lines will carry.
        Lambda queues asynchronous events and retries throttles itself, so here a throttled event
        waits for a free slot instead of being lost."""
        if len(payload) > limits.PAYLOAD_ASYNC_MAX_BYTES:
            raise E.RequestTooLarge(f"Request must be smaller than {limits.PAYLOAD_ASYNC_MAX_BYTES} bytes for the "
                                    "InvokeAsync operation")
        name, spec, version, invoked_arn = self.prepare_invoke(function_name, qualifier)
        request_id = str(uuid.uuid4())

        def run() -> None:
            delay = 0.05
            while True:
                try:
                    with self._lock:
                        fn = self._functions.get(name)
                        if fn is None:
                            return
                        self._acquire_slot(name, fn)
                    break
                except E.TooManyRequests:
                    if self.pool.closed:
                        return  # shutting down: the queued event goes with the emulator
                    time.sleep(delay)  # the async queue's retry back-off
                    delay = min(delay * 2, 1.0)
            try:
                self._run(spec, payload, invoked_arn, None, request_id)
            except Exception:
                pass  # the emulator is shutting down; an async event has nobody to answer
            finally:
                self._release_slot(name)

        threading.Thread(target=run, name="lambda-event", daemon=True).start()
        return version, request_id


def _tail(outcome: InvocationOutcome) -> str:
    from lambdabench.emulator.sandbox_log import log_tail
    return log_tail(outcome.log_text)


def _check_range(member: str, value: int | None, low: int, high: int) -> None:
    """A numeric member against Lambda's limits, worded as Lambda words each case. Outside the API
    model's bounds the front end's model validation answers ("1 validation error detected: Value
    '40000' at 'memorySize' ..."); inside them but beyond the function limit, the service's own check
    does ("'MemorySize' value failed to satisfy constraint: Member must have value less than or equal
    to 10240": the wording and ValidationException code real accounts get at their memory cap)."""
    if value is None:
        return
    field = member[0].lower() + member[1:]
    if value < low:
        raise E.validation_error(field, value, f"Member must have value greater than or equal to {low}")
    if value > high:
        model_high = _model_maximum(member)
        if model_high is not None and value > model_high:
            raise E.validation_error(field, value, f"Member must have value less than or equal to {model_high}")
        raise E.ValidationError(f"'{member}' value failed to satisfy constraint: "
                                f"Member must have value less than or equal to {high}")


@functools.lru_cache(maxsize=None)
def _model_maximum(shape: str) -> int | None:
    """The `max` botocore's Lambda model gives an integer shape (MemorySize, Timeout), or None."""
    try:
        import botocore.session

        return botocore.session.get_session().get_service_model("lambda").shape_for(shape).metadata.get("max")
    except Exception:  # botocore missing or its model unreadable: the function limit is all we know
        return None