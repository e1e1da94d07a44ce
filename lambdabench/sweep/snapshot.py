"""Snapshot, restore and compare the configuration a sweep may touch.

The sweep changes exactly five things of a function: memory, timeout, environment (the cold-start
nonce), ephemeral storage and architecture (the last only when the scenario lists architectures;
architecture lives in the code configuration, so it is changed and restored with UpdateFunctionCode
and the function's own code). Everything else is never sent, so it cannot change.

`original_config.json` in the output folder holds the snapshot plus where the function lives (target
kind, region, profile, endpoint) so `lambdabench restore DIR` can put it back after a kill -9. It is
written (atomically, mode 0600) before the first change. In copy mode (sweep/isolation.py) it names
the run id of the copies and the environment's variable names only: nothing is to be put back, and
no value is written to disk. In place, every update carries the RevisionId last seen; another
writer's change raises ForeignChange, and `undo_own_changes` puts back only what the sweep wrote.

The two mutation primitives (`update_configuration`, `update_architecture`) live here because both the
driver (per grid point) and restore use them; nothing else in lambdabench changes a function.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import botocore.exceptions

from lambdabench import limits
from lambdabench.errors import LambdabenchError, RunError, UsageError
from lambdabench.sweep.clients import Clients, TargetInfo, call, error_code, translate

SNAPSHOT_FILE = "original_config.json"
CODE_FILE = "original_code.zip"
SNAPSHOT_FORMAT_VERSION = 1
# The environment variable that forces a cold start; removed again by restore.
NONCE_VARIABLE = "LAMBDABENCH_NONCE"
# ResourceConflictException: an update is still in progress. Wait and retry the control-plane call,
# a bounded number of times (AWS updates take seconds; 60 attempts with backoff cover minutes).
CONFLICT_ATTEMPTS = 60


@dataclass(frozen=True)
class FunctionConfig:
    """The part of a function's configuration the sweep may change."""

    memory_mb: int
    timeout_s: int
    architecture: str
    environment: tuple[tuple[str, str], ...]  # sorted (name, value) pairs
    ephemeral_storage_mb: int

    @property
    def env(self) -> dict[str, str]:
        return dict(self.environment)

    @classmethod
    def from_api(cls, configuration: dict[str, Any]) -> "FunctionConfig":
        variables = (configuration.get("Environment") or {}).get("Variables") or {}
        return cls(
            memory_mb=int(configuration.get("MemorySize", 128)),
            timeout_s=int(configuration.get("Timeout", 3)),
            architecture=(configuration.get("Architectures") or [limits.DEFAULT_ARCHITECTURE])[0],
            environment=tuple(sorted(variables.items())),
            ephemeral_storage_mb=int((configuration.get("EphemeralStorage") or {}).get("Size", limits.EPHEMERAL_STORAGE_DEFAULT_MB)),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "memory_mb": self.memory_mb,
            "timeout_s": self.timeout_s,
            "architecture": self.architecture,
            "environment": self.env,
            "ephemeral_storage_mb": self.ephemeral_storage_mb,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "FunctionConfig":
        return cls(
            memory_mb=int(data["memory_mb"]),
            timeout_s=int(data["timeout_s"]),
            architecture=str(data["architecture"]),
            environment=tuple(sorted((str(k), str(v)) for k, v in (data.get("environment") or {}).items())),
            ephemeral_storage_mb=int(data["ephemeral_storage_mb"]),
        )


def environment_error(configuration: dict[str, Any]) -> str | None:
    """ "<ErrorCode> <Message>" when Lambda could not return the environment variables, else None.

    Lambda answers `Environment: {"Error": {...}}` without `Variables` when the caller may not decrypt
    the function's KMS key; reading that as "no variables" would make the sweep replace the user's
    variables with the nonce alone (and restore would put back nothing).
    """
    error = (configuration.get("Environment") or {}).get("Error")
    if not error:
        return None
    return " ".join(part for part in (error.get("ErrorCode"), error.get("Message")) if part) or "unknown error"


def differences(expected: FunctionConfig, actual: FunctionConfig) -> list[str]:
    """Human-readable lines, one per field that differs (empty: identical).

    Environment variables are named, never quoted: their values may be secrets, and these lines go to
    stderr and results.jsonl."""
    lines = []
    for name in ("memory_mb", "timeout_s", "architecture", "ephemeral_storage_mb"):
        want, got = getattr(expected, name), getattr(actual, name)
        if want != got:
            lines.append(f"{name}: expected {want}, found {got}")
    want_env, got_env = expected.env, actual.env
    for key in sorted(set(want_env) | set(got_env)):
        if key not in got_env:
            lines.append(f"environment: {key} missing")
        elif key not in want_env:
            lines.append(f"environment: {key} should not be set")
        elif want_env[key] != got_env[key]:
            lines.append(f"environment: {key} has another value than the original")
    return lines


@dataclass(frozen=True)
class Snapshot:
    """The function as the sweep found it, and where it lives."""

    target: TargetInfo
    function_name: str  # as the user gave it (name or ARN); used for every call
    function_arn: str
    config: FunctionConfig
    package_type: str = "Zip"
    image_uri: str | None = None
    code_sha256: str | None = None
    code_file: str | None = None  # saved code zip (in the output folder) for an architecture restore
    versions: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    taken_at: str = ""
    # copy: the sweep ran on copies tagged lambdabench:sweep=<run_id>, and the environment's values are
    # not on disk (restore has nothing to put back); in-place: the function itself (values kept: restore
    # needs them). Snapshots written before isolation existed are in-place.
    isolation: str = "in-place"
    run_id: str = ""
    revision_id: str | None = None  # the original's RevisionId when read
    image_tag_uri: str | None = None  # Code.ImageUri (the tag the user deployed), next to the digest
    source_kms_key_arn: str | None = None  # the key the code is encrypted with (Code.SourceKMSKeyArn)

    def to_dict(self) -> dict[str, Any]:
        config = self.config.to_dict()
        if self.isolation != "in-place":
            config["environment"] = {}
            config["environment_names"] = sorted(self.config.env)
        return {
            "format_version": SNAPSHOT_FORMAT_VERSION,
            "target": self.target.to_dict(),
            "function_name": self.function_name,
            "function_arn": self.function_arn,
            "isolation": self.isolation,
            "run_id": self.run_id,
            "revision_id": self.revision_id,
            "image_tag_uri": self.image_tag_uri,
            "source_kms_key_arn": self.source_kms_key_arn,
            "config": config,
            "package_type": self.package_type,
            "image_uri": self.image_uri,
            "code_sha256": self.code_sha256,
            "code_file": self.code_file,
            "versions": list(self.versions),
            "aliases": list(self.aliases),
            "taken_at": self.taken_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Snapshot":
        t = data["target"]
        return cls(
            target=TargetInfo(kind=t["kind"], region=t["region"], profile=t.get("profile"),
                              endpoint_url=t.get("endpoint_url")),
            function_name=data["function_name"],
            function_arn=data.get("function_arn") or data["function_name"],
            config=FunctionConfig.from_dict(data["config"]),
            package_type=data.get("package_type") or "Zip",
            image_uri=data.get("image_uri"),
            code_sha256=data.get("code_sha256"),
            code_file=data.get("code_file"),
            versions=tuple(data.get("versions") or ()),
            aliases=tuple(data.get("aliases") or ()),
            taken_at=data.get("taken_at") or "",
            isolation=data.get("isolation") or "in-place",
            run_id=data.get("run_id") or "",
            revision_id=data.get("revision_id"),
            image_tag_uri=data.get("image_tag_uri"),
            source_kms_key_arn=data.get("source_kms_key_arn"),
        )

    def write(self, out_dir: Path) -> Path:
        """Write original_config.json atomically (temp file, fsync, rename), readable by its owner only:
        in-place it holds the environment's values, which may be secrets."""
        path = Path(out_dir) / SNAPSHOT_FILE
        tmp = path.with_suffix(".json.tmp")
        if tmp.exists():
            tmp.unlink()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(fd, "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, indent=2, sort_keys=True)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        return path


def read_snapshot(out_dir: Path) -> Snapshot:
    path = Path(out_dir) / SNAPSHOT_FILE
    if not path.exists():
        raise UsageError(
            f"{path}: no snapshot here",
            "pass the output folder of a sweep (it holds original_config.json)",
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Snapshot.from_dict(data)
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"{path}: not a lambdabench snapshot ({exc})", "the file was edited or damaged") from exc


def take_snapshot(clients: Clients, function: str, *, taken_at: str = "") -> Snapshot:
    """Read the function (raises UsageError if it does not exist) and its versions and aliases."""
    response = call(clients.control.get_function, FunctionName=function, function=function,
                    action="reading the function")
    configuration = response["Configuration"]
    code = response.get("Code") or {}
    versions = _list_all(clients.control.list_versions_by_function, "Versions", FunctionName=function)
    aliases = _list_all(clients.control.list_aliases, "Aliases", FunctionName=function)
    return Snapshot(
        target=clients.target,
        function_name=function,
        function_arn=configuration.get("FunctionArn", function),
        config=FunctionConfig.from_api(configuration),
        package_type=configuration.get("PackageType") or "Zip",
        # The digest, not the tag: a tag may have moved since the function was deployed.
        image_uri=(response.get("Code") or {}).get("ResolvedImageUri") or (response.get("Code") or {}).get("ImageUri"),
        code_sha256=configuration.get("CodeSha256"),
        versions=tuple(v["Version"] for v in versions if v.get("Version") != "$LATEST"),
        aliases=tuple(a["Name"] for a in aliases),
        taken_at=taken_at,
        revision_id=configuration.get("RevisionId"),
        image_tag_uri=code.get("ImageUri"),
        source_kms_key_arn=code.get("SourceKMSKeyArn"),
    )


def _list_all(operation: Callable[..., dict], key: str, **kwargs: Any) -> list[dict]:
    items: list[dict] = []
    marker = None
    while True:
        page = call(operation, function=kwargs.get("FunctionName"), action="listing versions/aliases",
                    **kwargs, **({"Marker": marker} if marker else {}))
        items.extend(page.get(key) or [])
        marker = page.get("NextMarker")
        if not marker:
            return items


def read_config(clients: Clients, function: str) -> FunctionConfig:
    response = call(clients.control.get_function_configuration, FunctionName=function, function=function,
                    action="reading the configuration back")
    return FunctionConfig.from_api(response)


def download_code(clients: Clients, function: str, *, purpose: str = "to switch architectures",
                  fix: str = "remove [sweep] architectures from the scenario to sweep memory and timeout only"
                  ) -> bytes:
    """The function's deployment package (for a copy, or to switch architectures in place)."""
    response = call(clients.control.get_function, FunctionName=function, function=function)
    location = (response.get("Code") or {}).get("Location")
    if not location:
        raise UsageError(f"cannot read the code of {function!r} {purpose}: GetFunction returned no Code.Location",
                         fix)
    try:
        with urllib.request.urlopen(location, timeout=60) as reply:  # noqa: S310 (AWS presigned URL)
            return reply.read()
    except OSError as exc:
        raise UsageError(f"cannot download the code of {function!r} {purpose}: {exc}",
                         f"{fix}; or run where the code URL is reachable") from exc


class ForeignChange(RunError):
    """Someone else changed the function during an in-place sweep (PreconditionFailedException)."""


def _with_conflict_retry(operation: Callable[..., Any], sleep: Callable[[float], None], function: str,
                         action: str, **kwargs: Any) -> Any:
    """Call a control-plane mutation; on ResourceConflictException (an update in progress) wait and retry."""
    delay = 0.1
    for attempt in range(CONFLICT_ATTEMPTS):
        try:
            return operation(**kwargs)
        except botocore.exceptions.ClientError as exc:
            if error_code(exc) == "PreconditionFailedException":
                raise ForeignChange(f"{function} was changed by someone else during the sweep ({action} "
                                    "was refused: the RevisionId the sweep last saw is no longer current)",
                                    "nothing more was applied; see which fields the other writer changed above"
                                    ) from exc
            if error_code(exc) != "ResourceConflictException" or attempt == CONFLICT_ATTEMPTS - 1:
                raise translate(exc, function=function, action=action) from exc
        except botocore.exceptions.BotoCoreError as exc:
            raise translate(exc, function=function, action=action) from exc
        sleep(delay)
        delay = min(delay * 2, 5.0)
    raise AssertionError("unreachable")


def wait_updated(clients: Clients, function: str, *, delay_s: float = 1.0, max_wait_s: float = 300.0) -> None:
    """Block until LastUpdateStatus is Successful (waiter function_updated_v2)."""
    waiter = clients.control.get_waiter("function_updated_v2")
    attempts = max(1, int(max_wait_s / max(delay_s, 0.01)))
    try:
        waiter.wait(FunctionName=function, WaiterConfig={"Delay": delay_s, "MaxAttempts": attempts})
    except (botocore.exceptions.WaiterError, botocore.exceptions.ClientError,
            botocore.exceptions.BotoCoreError) as exc:
        raise translate(exc, function=function, action="waiting for the update") from exc


def update_configuration(
    clients: Clients,
    function: str,
    *,
    memory_mb: int,
    timeout_s: int,
    environment: dict[str, str],
    ephemeral_storage_mb: int,
    sleep: Callable[[float], None] = time.sleep,
    wait_delay_s: float = 1.0,
    revision_id: str | None = None,
) -> str | None:
    """Set the four configuration fields, then wait until the update is done. Returns the new RevisionId.

    With `revision_id` Lambda applies the update only if the function is still at that revision
    (else PreconditionFailedException → ForeignChange); and the function read after the wait must
    hold what was written, else someone else wrote in between (ForeignChange too)."""
    extra = {"RevisionId": revision_id} if revision_id else {}
    response = _with_conflict_retry(
        clients.control.update_function_configuration,
        sleep,
        function,
        "updating the configuration",
        FunctionName=function,
        MemorySize=memory_mb,
        Timeout=timeout_s,
        Environment={"Variables": dict(environment)},
        EphemeralStorage={"Size": ephemeral_storage_mb},
        **extra,
    )
    wait_updated(clients, function, delay_s=wait_delay_s)
    if not revision_id:
        return (response or {}).get("RevisionId")
    now = call(clients.control.get_function_configuration, FunctionName=function, function=function,
               action="reading the update back")
    got = FunctionConfig.from_api(now)
    if (got.memory_mb, got.timeout_s, got.env, got.ephemeral_storage_mb) != (
            memory_mb, timeout_s, dict(environment), ephemeral_storage_mb):
        raise ForeignChange(f"{function} was changed by someone else while the sweep's update was applied",
                            "nothing more was applied; see which fields the other writer changed above")
    return now.get("RevisionId")


@dataclass(frozen=True)
class Written:
    """What an in-place sweep last wrote to the function (to undo only its own changes)."""

    memory_mb: int
    timeout_s: int
    ephemeral_storage_mb: int
    architecture: str


def undo_own_changes(clients: Clients, function: str, original: FunctionConfig, written: Written, *,
                     nonce_variable: str, sleep: Callable[[float], None] = time.sleep,
                     wait_delay_s: float = 1.0) -> tuple[list[str], bool]:
    """Put back what the sweep wrote and nobody changed since; keep everything another writer set.

    A field still holding the sweep's value goes back to the original; the nonce is removed if still
    there; every other value (another writer's) stays. Written with the fresh RevisionId. Returns the
    lines naming what the other writer changed (names, never environment values) and whether an
    update was sent."""
    now = call(clients.control.get_function_configuration, FunctionName=function, function=function,
               action="reading the function after a foreign change")
    current = FunctionConfig.from_api(now)
    other: list[str] = []
    target: dict[str, Any] = {}
    for name in ("memory_mb", "timeout_s", "ephemeral_storage_mb"):
        mine, found = getattr(written, name), getattr(current, name)
        if found == mine:
            target[name] = getattr(original, name)
        else:
            target[name] = found
            other.append(f"{name}: set to {found} by another writer (the sweep had written {mine}); kept")
    env = current.env
    for key in sorted(set(env) | set(original.env)):
        if key == nonce_variable:
            continue
        if key not in env:
            other.append(f"environment: {key} removed by another writer; kept removed")
        elif key not in original.env:
            other.append(f"environment: {key} added by another writer; kept")
        elif env[key] != original.env[key]:
            other.append(f"environment: {key} changed by another writer; their value kept")
    env.pop(nonce_variable, None)
    if current.architecture != written.architecture:
        other.append(f"architecture: set to {current.architecture} by another writer; kept")
    wanted = (target["memory_mb"], target["timeout_s"], env, target["ephemeral_storage_mb"])
    if wanted == (current.memory_mb, current.timeout_s, current.env, current.ephemeral_storage_mb):
        return other, False
    update_configuration(clients, function, memory_mb=target["memory_mb"], timeout_s=target["timeout_s"],
                         environment=env, ephemeral_storage_mb=target["ephemeral_storage_mb"], sleep=sleep,
                         wait_delay_s=wait_delay_s, revision_id=now.get("RevisionId"))
    return other, True


def update_architecture(
    clients: Clients,
    function: str,
    architecture: str,
    *,
    code_zip: bytes | None,
    image_uri: str | None,
    source_kms_key_arn: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    wait_delay_s: float = 1.0,
    revision_id: str | None = None,
) -> str | None:
    """Switch the architecture: UpdateFunctionCode with the same code (zip bytes or image URI)."""
    kwargs: dict[str, Any] = {"FunctionName": function, "Architectures": [architecture]}
    if revision_id:
        kwargs["RevisionId"] = revision_id
    if source_kms_key_arn:  # else Lambda re-encrypts the uploaded code with an AWS managed key
        kwargs["SourceKMSKeyArn"] = source_kms_key_arn
    if image_uri:
        kwargs["ImageUri"] = image_uri
    elif code_zip is not None:
        kwargs["ZipFile"] = code_zip
    else:
        raise RunError(
            f"cannot change the architecture of {function!r}: its code is not available",
            "restore the architecture by redeploying the function's code",
        )
    response = _with_conflict_retry(clients.control.update_function_code, sleep, function,
                                    "switching the architecture", **kwargs)
    wait_updated(clients, function, delay_s=wait_delay_s)
    if not revision_id:
        return (response or {}).get("RevisionId")
    now = call(clients.control.get_function_configuration, FunctionName=function, function=function,
               action="reading the update back")
    if (now.get("Architectures") or [limits.DEFAULT_ARCHITECTURE])[0] != architecture:
        raise ForeignChange(f"{function} was changed by someone else while the sweep switched its architecture",
                            "nothing more was applied; see which fields the other writer changed above")
    return now.get("RevisionId")


@dataclass(frozen=True)
class RestoreOutcome:
    """What restore did: `differences` is empty when the read-back equals the snapshot."""

    function_name: str
    restored: FunctionConfig
    found: FunctionConfig
    differences: tuple[str, ...]
    duration_ms: float
    changed: bool  # an update was sent (False when the function already matched)
    new_versions: tuple[str, ...] = field(default=())
    new_aliases: tuple[str, ...] = field(default=())
    deleted_copies: tuple[str, ...] = field(default=())  # copy mode: the sweep's copies restore deleted
    # The command that puts the code's KMS key or image tag back (restore never re-uploads code over
    # a deploy it did not make); "" when both match the snapshot.
    code_hint: str = ""

    @property
    def ok(self) -> bool:
        return not self.differences


def restore(
    clients: Clients,
    snapshot: Snapshot,
    *,
    code_zip: bytes | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.perf_counter,
    wait_delay_s: float = 1.0,
) -> RestoreOutcome:
    """Put the snapshot's configuration back, read it back and compare.

    Every step is attempted even when one fails, configuration first (memory, timeout and the nonce
    matter most to live traffic), architecture last; a failed step is listed in the outcome with its
    error. Does not raise for a difference that remains (the caller decides the exit status and prints
    the fix). Raises only when the function cannot be read at all (gone, credentials).
    """
    start = clock()
    function = snapshot.function_name
    original = snapshot.config
    before = read_config(clients, function)
    changed = False
    failures: list[str] = []
    if differences(dataclasses.replace(original, architecture=before.architecture), before):
        try:
            update_configuration(clients, function, memory_mb=original.memory_mb, timeout_s=original.timeout_s,
                                 environment=original.env, ephemeral_storage_mb=original.ephemeral_storage_mb,
                                 sleep=sleep, wait_delay_s=wait_delay_s)
            changed = True
        except LambdabenchError as exc:
            failures.append(f"configuration step failed: {exc.message}")
    if before.architecture != original.architecture:
        try:
            update_architecture(clients, function, original.architecture, code_zip=code_zip,
                                image_uri=snapshot.image_tag_uri or snapshot.image_uri,
                                source_kms_key_arn=snapshot.source_kms_key_arn, sleep=sleep,
                                wait_delay_s=wait_delay_s)
            changed = True
        except LambdabenchError as exc:
            failures.append(f"architecture step failed: {exc.message}")
    found = read_config(clients, function)
    after = take_snapshot(clients, function)
    code_lines, code_hint = code_differences(snapshot, after)
    return RestoreOutcome(
        function_name=function,
        restored=original,
        found=found,
        differences=tuple(failures) + tuple(differences(original, found)) + tuple(code_lines),
        duration_ms=(clock() - start) * 1000.0,
        changed=changed,
        new_versions=tuple(v for v in after.versions if v not in snapshot.versions),
        new_aliases=tuple(a for a in after.aliases if a not in snapshot.aliases),
        code_hint=code_hint,
    )


AWS_OWNED_KEY = "an AWS owned key"


def code_differences(snapshot: Snapshot, after: Snapshot) -> tuple[list[str], str]:
    """How the code now differs from the snapshot in what a redeploy can lose: the KMS key its package is
    encrypted with (Code.SourceKMSKeyArn) and the image tag it was deployed from (Code.ImageUri; the
    digest a tag resolves to may move, so the tag is compared, not the digest). Returns the lines and
    the command that puts them back (restore leaves code alone: it may be another writer's deploy)."""
    lines: list[str] = []
    fixes: list[str] = []
    function = snapshot.function_name
    if snapshot.source_kms_key_arn != after.source_kms_key_arn:
        lines.append(f"code encryption key: expected {snapshot.source_kms_key_arn or AWS_OWNED_KEY}, "
                     f"found {after.source_kms_key_arn or AWS_OWNED_KEY}")
        if snapshot.package_type != "Image":
            key = (f"--source-kms-key-arn {snapshot.source_kms_key_arn}" if snapshot.source_kms_key_arn
                   else "(without --source-kms-key-arn)")
            fixes.append(f"aws lambda update-function-code --function-name {function} --zip-file "
                         f"fileb://<the function's package> {key}")
    if snapshot.image_tag_uri and snapshot.image_tag_uri != after.image_tag_uri:
        lines.append(f"image: expected {snapshot.image_tag_uri}, found {after.image_tag_uri}")
        fixes.append(f"aws lambda update-function-code --function-name {function} --image-uri "
                     f"{snapshot.image_tag_uri}")
    hint = "; ".join(fixes)
    if hint:
        hint += " (only if the code now there is not a deploy someone made since the sweep)"
    return lines, hint


def fix_hint(outcome: RestoreOutcome, out_dir: Path | str | None = None) -> str:
    """An AWS CLI command that sets what restore could not. Environment values are never printed (they
    may be secrets): the command reads them from the snapshot file."""
    o = outcome.restored
    snapshot = str(Path(out_dir) / SNAPSHOT_FILE) if out_dir is not None else SNAPSHOT_FILE
    parts = [
        f"aws lambda update-function-configuration --function-name {outcome.function_name}",
        f"--memory-size {o.memory_mb} --timeout {o.timeout_s}",
        f"--ephemeral-storage Size={o.ephemeral_storage_mb}",
        f"--environment \"$(jq -c '{{Variables: .config.environment}}' {snapshot})\"",
    ]
    config_differs = bool(differences(dataclasses.replace(o, architecture=outcome.found.architecture),
                                      outcome.found))
    hints = [" ".join(parts)] if config_differs or not outcome.code_hint else []
    if outcome.found.architecture != o.architecture:
        hints.append(f"redeploy the code with --architectures {o.architecture}")
    if outcome.code_hint:
        hints.append(outcome.code_hint)
    return "; then ".join(hints)
