"""The sweep driver: runs a Plan against one function through boto3, for every target.

The only code that changes a function during a sweep (through snapshot.update_configuration /
update_architecture). Order of work:
1. `prepare`: read the function (unknown function → UsageError, nothing changed) and check the plan
   against it. The CLI shows `changes_summary` and asks before anything changes.
2. `Driver.run`: write original_config.json, then the results header, then run every action; each
   invocation is written to results.jsonl (flushed) as soon as it completes, fsynced at once for cold
   and warm invocations and once per wave for a burst.
3. Always, in `finally`: put the original configuration back, read it back, compare, and record a
   `restored` or `restore_failed` event (copy mode: delete the copies and their log groups and check
   the original is unchanged; after another writer's change in place: undo only the sweep's own
   changes, record `own_changes_undone`, and fail with exit 1 naming what they changed). KeyboardInterrupt (Ctrl-C, and SIGTERM which the CLI turns
   into one) takes the same path and records `interrupted` first.

Hooks ([hooks], sweep/hooks.py) run between actions, never inside a measured call: before_config after
each configuration is applied, after_config when the sweep leaves it, before_each / after_each around
every invocation (warm-ups included; a burst's for each invocation, before the wave is released and
after it is done). A failing hook records `hook_failed` and raises: the sweep stops through step 3.

Measurement rules: Invoke has retries off (clients.py), so a 429 reaches the results exactly once, as
`throttled`. The REPORT comes from the LogType=Tail result; when it is missing or unparsable (JSON log
format, a tail cut at 4 KB) the driver polls CloudWatch Logs for that request id, bounded, and says
where it came from in `report_source` (`tail`, `logs`, `missing`; `logs_denied` when CloudWatch Logs refused
the read: the first refusal is recorded as a `logs_unreadable` event naming the permission, is in the
outcome's `warnings`, and the group is not polled again). Each sample's cold/warm state is read from its REPORT (Init
Duration present = cold) and compared with what the plan expected; a mismatch is kept and marked.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, ContextManager, Sequence

import botocore.exceptions

from lambdabench import limits
from lambdabench import __version__
from lambdabench.arns import parse_function
from lambdabench.errors import UsageError
from lambdabench.logs import Report, decode_log_result, parse_report
from lambdabench.pricing import invocation_cost
from lambdabench.records import InvocationRecord, host_cores, host_limited, record_status
from lambdabench.results import RESULTS_FILE, ResultsWriter, read_results
from lambdabench.sweep.clients import Clients, call, error_code, translate
from lambdabench.sweep.hooks import HookFailed, HookRunner
from lambdabench.sweep.release import (
    Released,
    call_through_gate,
    endpoint_reachable,
    run_released,
)
from lambdabench.sweep.isolation import (
    COPY,
    COPY_LIMITS,
    IN_PLACE,
    IN_PLACE_LIMITS,
    CopySet,
    preflight,
    state_notes,
)
from lambdabench.sweep.plan import Action, ConfigPoint, Plan, PlannedInvocation, pending
from lambdabench.sweep.snapshot import (
    CODE_FILE,
    NONCE_VARIABLE,
    FunctionConfig,
    RestoreOutcome,
    ForeignChange,
    Snapshot,
    Written,
    differences,
    download_code,
    environment_error,
    restore,
    take_snapshot,
    undo_own_changes,
    update_architecture,
    update_configuration,
)

# Threads that poll CloudWatch Logs for the REPORTs a burst's LogResult tails lacked.
LOGS_THREADS = 16
# CloudWatch Logs ingestion lags the invoke by seconds; poll with backoff for at most this long.
LOGS_MAX_WAIT_S = 30.0
LOGS_FIRST_DELAY_S = 0.25
# Invoke errors that mean the sweep cannot go on (the function or our access is gone): raised.
# Anything else that Invoke answers (5xx, EC2/ENI errors, KMS errors) is recorded as an error sample.
FATAL_INVOKE_CODES = {
    "ResourceNotFoundException",
    "AccessDeniedException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "ExpiredTokenException",
    "RequestEntityTooLargeException",
    "InvalidRequestContentException",
}


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(ts: datetime) -> str:
    return ts.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class PayloadSet:
    bodies: tuple[bytes, ...]
    labels: tuple[str, ...]


@dataclass(frozen=True)
class Prepared:
    """The function as found, checked against the plan; nothing has changed yet."""

    snapshot: Snapshot
    function_name: str  # the name part (for the log group), even when the user gave an ARN
    log_format: str  # Text | JSON
    code_zip: bytes | None  # needed only when the plan switches architectures
    log_group: str = ""  # where the REPORT lines go; "" means /aws/lambda/<function_name>
    # The architecture the function has NOW. On --resume after a kill -9 the snapshot is the saved
    # original, but the function may have been left on another architecture mid-sweep. "" = the snapshot's.
    live_architecture: str = ""
    isolation: str = IN_PLACE  # copy: every change and invoke goes to `copies`, the original is only read
    copies: CopySet | None = None
    state: str = "Active"  # the function's State when read (Inactive: woken first in place, see run.py)
    notes: tuple[str, ...] = ()  # confirmation lines about the State (isolation.state_notes)


def prepare(clients: Clients, function: str, plan: Plan, *, code_zip: bytes | None = None,
            taken_at: str = "", isolation: str = IN_PLACE, run_id: str = "",
            wait_delay_s: float = 1.0, wake_inactive: bool = False) -> Prepared:
    """Read the function, preflight it and validate the plan against it. Raises UsageError; changes nothing."""
    ref = parse_function(function)
    if ref is not None and ref.qualifier is not None:
        raise UsageError(
            f"{function!r} names a version or alias: published versions are immutable (their memory and "
            "timeout cannot change), so a sweep measures the function's unpublished $LATEST",
            f"pass the unqualified function name or ARN: {ref.unqualified}",
        )
    snapshot = take_snapshot(clients, function, taken_at=taken_at)
    snapshot = dataclasses.replace(snapshot, isolation=isolation, run_id=run_id)
    response = call(clients.control.get_function_configuration, FunctionName=function, function=function)
    env_error = environment_error(response)
    if env_error is not None:
        raise UsageError(f"cannot read the function's environment variables: {env_error}",
                         "grant kms:Decrypt on the function's key to this identity, then retry")
    preflight(response, isolation=isolation, architectures={c.architecture for c in plan.configs},
              nonce_variable=NONCE_VARIABLE, wake_inactive=wake_inactive)
    state = {"state": response.get("State") or "Active",
             "notes": tuple(state_notes(response, isolation=isolation))}
    name = response.get("FunctionName") or function.split(":")[-1]
    logging_config = response.get("LoggingConfig") or {}
    log_format = logging_config.get("LogFormat") or "Text"
    system_level = logging_config.get("SystemLogLevel")
    if log_format == "JSON" and system_level not in (None, "INFO", "DEBUG"):
        # Lambda sends platform.report at INFO: at WARN no REPORT reaches the tail or CloudWatch,
        # and every sample would be recorded without its Duration or Billed Duration.
        raise UsageError(
            f"{function!r} logs system records at {system_level}, which drops Lambda's REPORT records",
            "set LoggingConfig SystemLogLevel to INFO for the sweep, then put it back",
        )
    # A function may log to a custom group (LoggingConfig.LogGroup); the default is /aws/lambda/<name>.
    log_group = logging_config.get("LogGroup") or f"/aws/lambda/{name}"
    if snapshot.package_type == "Image" and any(c.architecture != snapshot.config.architecture
                                                 for c in plan.configs):
        if not snapshot.image_uri:
            raise UsageError(
                f"{function!r} is a container image function without an image URI to redeploy",
                "remove [sweep] architectures from the scenario",
            )
    needs_code = snapshot.package_type != "Image" and any(
        c.architecture != snapshot.config.architecture for c in plan.configs
    )
    if isolation == COPY:
        # The copy runs the code the original runs now: an image by its digest, a zip downloaded.
        if snapshot.package_type == "Image":
            code = {"ImageUri": snapshot.image_uri}
        else:
            code = {"ZipFile": code_zip if code_zip is not None else download_code(
                clients, function, purpose="for the sweep's copy",
                fix="sweep the function itself with --in-place (read the README's warnings first)")}
        image_config = (response.get("ImageConfigResponse") or {}).get("ImageConfig") or None
        copies = CopySet(clients, dict(response), code, run_id, image_config=image_config,
                         wait_delay_s=wait_delay_s)
        # Each copy logs to its own /aws/lambda/<copy> group (the driver follows the copy in use).
        return Prepared(snapshot=snapshot, function_name=name, log_format=log_format, code_zip=None,
                        log_group="", live_architecture=snapshot.config.architecture, isolation=COPY,
                        copies=copies, **state)
    if needs_code and code_zip is None:
        code_zip = download_code(clients, function)
    return Prepared(snapshot=snapshot, function_name=name, log_format=log_format,
                    code_zip=code_zip if needs_code else None, log_group=log_group,
                    live_architecture=snapshot.config.architecture, **state)


def _adaptive_summary(prepared: Prepared, search: str | None) -> list[str]:
    """An adaptive sweep plans no point ahead: say where it runs and what the search may spend."""
    where = (f"copies of {prepared.snapshot.function_arn} (the original is only read; deleted afterwards)"
             if prepared.copies is not None else
             f"function {prepared.snapshot.function_arn} in place (put back afterwards)")
    lines = [f"lambdabench will run an adaptive search on {where}:"]
    if search is not None:
        lines.append(f"  {search}; {NONCE_VARIABLE} added to force cold starts")
    return lines


def changes_summary(prepared: Prepared, plan: Plan, search: str | None = None) -> list[str]:
    """What the sweep will create or change, for the confirmation prompt (`search`: an adaptive sweep's
    description, sweep/adaptive.describe, which its empty plan cannot tell)."""
    c = prepared.snapshot.config
    if not plan.configs:
        return _adaptive_summary(prepared, search)
    memories = sorted({p.memory_mb for p in plan.configs})
    timeouts = sorted({p.timeout_s for p in plan.configs})
    archs = sorted({p.architecture for p in plan.configs})
    if prepared.copies is not None:
        copies = prepared.copies
        names = ", ".join(f"{copies.name_for(a)} ({a})" for a in archs)
        return [
            f"lambdabench will sweep copies of {prepared.snapshot.function_arn} (the original is only read):",
            f"  creates {names}: same code, role, layers, environment, VPC, file systems, /tmp, tracing, "
            f"KMS key and log format, tagged lambdabench:sweep={copies.run_id}",
            f"  memory: each of {', '.join(map(str, memories))} MB; timeout: each of "
            f"{', '.join(map(str, timeouts))} s; {NONCE_VARIABLE} added {plan.configuration_changes} times to "
            "force cold starts",
            f"  invokes the copies {plan.total_invocations} times, then deletes them and their log groups",
            f"  note: {COPY_LIMITS}",
            *prepared.notes,
        ]
    lines = [
        f"lambdabench will change function {prepared.snapshot.function_arn}:",
        *prepared.notes,
        f"  memory: {c.memory_mb} MB -> each of {', '.join(map(str, memories))} MB",
        f"  timeout: {c.timeout_s} s -> each of {', '.join(map(str, timeouts))} s",
        f"  environment: adds {NONCE_VARIABLE} (changed {plan.configuration_changes} times to force cold "
        f"starts; your {len(c.environment)} variable(s) kept)",
    ]
    if archs != [c.architecture]:
        lines.append(f"  architecture: {c.architecture} -> {', '.join(archs)} (redeploys the same code)")
    lines.append(f"  and invoke it {plan.total_invocations} times; afterwards everything is put back "
                 f"(memory {c.memory_mb} MB, timeout {c.timeout_s} s, environment, "
                 f"ephemeral storage {c.ephemeral_storage_mb} MB, {c.architecture}).")
    lines.append(f"  note: {IN_PLACE_LIMITS}")
    return lines


@dataclass
class _State:
    config: ConfigPoint | None = None
    architecture: str | None = None
    fresh: bool = False


@dataclass
class SweepOutcome:
    out_dir: Path
    completed: bool
    interrupted: bool
    invocations_written: int
    state_mismatches: int
    restore: RestoreOutcome | None
    restore_error: str | None = None
    status_counts: dict[str, int] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()  # for stderr: what the sweep could not do (e.g. read its logs)


# The CloudWatch Logs call the driver reads REPORT lines with, and the IAM action that authorises it.
LOGS_READ_ACTION = "logs:FilterLogEvents"
# CloudWatch Logs answers AccessDeniedException; moto and some compatible endpoints answer a bare 403.
_DENIED_CODES = {"AccessDeniedException", "AccessDenied", "403"}


def _access_denied(exc: botocore.exceptions.ClientError) -> bool:
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return error_code(exc) in _DENIED_CODES or status == 403


ProgressFn = Callable[[int, int, str], None]
# What a run does between opening the results and restoring: by default the plan's pending actions;
# an adaptive sweep passes its search (sweep/adaptive.py), which decides the actions as it goes.
Executor = Callable[["Driver", set[str]], None]


class Driver:
    """Runs a plan on one function. Construct, then `run()` once."""

    def __init__(
        self,
        clients: Clients,
        prepared: Prepared,
        plan: Plan,
        payloads: PayloadSet,
        out_dir: Path,
        header: dict[str, Any],
        *,
        storage_mb: int = limits.EPHEMERAL_STORAGE_DEFAULT_MB,
        resume: bool = False,
        progress: ProgressFn | None = None,
        shield: Callable[[], ContextManager[Any]] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.perf_counter,
        wait_delay_s: float = 1.0,
        logs_max_wait_s: float = LOGS_MAX_WAIT_S,
        hooks: HookRunner | None = None,
        executor: Executor | None = None,
    ):
        self.clients = clients
        self.prepared = prepared
        self.function = prepared.snapshot.function_name
        self.plan = plan
        self.payloads = payloads
        self.out_dir = Path(out_dir)
        self.header = header
        self.storage_mb = storage_mb
        self.resume = resume
        self.progress = progress
        self.shield = shield
        self.sleep = sleep
        self.clock = clock
        self.wait_delay_s = wait_delay_s
        self.logs_max_wait_s = logs_max_wait_s
        self.hooks = hooks
        self._hooked_config: ConfigPoint | None = None  # before_config ran for it; after_config is due
        self._recorded: dict[str, InvocationRecord] = {}  # records as written, for after_each
        self.executor = executor
        self._lock = threading.Lock()
        self._seq = 0
        self._done = 0
        self._mismatches = 0
        self._counts: dict[str, int] = {}
        self._writer: ResultsWriter | None = None
        self._closed = False
        # Seeded from the live function: the first point switches architecture whenever it must.
        self._state = _State(architecture=prepared.live_architecture or prepared.snapshot.config.architecture)
        self._resume_round = 0
        self._original_env = prepared.snapshot.config.env
        self.copies = prepared.copies
        # In place: every update carries the RevisionId the sweep last saw, so another writer's change
        # stops the sweep instead of being overwritten (the copies are the sweep's own: no check needed).
        self._revision: str | None = prepared.snapshot.revision_id if prepared.copies is None else None
        self._written: Written | None = None
        self._foreign: ForeignChange | None = None
        # Log groups CloudWatch Logs refused to let us read: group -> the warning said about it.
        self._logs_denied: dict[str, str] = {}
        if self.copies is not None:
            # Copies carry the environment the original has now (a copy-mode snapshot on disk has no values).
            self._original_env = dict((self.copies.configuration.get("Environment") or {}).get("Variables") or {})

    # -- the whole run --------------------------------------------------------------------------
    def run(self) -> SweepOutcome:
        results_file = self.out_dir / RESULTS_FILE
        done_ids: set[str] = set()
        if self.resume:
            previous = read_results(results_file)
            done_ids = previous.completed_ids
            self._seq = int(previous.invocations["seq"].max()) + 1 if "seq" in previous.invocations and \
                not previous.invocations.empty else 0
            self._resume_round = 1 + sum(1 for e in previous.events if e.get("event") == "resumed")
        else:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            snapshot = self.prepared.snapshot
            if self.prepared.code_zip is not None:
                (self.out_dir / CODE_FILE).write_bytes(self.prepared.code_zip)
                snapshot = dataclasses.replace(snapshot, code_file=CODE_FILE)
            # The snapshot is on disk before the first change: `lambdabench restore DIR` works after kill -9.
            snapshot.write(self.out_dir)
        actions = pending(self.plan.actions, done_ids) if self.executor is None else []
        total = self.plan.total_invocations
        self._done = len(done_ids & {inv.invocation_id for inv in self.plan.invocations})
        if self.executor is not None:
            self._done = len(done_ids)
        self.open_results()
        interrupted = False
        completed = False
        restore_outcome: RestoreOutcome | None = None
        restore_error: str | None = None
        try:
            if self.resume:
                self._writer.write_event("resumed", at=iso(utc_now()),
                                         pending=sum(len(a.invocations) for a in actions)
                                         if self.executor is None else None)
            self._report_progress(total, "starting")
            if self.executor is not None:
                self.executor(self, done_ids)
            else:
                for action in actions:
                    self._perform(action, total)
            self._after_config()
            completed = True
        except ForeignChange as exc:
            self._foreign = exc
            self._event("failed", at=iso(utc_now()), error=str(exc))
            raise
        except KeyboardInterrupt:
            interrupted = True
            self._event("interrupted", at=iso(utc_now()), invocations_done=self._done)
            raise
        except BaseException as exc:
            self._event("failed", at=iso(utc_now()), error=str(exc))
            raise
        finally:
            # The shield is entered first thing: a Ctrl-C/SIGTERM anywhere in the restore (and the
            # events and close after it) waits until the function is back as it was.
            shield = self.shield() if self.shield else contextlib.nullcontext()
            with shield:
                try:
                    restore_outcome = self._restore()
                except Exception as exc:  # noqa: BLE001 — recorded and returned; the caller fails with exit 1
                    restore_error = str(exc)
                    self._event("restore_failed", error=restore_error, differences=[])
                if completed:
                    self._event("completed", at=iso(utc_now()), invocations=self._done)
                self._close()
            # A signal deferred by the shield still means "interrupted" once the restore is done; when
            # the sweep did not complete, an exception is already propagating and says what happened.
            if completed and getattr(shield, "pending", None):
                raise KeyboardInterrupt
            if self._foreign is not None and restore_error is None:
                raise self._foreign
        return SweepOutcome(
            out_dir=self.out_dir,
            completed=completed,
            interrupted=interrupted,
            invocations_written=self._seq,
            state_mismatches=self._mismatches,
            restore=restore_outcome,
            restore_error=restore_error,
            status_counts=dict(self._counts),
            warnings=tuple(self._logs_denied.values()),
        )

    def open_results(self) -> None:
        """Open results.jsonl for appending (writing the header on a new sweep)."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._writer = ResultsWriter(self.out_dir / RESULTS_FILE, None if self.resume else self.header)
        self._closed = False

    def close(self) -> None:
        self._close()

    def _close(self) -> None:
        with self._lock:
            if self._writer is not None:
                self._writer.close()
            self._closed = True  # burst threads still running after an interrupt write nothing more

    def _event(self, name: str, **fields: Any) -> None:
        with self._lock:
            if self._writer is not None and not self._closed:
                self._writer.write_event(name, **fields)

    def _restore(self) -> RestoreOutcome:
        if self.copies is not None:
            return self._delete_copies()
        if self._foreign is not None and self._written is not None:
            return self._undo_own_changes()
        outcome = restore(self.clients, self.prepared.snapshot, code_zip=self.prepared.code_zip,
                          sleep=self.sleep, clock=self.clock, wait_delay_s=self.wait_delay_s)
        if outcome.ok:
            self._event("restored", duration_ms=round(outcome.duration_ms, 3), changed=outcome.changed)
        else:
            self._event("restore_failed", differences=list(outcome.differences))
        return outcome

    def _undo_own_changes(self) -> RestoreOutcome:
        """Another writer changed the function: undo only what the sweep wrote and is still there."""
        start = self.clock()
        original = self.prepared.snapshot
        other, changed = undo_own_changes(self.clients, self.function, original.config, self._written,
                                          nonce_variable=NONCE_VARIABLE, sleep=self.sleep,
                                          wait_delay_s=self.wait_delay_s)
        found = FunctionConfig.from_api(call(self.clients.control.get_function_configuration,
                                             FunctionName=self.function, function=self.function))
        self._event("own_changes_undone", other_writer=other, changed=changed)
        message = (f"{self._foreign.message}; the sweep stopped and undid its own changes; the other writer "
                   "changed:\n    " + "\n    ".join(other or ["(nothing the sweep had written)"]))
        self._foreign = ForeignChange(message, "check the other writer's change is intended, then sweep again "
                                               "(or sweep a copy: drop --in-place)")
        return RestoreOutcome(function_name=self.function, restored=original.config, found=found,
                              differences=(), duration_ms=(self.clock() - start) * 1000.0, changed=changed)

    def _delete_copies(self) -> RestoreOutcome:
        """Copy mode: delete every copy with its log group, then check the original is as it was."""
        start = self.clock()
        problems = self.copies.delete_all()
        original = self.prepared.snapshot
        now = call(self.clients.control.get_function_configuration, FunctionName=original.function_name,
                   function=original.function_name, action="reading the original back")
        found = dataclasses.replace(FunctionConfig.from_api(now), environment=())
        expected = dataclasses.replace(original.config, environment=())
        outcome = RestoreOutcome(
            function_name=original.function_name, restored=original.config, found=found,
            differences=tuple(problems) + tuple(differences(expected, found)),
            duration_ms=(self.clock() - start) * 1000.0, changed=False,
            deleted_copies=tuple(sorted(self.copies.created.values())),
        )
        fields = {"copies_deleted": sorted(self.copies.created.values()),
                  "original_revision_unchanged": now.get("RevisionId") == original.revision_id}
        if outcome.ok:
            self._event("restored", duration_ms=round(outcome.duration_ms, 3), changed=False, **fields)
        else:
            self._event("restore_failed", differences=list(outcome.differences), **fields)
        return outcome

    def _report_progress(self, total: int, label: str) -> None:
        if self.progress is not None:
            self.progress(self._done, total, label)

    # -- actions --------------------------------------------------------------------------------
    def _perform(self, action: Action, total: int) -> None:
        point = action.config
        if action.kind == "configure":
            self._after_config()
            self._configure(point)
            self._before_config(point)
        elif action.kind == "refresh":
            self._refresh(point)
        elif action.kind == "pause":
            self.sleep(action.pause_s)
        elif action.kind == "invoke":
            inv = action.invocations[0]
            if inv.expect_cold is False and self._state.fresh and not inv.warmup:
                # Only after a resume: the warm-ups ran before the interruption, the function was
                # reconfigured since, so warm it again (recorded as an extra warm-up).
                self._invoke_and_record(self._extra_warmup(inv))
            self._invoke_and_record(inv)
            self._state.fresh = False
        elif action.kind == "burst":
            # Hooks around a burst run per invocation, all before_each before the wave is released and
            # all after_each once it is done: the wave stays simultaneous and no hook time is inside it.
            for inv in action.invocations:
                self._each_hook("before_each", inv)
            self.burst(action.invocations)
            for inv in action.invocations:
                self._each_hook("after_each", inv)
            self._state.fresh = False
        self._report_progress(total, point.config_id)

    def _function_name(self) -> str:
        # The copy in use (copy mode), else the original's name part (the user may have given an ARN).
        return self.function if self.copies is not None else self.prepared.function_name

    def _extra_warmup(self, inv: PlannedInvocation) -> PlannedInvocation:
        return PlannedInvocation(
            invocation_id=f"{inv.invocation_id}/rewarm-{self._resume_round}", config=inv.config,
            scenario=inv.scenario, scenario_index=inv.scenario_index, index=inv.index, wave=None,
            warmup=True, payload_index=inv.payload_index, expect_cold=None,
        )

    def _environment(self) -> dict[str, str]:
        # The user's variables are kept; only the nonce is added (and replaced on each refresh).
        return {**self._original_env, NONCE_VARIABLE: uuid.uuid4().hex[:16]}

    def _configure(self, point: ConfigPoint) -> None:
        start = self.clock()
        if self.copies is not None:
            # One copy per architecture: no code is ever uploaded to the user's function.
            self.function = self.copies.function_for(point.architecture, self._environment())
            self._state.architecture = point.architecture
        elif point.architecture != self._state.architecture:
            c = self.prepared.snapshot.config
            self._written = dataclasses.replace(
                self._written or Written(c.memory_mb, c.timeout_s, c.ephemeral_storage_mb, c.architecture),
                architecture=point.architecture)
            revision = update_architecture(self.clients, self.function, point.architecture,
                                           code_zip=self.prepared.code_zip, image_uri=self.prepared.snapshot.image_uri,
                                           source_kms_key_arn=self.prepared.snapshot.source_kms_key_arn,
                                           sleep=self.sleep, wait_delay_s=self.wait_delay_s,
                                           revision_id=self._revision)
            if self._revision is not None:
                self._revision = revision
            self._state.architecture = point.architecture
        self._update(point)
        self._state.config = point
        self._state.fresh = True
        self._event("config_applied", config=point.to_dict(), key=point.config_id,
                    duration_ms=round((self.clock() - start) * 1000.0, 3))

    def _refresh(self, point: ConfigPoint) -> None:
        self._update(point)
        self._state.fresh = True

    def _update(self, point: ConfigPoint) -> None:
        storage_mb = self.prepared.snapshot.config.ephemeral_storage_mb
        if self.copies is None:
            # Recorded before the call: if the update lands and the read-back then fails, it is still ours.
            self._written = Written(memory_mb=point.memory_mb, timeout_s=point.timeout_s,
                                    ephemeral_storage_mb=storage_mb, architecture=point.architecture)
        revision = update_configuration(
            self.clients, self.function, memory_mb=point.memory_mb, timeout_s=point.timeout_s,
            environment=self._environment(), ephemeral_storage_mb=storage_mb,
            sleep=self.sleep, wait_delay_s=self.wait_delay_s, revision_id=self._revision,
        )
        if self._revision is not None:
            self._revision = revision

    # -- invocations ----------------------------------------------------------------------------
    def _invoke_and_record(self, inv: PlannedInvocation) -> dict[str, Any]:
        self._each_hook("before_each", inv)
        record = self.invoke(inv)
        assert record is not None  # no `defer`: the record is always complete
        self._write(record)
        self._each_hook("after_each", inv)
        return record

    # -- hooks (sweep/hooks.py runs them; their time is never inside a measured invocation) ----------
    def _hook(self, name: str, document: dict[str, Any]) -> None:
        try:
            self.hooks.run(name, document)
        except HookFailed as exc:
            self._event("hook_failed", at=iso(utc_now()), **exc.fields)
            raise

    def _before_config(self, point: ConfigPoint) -> None:
        if self.hooks is not None:
            self._hooked_config = point
            if self.hooks.has("before_config"):
                self._hook("before_config", self.hooks.config_document("before_config", point, self.function))

    def _after_config(self) -> None:
        point, self._hooked_config = self._hooked_config, None
        if point is not None and self.hooks.has("after_config"):
            self._hook("after_config", self.hooks.config_document("after_config", point, self.function))

    def _each_hook(self, name: str, inv: PlannedInvocation) -> None:
        if self.hooks is None or not self.hooks.has(name):
            return
        record = self._recorded.pop(inv.invocation_id) if name == "after_each" else None
        self._hook(name, self.hooks.invocation_document(
            name, point=inv.config, function=self.function, invocation_id=inv.invocation_id,
            scenario=inv.scenario, wave=inv.wave, warmup=inv.warmup,
            payload_label=self.payloads.labels[inv.payload_index],
            payload=self.payloads.bodies[inv.payload_index], record=record))

    def burst(self, invocations: Sequence[PlannedInvocation], *, greenlets: bool = True) -> Released:
        """Release N invokes together (see `run_released`); each record is written as it completes.

        On greenlets when the package is installed and the endpoint is directly reachable (else, or with
        `greenlets=False`, one thread per invocation)."""
        # Each record is written and flushed as its invocation completes (a killed sweep keeps it); the
        # fsync is done once for the wave, not once per record (1,000 serial fsyncs under the lock
        # were most of the driver's system CPU in bench/driver_bench.py).
        timeout_s = self.clients.invoke.meta.config.read_timeout
        green = greenlets and endpoint_reachable(self.clients.invoke.meta.endpoint_url)
        logs_pool: ThreadPoolExecutor | None = None
        later: list[Future[None]] = []

        def defer(finish: Callable[[], dict[str, Any]]) -> None:
            # A greenlet must not block the others: CloudWatch Logs polling runs on a few threads.
            nonlocal logs_pool
            if logs_pool is None:
                logs_pool = ThreadPoolExecutor(max_workers=LOGS_THREADS, thread_name_prefix="burst-logs")
            later.append(logs_pool.submit(lambda: self._write(finish(), sync=False)))

        def task(inv: PlannedInvocation) -> None:
            record = self.invoke(inv, defer=defer if green else None)
            if record is not None:
                self._write(record, sync=False)

        try:
            results = run_released([lambda inv=inv: task(inv) for inv in invocations], gated=True,
                                   preconnect_timeout_s=timeout_s, green=green)
            for future in later:
                exc = future.exception()
                if exc is not None:
                    results.errors.append(exc)
        finally:
            if logs_pool is not None:
                logs_pool.shutdown(wait=False, cancel_futures=True)
            with self._lock:
                if self._writer is not None and not self._closed:
                    self._writer.sync()
        for error in results.errors:
            raise error
        return results

    def invoke(self, inv: PlannedInvocation, *, body: bytes | None = None,
               defer: Callable[[Callable[[], dict[str, Any]]], None] | None = None) -> dict[str, Any] | None:
        """One Invoke → one record (never raises for function errors, throttles or 5xx).

        `defer` (burst greenlets, which must not block): when the REPORT has to be polled from
        CloudWatch Logs, the rest of the work is passed to `defer` as a callable returning the record,
        and None is returned."""
        body = self.payloads.bodies[inv.payload_index] if body is None else body
        started = utc_now()
        t0 = time.perf_counter()  # client round trip always on perf_counter (the burst gate uses it too)
        request_id: str | None = None
        function_error: str | None = None
        error_type: str | None = None
        log_text = ""
        throttled = False
        invoked = False
        response_body = b""
        sent = call_through_gate(lambda: self.clients.invoke.invoke(
            FunctionName=self.function, InvocationType="RequestResponse", LogType="Tail", Payload=body,
        ))
        if sent.wire is not None:  # a burst: the clock starts at the release, not at signing
            t0, started = sent.wire.sent_perf, sent.wire.sent_at
        try:
            response = sent.result()
            response_body = response["Payload"].read()
            invoked = True
            client_ms = (sent.reply_perf() - t0) * 1000.0
            request_id = response.get("ResponseMetadata", {}).get("RequestId")
            function_error = response.get("FunctionError")
            if response.get("LogResult"):
                try:
                    log_text = decode_log_result(response["LogResult"])
                except ValueError:
                    log_text = ""
        except botocore.exceptions.ClientError as exc:
            client_ms = (sent.reply_perf() - t0) * 1000.0
            code = error_code(exc) or "Unknown"
            if code in FATAL_INVOKE_CODES:
                raise translate(exc, function=self.function, action="invoking") from exc
            request_id = exc.response.get("ResponseMetadata", {}).get("RequestId")
            if code == "TooManyRequestsException":
                throttled = True
                error_type = exc.response.get("Reason") or exc.response.get("Error", {}).get("Reason") or code
            else:
                error_type = code
        except (botocore.exceptions.HTTPClientError, botocore.exceptions.ConnectionError) as exc:
            # The client gave up (read timeout above the function timeout) or the connection broke:
            # the invocation's outcome is unknown to us; record it as an error, the sweep goes on.
            client_ms = (sent.reply_perf() - t0) * 1000.0
            error_type = f"Client.{type(exc).__name__}"
        if function_error and error_type is None:
            error_type = _error_type_from_body(response_body)

        # Only an Invoke that Lambda answered with 200 ran the function and has a REPORT to find; a 429 or
        # a service error (5xx) did not run it.
        if invoked and request_id:
            report = _matching_report(log_text, request_id)
            if report is not None:
                return self._record(inv, report, "tail", request_id, function_error, throttled, error_type,
                                    client_ms, started)
            rid = request_id

            def from_logs() -> dict[str, Any]:
                found = self.report_from_logs(rid, started)
                if found is not None:
                    source = "logs"
                else:
                    source = "logs_denied" if self._log_group() in self._logs_denied else "missing"
                return self._record(inv, found, source, rid, function_error, throttled, error_type,
                                    client_ms, started)

            if defer is not None:
                defer(from_logs)
                return None
            return from_logs()
        return self._record(inv, None, "missing", request_id, function_error, throttled, error_type,
                            client_ms, started)

    def _record(self, inv: PlannedInvocation, report: Report | None, source: str, request_id: str | None,
                function_error: str | None, throttled: bool, error_type: str | None, client_ms: float,
                started: datetime) -> InvocationRecord:
        point = inv.config
        if report is not None and report.error_type:
            error_type = report.error_type

        status = _status(report, function_error, throttled, error_type)
        cold = report.cold if report is not None else None
        mismatch = bool(inv.expect_cold is not None and cold is not None and cold != inv.expect_cold)
        cost = None
        if report is not None and report.billed_duration_ms is not None:
            try:
                cost = invocation_cost(
                    report.memory_size_mb or point.memory_mb, report.billed_duration_ms,
                    architecture=point.architecture, region=self.clients.target.region,
                    storage_mb=self.storage_mb,
                ).total_usd
            except UsageError:
                cost = None  # a region without a USD price list (China): analysis reports it unpriced
        elif throttled:
            cost = 0.0  # Lambda does not charge a throttled request
        return InvocationRecord(
            invocation_id=inv.invocation_id,
            memory_mb=point.memory_mb,
            timeout_s=point.timeout_s,
            architecture=point.architecture,
            scenario=inv.scenario,
            wave=inv.wave,
            request_id=request_id,
            status=status,
            cold=cold,
            warmup=inv.warmup,
            state_mismatch=mismatch,
            duration_ms=report.duration_ms if report else None,
            billed_duration_ms=report.billed_duration_ms if report else None,
            init_duration_ms=report.init_duration_ms if report else None,
            max_memory_used_mb=report.max_memory_used_mb if report else None,
            client_ms=round(client_ms, 3),
            cost_usd=cost,
            error_type=error_type,
            started_at=iso(started),
            function_error=function_error,
            payload_label=self.payloads.labels[inv.payload_index],
            payload_index=inv.payload_index,
            report_source=source,
            memory_size_mb=report.memory_size_mb if report else None,
            restore_duration_ms=report.restore_duration_ms if report else None,
            expect_cold=inv.expect_cold,
            host_limited=self._host_limited(inv, status),
            search_phase=inv.search_phase,
            search_step=inv.search_step,
        )

    def _host_limited(self, inv: PlannedInvocation, status: str) -> bool:
        """A burst sample whose wave asked the local host for more vCPUs than it has (a throttled one never ran)."""
        if inv.scenario != "burst" or status == "throttled" or host_cores(self.header) is None:
            return False
        concurrency = int(self.plan.scenarios[inv.scenario_index].get("concurrency") or 1)
        return host_limited(self.header, scenario=inv.scenario, concurrency=concurrency,
                            memory_mb=inv.config.memory_mb)

    def _write(self, record: InvocationRecord, *, sync: bool = True) -> None:
        with self._lock:
            record = dataclasses.replace(record, seq=self._seq)
            self._seq += 1
            self._done += 1
            if record.state_mismatch:
                self._mismatches += 1
            self._counts[record.status] = self._counts.get(record.status, 0) + 1
            if self.hooks is not None and self.hooks.has("after_each"):
                self._recorded[record.invocation_id] = record
            if self._writer is not None and not self._closed:
                self._writer.write_invocation(record, sync=sync)

    def _log_group(self) -> str:
        return self.prepared.log_group or f"/aws/lambda/{self._function_name()}"

    def report_from_logs(self, request_id: str, started: datetime) -> Report | None:
        """Find the REPORT of `request_id` in CloudWatch Logs, polling for ingestion delay (bounded).

        None when it is not there in time, or when CloudWatch Logs refuses the read (then the group is in
        `_logs_denied`, a `logs_unreadable` event is written once, and later calls do not ask again)."""
        group = self._log_group()
        if group in self._logs_denied:
            return None
        if self.prepared.log_format == "JSON":
            pattern = f'{{ $.type = "platform.report" && $.record.requestId = "{request_id}" }}'
        else:
            pattern = f'"{request_id}"'
        start_ms = int((started - timedelta(minutes=1)).timestamp() * 1000)
        deadline = self.clock() + self.logs_max_wait_s
        delay = LOGS_FIRST_DELAY_S
        while True:
            try:
                token = None
                while True:
                    kwargs = {"logGroupName": group, "filterPattern": pattern, "startTime": start_ms}
                    if token:
                        kwargs["nextToken"] = token
                    page = self.clients.logs.filter_log_events(**kwargs)
                    for event in page.get("events", []):
                        report = parse_report(event.get("message", ""))
                        if report is not None and report.request_id == request_id:
                            return report
                    token = page.get("nextToken")
                    if not token:
                        break
            except botocore.exceptions.ClientError as exc:
                # No log group yet (first invoke, ingestion lag): poll on. No permission: say so once,
                # by name (the records say "logs_denied"). Anything else (throttled Logs API): give up;
                # the record says report_source "missing".
                if _access_denied(exc):
                    self._logs_unreadable(group, exc)
                    return None
                if error_code(exc) != "ResourceNotFoundException":
                    return None
            except botocore.exceptions.BotoCoreError:
                return None
            if self.clock() + delay > deadline:
                return None
            self.sleep(delay)
            delay = min(delay * 2, 4.0)


    def _logs_unreadable(self, group: str, exc: botocore.exceptions.ClientError) -> None:
        parts = self.prepared.snapshot.function_arn.split(":")
        partition, account = (parts[1], parts[4]) if len(parts) > 4 else ("aws", "<account>")
        arn = f"arn:{partition}:logs:{self.clients.target.region}:{account}:log-group:{group}"
        message = (f"CloudWatch Logs refused to let this identity read {group} ({error_code(exc)}): "
                   f"{LOGS_READ_ACTION} is not granted, so invocations whose LogResult tail had no REPORT "
                   "line are recorded without Duration, Billed Duration or cost (report_source "
                   f"\"logs_denied\"); grant {LOGS_READ_ACTION} on {arn} (`lambdabench iam-policy` prints "
                   "the policy)")
        with self._lock:
            if group in self._logs_denied:
                return
            self._logs_denied[group] = message
            if self._writer is not None and not self._closed:
                self._writer.write_event("logs_unreadable", log_group=group, permission=LOGS_READ_ACTION,
                                         error=error_code(exc), message=message)


def _matching_report(text: str, request_id: str) -> Report | None:
    if not text:
        return None
    # The tail holds this invocation's log only, but take the REPORT line with our id to be sure.
    for line in reversed(text.splitlines()):
        if "REPORT" in line or "platform.report" in line:
            report = parse_report(line)
            if report is not None and report.request_id == request_id:
                return report
    report = parse_report(text)
    return report if report is not None and report.request_id == request_id else None


def _error_type_from_body(body: bytes) -> str | None:
    try:
        data = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(data, dict) and isinstance(data.get("errorType"), str):
        return data["errorType"]
    return None


def _status(report: Report | None, function_error: str | None, throttled: bool, error_type: str | None) -> str:
    return record_status(report.status if report is not None else None, function_error=function_error,
                         throttled=throttled, error_type=error_type)


# -- results header ----------------------------------------------------------------------------

def build_header(*, scenario: Any, plan: Plan, target: str, endpoint_url: str | None, region: str,
                 function_name: str, function_arn: str, emulator: dict[str, Any] | None,
                 original: FunctionConfig, started_at: datetime,
                 isolation: dict[str, Any] | None = None) -> dict[str, Any]:
    scenario_dict = _scenario_without_values(scenario.to_dict())
    scenario_dict.setdefault("name", scenario.name)
    scenario_dict.setdefault("path", str(scenario.path))
    return {
        "tool_version": __version__,
        "scenario": scenario_dict,
        "recommend": scenario_dict["recommend"],
        "target": target,
        "endpoint_url": endpoint_url,
        "region": region,
        "function_name": function_name,
        "function_arn": function_arn,
        "emulator": emulator,
        "started_at": iso(started_at),
        "original_config": _without_values(original.to_dict()),
        "plan": plan.to_header(),
        **({"isolation": isolation} if isolation else {}),
    }


def _without_values(config: dict[str, Any]) -> dict[str, Any]:
    """The results header keeps the environment's variable names only: values may be secrets, and
    results.jsonl is meant to be shared (CI artifacts)."""
    out = {k: v for k, v in config.items() if k != "environment"}
    out["environment_names"] = sorted(config.get("environment") or {})
    return out


def _scenario_without_values(scenario: dict[str, Any]) -> dict[str, Any]:
    """The scenario for the results header: [function] environment by variable names only."""
    function = dict(scenario.get("function") or {})
    if isinstance(function.get("environment"), dict):
        function["environment"] = sorted(function["environment"])
    return {**scenario, "function": function}


def check_resume(out_dir: Path, scenario: Any, plan: Plan, function: str) -> Snapshot:
    """Validate that `out_dir` holds an unfinished sweep of this scenario; return its snapshot."""
    from lambdabench.sweep.snapshot import read_snapshot

    results = read_results(out_dir)
    header = results.header
    theirs = dict(header.get("scenario") or {})
    ours = _scenario_without_values(scenario.to_dict())
    for d in (theirs, ours):
        d.pop("path", None)
    if json.loads(json.dumps(ours, default=str)) != json.loads(json.dumps(theirs, default=str)):
        raise UsageError(
            f"{out_dir}: that sweep ran a different scenario than {scenario.path}",
            "resume with the same scenario file (unchanged), or start a new sweep with --out",
        )
    if header.get("plan", {}).get("total_invocations") != plan.total_invocations:
        raise UsageError(f"{out_dir}: the plan differs from the one in results.jsonl",
                         "resume with the same scenario file and options")
    if any(e.get("event") == "completed" for e in results.events):
        raise UsageError(f"{out_dir}: that sweep is already complete",
                         f"run `lambdabench report {out_dir}` to re-render it")
    snapshot = read_snapshot(out_dir)
    if snapshot.function_name != function and snapshot.function_arn != function:
        raise UsageError(f"{out_dir}: that sweep ran on {snapshot.function_name!r}, not {function!r}",
                         "resume against the same function")
    return snapshot


__all__ = [
    "Driver",
    "PayloadSet",
    "Prepared",
    "SweepOutcome",
    "build_header",
    "changes_summary",
    "check_resume",
    "prepare",
    "run_released",
]
