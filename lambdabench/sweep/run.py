"""One sweep from scenario to results folder: pick the target, check, confirm, drive, restore, analyse.

The CLI's `sweep` command calls `run_sweep` and `restore_from_dir`; this module holds the order of
work so the command stays thin:
local target → emulator + function created from the scenario's code; aws target → the existing
function (name or ARN) through the standard credential chain or `--endpoint-url`. In both cases
everything is validated and the function read *before* the first change, and the changes are
confirmed (aws) through the `confirm` callback the CLI passes in.
"""

from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, ContextManager, Iterator

from lambdabench.arns import parse_function
from lambdabench.errors import RunError, UsageError
from lambdabench.sweep import isolation as iso
from lambdabench.sweep.clients import Clients, make_clients
from lambdabench.sweep.hooks import HookRunner, describe as describe_hooks
from lambdabench.sweep.driver import (
    Driver,
    PayloadSet,
    SweepOutcome,
    build_header,
    changes_summary,
    check_resume,
    prepare,
)
from lambdabench.sweep.plan import Plan, build_plan
from lambdabench.sweep.snapshot import (
    CODE_FILE,
    RestoreOutcome,
    differences,
    fix_hint,
    read_config,
    read_snapshot,
    restore,
)

# Waiter polling: AWS documents updates taking seconds, so poll each second there; the local
# emulator finishes an update in milliseconds.
AWS_WAIT_DELAY_S = 1.0
LOCAL_WAIT_DELAY_S = 0.05


@dataclass(frozen=True)
class SweepOptions:
    target: str | None = None  # local | aws; None: the scenario's [target] kind
    out_dir: Path | None = None
    resume_dir: Path | None = None
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    reports_root: Path = Path("reports")  # default OUT parent (relative to the current directory)
    logs_max_wait_s: float = 30.0  # CloudWatch ingestion wait when the LogResult tail has no REPORT
    isolation: str | None = None  # copy | in-place (aws target); None: the scenario's, else copy
    accept_live_traffic: bool = False  # in-place on a function with triggers/URLs/aliases/principals
    assume_yes: bool = False  # --yes: needed as well as accept_live_traffic
    wake_inactive: bool = False  # in place: wake an Inactive function (one invoke) instead of refusing
    # The sweep's arguments as typed (scenario file and flags), for the hints that repeat them.
    arguments: str | None = None


@dataclass(frozen=True)
class SweepRun:
    outcome: SweepOutcome
    plan: Plan
    target: str


def default_out_dir(name: str, now: datetime, root: Path = Path("reports")) -> Path:
    return root / f"{name}-{now.astimezone(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}"


def target_kind(scenario: Any, options: SweepOptions) -> str:
    kind = options.target or scenario.target.kind or "local"
    if kind not in ("local", "aws", "replay"):
        raise UsageError(f"unknown target {kind!r}", "use --target local or --target aws")
    if kind == "replay" and scenario.target.samples is None:
        raise UsageError(f"{scenario.path}: the replay target needs [target] samples",
                         "set [target] kind = \"replay\" and samples = \"file.csv\" in the scenario")
    if kind in ("local", "replay") and (options.profile or options.endpoint_url):
        raise UsageError("--profile and --endpoint-url apply to the aws target only",
                         "add --target aws to sweep an existing function at that endpoint")
    return kind


def isolation_mode(scenario: Any, options: SweepOptions, kind: str) -> str | None:
    """copy | in-place for the aws target; None for the local target (it creates its own function)."""
    if kind in ("local", "replay"):
        if options.isolation:
            raise UsageError(f"--{options.isolation} applies to the aws target only",
                             "the local target creates its own function from [function] code, so there is "
                             "nothing of yours to isolate; drop the option")
        return None
    return options.isolation or scenario.target.isolation or iso.COPY


def payload_set(scenario: Any) -> PayloadSet:
    payloads = scenario.sweep.payloads
    return PayloadSet(bodies=tuple(p.body for p in payloads), labels=tuple(p.label for p in payloads))


def run_sweep(
    scenario: Any,
    options: SweepOptions,
    *,
    confirm: Callable[[list[str]], None],
    progress: Callable[[int, int, str], None] | None = None,
    shield: Callable[[], ContextManager[Any]] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
) -> SweepRun:
    """Run (or resume) a sweep. `confirm(lines)` raises to refuse; it is called only for the aws target."""
    kind = target_kind(scenario, options)
    started = now()
    resume = options.resume_dir is not None
    out_dir = Path(options.resume_dir or options.out_dir or default_out_dir(scenario.name, started,
                                                                            options.reports_root))
    if not resume and (out_dir / "results.jsonl").exists():
        raise UsageError(f"{out_dir} already holds a sweep",
                         f"choose another --out, or finish that sweep with --resume {out_dir}")

    mode = isolation_mode(scenario, options, kind)
    hooks = getattr(scenario, "hooks", None)
    if kind in ("local", "replay") and hooks is not None and any(h.function for _, h in hooks.items()):
        raise UsageError(f"{scenario.path}: [hooks] names a Lambda function, which the {kind} target cannot "
                         "invoke (it holds only the function under test)",
                         "sweep with --target aws (--endpoint-url reaches `lambdabench serve`), or use command "
                         "hooks")
    if kind == "replay":
        return _run_replay(scenario, options, out_dir, started, resume=resume, progress=progress, shield=shield)
    run_id = iso.new_run_id()
    if resume and kind == "aws":
        saved = read_snapshot(out_dir)
        if options.isolation and options.isolation != saved.isolation:
            raise UsageError(f"{out_dir} is a {saved.isolation} sweep; it cannot be resumed {options.isolation}",
                             f"resume without --{options.isolation}")
        mode, run_id = saved.isolation, saved.run_id or run_id

    with _target(scenario, kind, options) as (clients, function, code_zip, emulator, wait_delay):
        plan_probe = build_plan(scenario, default_architecture=scenario.function.architecture)
        prepared = prepare(clients, function, plan_probe, code_zip=code_zip, taken_at=_iso(started),
                           isolation=mode or iso.IN_PLACE, run_id=run_id if mode == iso.COPY else "",
                           wait_delay_s=wait_delay, wake_inactive=options.wake_inactive)
        architecture = prepared.snapshot.config.architecture
        plan = sweep_plan(scenario, architecture)
        if resume:
            previous = check_resume(out_dir, scenario, plan, function)
            if kind == "aws" and mode == iso.IN_PLACE:
                # The function may still be in a mid-sweep state (kill -9): the original is the one on disk.
                saved_code = (out_dir / CODE_FILE).read_bytes() if (out_dir / CODE_FILE).exists() else None
                # ...but the RevisionId to carry is the one it has now.
                prepared = dataclasses.replace(
                    prepared, snapshot=dataclasses.replace(previous, revision_id=prepared.snapshot.revision_id),
                    code_zip=saved_code or prepared.code_zip)
            elif kind == "aws":
                prepared = dataclasses.replace(prepared, snapshot=dataclasses.replace(
                    previous, config=dataclasses.replace(previous.config,
                                                         environment=prepared.snapshot.config.environment)))
        evidence: list[str] = []
        if kind == "aws":
            lines = changes_summary(prepared, plan, _search_description(scenario))
            if mode == iso.IN_PLACE:
                evidence = iso.live_traffic(clients, function)
                if evidence and not (options.accept_live_traffic and options.assume_yes):
                    raise UsageError(
                        f"{prepared.snapshot.function_arn} serves live traffic, which an in-place sweep would "
                        "run at the sweep's memory and timeout:\n    " + "\n    ".join(evidence),
                        "sweep a disposable copy instead (drop --in-place), or add --accept-live-traffic --yes")
                lines += [f"  live traffic: {e}" for e in evidence]
            else:
                lines += _concurrency_warning(clients, scenario)
            lines += side_effects_notice(prepared, plan, scenario, options.arguments or str(scenario.path))
            confirm(lines)
            if mode == iso.COPY and resume:
                _delete_leftovers(clients, prepared.snapshot)
            if mode == iso.IN_PLACE and prepared.state == "Inactive":
                prepared = _woken(clients, function, prepared, scenario, wait_delay, check=not resume)
        header = build_header(
            scenario=scenario, plan=plan, target=kind, endpoint_url=clients.target.endpoint_url,
            region=clients.target.region, function_name=prepared.function_name,
            function_arn=prepared.snapshot.function_arn, emulator=emulator,
            original=prepared.snapshot.config, started_at=started,
            isolation=_isolation_header(mode, run_id, evidence),
        )
        driver = Driver(
            clients, prepared, plan, payload_set(scenario), out_dir, header,
            storage_mb=prepared.snapshot.config.ephemeral_storage_mb, resume=resume, progress=progress,
            shield=shield, wait_delay_s=wait_delay, logs_max_wait_s=options.logs_max_wait_s,
            hooks=_hook_runner(scenario, clients),
            executor=_executor(scenario, architecture, clients.target.region),
        )
        outcome = driver.run()
    return SweepRun(outcome=outcome, plan=plan, target=kind)


def side_effects_notice(prepared: Any, plan: Plan, scenario: Any, arguments: str) -> list[str]:
    """The confirmation's plain statement of what running the function means, hooks included
    (`arguments`: the sweep's, to name the dry run that shows the plan)."""
    copies = prepared.copies
    arn = copies.configuration.get("Role") if copies is not None else None
    role = f"the function's own role {arn}" if arn else "the function's own role"
    payloads = scenario.sweep.payloads
    shown = "; ".join(f"{p.label}: {_preview(p.body)}" for p in payloads[:3])
    if len(payloads) > 3:
        shown += f"; and {len(payloads) - 3} more"
    which = "the copies run" if copies is not None else "the function runs"
    if scenario.sweep.adaptive:
        from lambdabench.sweep.adaptive import most_invocations

        times = f"up to {most_invocations(scenario)}"
    else:
        times = str(plan.total_invocations)
    lines = [
        f"  side effects: {which} {times} times with "
        f"{'this payload' if len(payloads) == 1 else 'these payloads'} ({shown}) under {role}, doing whatever "
        "the code does to its downstreams (writes, messages, calls to other services): make the handler "
        "idempotent or point it at test resources",
        f"  to see the plan without running anything: lambdabench sweep {arguments} --dry-run",
    ]
    hooks = getattr(scenario, "hooks", None)
    return lines + [f"  {line}" for line in describe_hooks(hooks)]


def _preview(body: bytes, limit: int = 120) -> str:
    text = body.decode("utf-8", errors="replace")
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _woken(clients: Clients, function: str, prepared: Any, scenario: Any, wait_delay: float, *,
           check: bool = True) -> Any:
    """Wake the Inactive function (with the sweep's first payload) and carry its RevisionId from then on.

    `check`: the woken function must still be the one read before the confirmation (not on --resume,
    where the snapshot is the original and the function may be mid-sweep)."""
    from lambdabench.sweep.snapshot import FunctionConfig, ForeignChange

    awake = iso.wake(clients, function, payload_set(scenario).bodies[0], delay_s=wait_delay)
    found = FunctionConfig.from_api(awake)
    if check and found != prepared.snapshot.config:
        raise ForeignChange(f"{function} was changed by someone else while it was woken",
                            "nothing was changed by the sweep; run again to sweep what is there now")
    return dataclasses.replace(prepared, state="Active",
                               snapshot=dataclasses.replace(prepared.snapshot, revision_id=awake.get("RevisionId")))


def _search_description(scenario: Any) -> str | None:
    if not scenario.sweep.adaptive:
        return None
    from lambdabench.sweep.adaptive import describe

    return describe(scenario)


def _hook_runner(scenario: Any, clients: Clients | None) -> HookRunner | None:
    """The scenario's [hooks], run with the target's Invoke client (None: command hooks only)."""
    hooks = getattr(scenario, "hooks", None)
    if hooks is None:
        return None
    return HookRunner(hooks, invoke_client=None if clients is None else clients.invoke,
                      base_dir=Path(scenario.path).parent, scenario_name=scenario.name,
                      scenario_path=str(scenario.path))


def sweep_plan(scenario: Any, architecture: str) -> Plan:
    """The plan a sweep starts from: the grid's; for an adaptive sweep no point is planned ahead (the
    search decides as it goes, sweep/adaptive.py), so the plan carries only the scenarios."""
    if scenario.sweep.adaptive:
        scenario = dataclasses.replace(scenario, sweep=dataclasses.replace(scenario.sweep, memory_mb=()))
    return build_plan(scenario, default_architecture=architecture)


def _executor(scenario: Any, architecture: str, region: str,
              available_mb: tuple[int, ...] | None = None) -> Any:
    if not scenario.sweep.adaptive:
        return None
    from lambdabench.sweep.adaptive import AdaptiveSweep

    return AdaptiveSweep(scenario, architecture=architecture, region=region, available_mb=available_mb)


def _run_replay(scenario: Any, options: SweepOptions, out_dir: Path, started: datetime, *, resume: bool,
                progress: Callable[[int, int, str], None] | None,
                shield: Callable[[], ContextManager[Any]] | None) -> SweepRun:
    """A sweep of recorded samples (sweep/replay.py): the same Driver, nothing deployed or restored."""
    from lambdabench.sweep.replay import ReplayDriver, replay_target

    target = replay_target(scenario)
    architecture = scenario.function.architecture
    plan = sweep_plan(scenario, architecture)
    prepared = target.prepared(scenario, _iso(started))
    if resume:
        previous = check_resume(out_dir, scenario, plan, target.function_name)
        prepared = dataclasses.replace(prepared, snapshot=previous)
    header = build_header(
        scenario=scenario, plan=plan, target="replay", endpoint_url=None, region=target.clients.target.region,
        function_name=target.function_name, function_arn=prepared.snapshot.function_arn, emulator=None,
        original=prepared.snapshot.config, started_at=started,
    )
    driver = ReplayDriver(
        target, prepared, plan, payload_set(scenario), out_dir, header,
        storage_mb=prepared.snapshot.config.ephemeral_storage_mb, resume=resume, progress=progress, shield=shield,
        wait_delay_s=0.0, hooks=_hook_runner(scenario, clients=None), executor=_executor(scenario, architecture, target.clients.target.region,
                                             available_mb=target.sizes_mb),
    )
    return SweepRun(outcome=driver.run(), plan=plan, target="replay")


def _isolation_header(mode: str | None, run_id: str, evidence: list[str]) -> dict[str, Any] | None:
    if mode is None:
        return None
    if mode == iso.COPY:
        return {"mode": mode, "run_id": run_id, "cannot_reproduce": iso.COPY_LIMITS}
    return {"mode": mode, "cannot_reproduce": iso.IN_PLACE_LIMITS, "live_traffic": evidence}


def _concurrency_warning(clients: Clients, scenario: Any) -> list[str]:
    burst = max([0] + [s.concurrency for s in scenario.scenarios if s.kind == "burst"])
    unreserved = iso.unreserved_concurrency(clients) if burst else None
    if unreserved is not None and burst > unreserved:
        return [f"  warning: a burst of {burst} exceeds the account's {unreserved} unreserved concurrent "
                "executions in this region: the excess is throttled (recorded as throttled, not retried)"]
    return []


def _recorded_copies(clients: Clients, snapshot: Any) -> list[iso.SweepCopy]:
    """The copies the copy-mode sweep recorded in `snapshot` (its run id, source and architecture) left."""
    if not snapshot.run_id:
        return []
    arn = snapshot.function_arn
    source = arn.split(":")[6] if arn.startswith("arn:") and arn.count(":") >= 6 else snapshot.function_name
    return iso.recorded_copies(clients, source, snapshot.run_id, snapshot.config.architecture)


def _delete_leftovers(clients: Clients, snapshot: Any, copies: list[iso.SweepCopy] | None = None) -> list[str]:
    problems: list[str] = []
    for leftover in _recorded_copies(clients, snapshot) if copies is None else copies:
        problems.extend(iso.delete_function_and_logs(clients, leftover.name))
    return problems


def _region(scenario: Any, options: SweepOptions) -> str | None:
    """The region to use: a full ARN names it; a different --region/[target] region is a mistake."""
    given = options.region or scenario.target.region
    ref = parse_function(scenario.function.name)
    if ref is None or ref.region is None:
        return given
    if given and given != ref.region:
        source = "--region" if options.region else "[target] region"
        raise UsageError(f"the function ARN is in {ref.region}, but {source} says {given}",
                         f"drop {source} (the ARN's region is used), or give the ARN of the function in {given}")
    return ref.region


@contextmanager
def _target(scenario: Any, kind: str, options: SweepOptions) -> Iterator[tuple[Clients, str, bytes | None,
                                                                               dict | None, float]]:
    max_timeout = max(scenario.sweep.timeout_s)
    pool = max([1] + [s.concurrency for s in scenario.scenarios if s.kind == "burst"])
    if kind == "local":
        from lambdabench.sweep.local import local_function

        with local_function(scenario, pool_size=pool, max_timeout_s=max_timeout) as local:
            yield local.clients, local.function_name, local.code_zip, local.emulator_info, LOCAL_WAIT_DELAY_S
        return
    clients = make_clients(
        "aws",
        region=_region(scenario, options),
        profile=options.profile or scenario.target.profile,
        endpoint_url=options.endpoint_url or scenario.target.endpoint_url,
        pool_size=pool,
        max_timeout_s=max_timeout,
    )
    yield clients, scenario.function.name, None, None, AWS_WAIT_DELAY_S


def _iso(ts: datetime) -> str:
    return ts.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def check_restore(outcome: SweepOutcome) -> None:
    """Raise RunError (exit 1) when the function was not put back exactly."""
    if outcome.restore_error:
        raise RunError(
            f"restoring the function failed: {outcome.restore_error}",
            f"run `lambdabench restore {outcome.out_dir}` once the cause is fixed",
        )
    if outcome.restore is not None and not outcome.restore.ok:
        raise RunError(
            "the function differs from its original configuration after restore:\n    "
            + "\n    ".join(outcome.restore.differences),
            fix_hint(outcome.restore, outcome.out_dir),
        )


def restore_state(out_dir: Path) -> str:
    """One phrase saying whether the sweep in `out_dir` put its function back (from its last event)."""
    from lambdabench.results import read_results

    try:
        results = read_results(out_dir)
    except UsageError:
        return "nothing was changed"
    if results.header.get("target") == "replay":
        return "nothing was changed (a replay deploys nothing)"
    events = [e for e in results.events if e.get("event") in ("restored", "restore_failed", "own_changes_undone")]
    if not events:
        return "the function may not be restored: run `lambdabench restore` on the output folder"
    last = events[-1]
    if last["event"] == "restore_failed" and "copies_deleted" in last:
        return ("deleting the sweep's copies FAILED (" + "; ".join(last.get("differences") or [])
                + "): run `lambdabench restore` on the output folder, or `lambdabench cleanup`")
    if last["event"] == "own_changes_undone":
        return "another writer changed the function: the sweep undid its own changes and kept theirs"
    if last["event"] == "restored":
        if "copies_deleted" in last:
            return "the sweep's copies were deleted; the original function was never changed"
        return "the function was restored to its original configuration"
    return ("restoring the function FAILED (" + "; ".join(last.get("differences") or [last.get("error", "")])
            + "): run `lambdabench restore` on the output folder")


# -- lambdabench restore DIR -----------------------------------------------------------------

@dataclass(frozen=True)
class RestoreReport:
    target: str
    function: str
    outcome: RestoreOutcome | None  # None: local target, nothing to restore
    isolation: str = "in-place"


def restore_from_dir(out_dir: Path, *, profile: str | None = None, region: str | None = None,
                     endpoint_url: str | None = None, force: bool = False) -> RestoreReport:
    """Put the function of a sweep back from OUT/original_config.json. Raises RunError on a difference.

    In place, a field another writer changed since the sweep's last write is kept (the sweep's own
    changes are undone, theirs listed, exit 1) unless `force` puts the whole snapshot back."""
    from lambdabench.results import ResultsWriter, results_path

    snapshot = read_snapshot(out_dir)
    if snapshot.target.kind in ("local", "replay"):
        return RestoreReport(target=snapshot.target.kind, function=snapshot.function_name, outcome=None)
    target = snapshot.target
    clients = make_clients(
        "aws",
        region=region or target.region,
        profile=profile or target.profile,
        endpoint_url=endpoint_url or target.endpoint_url,
    )
    if snapshot.isolation == iso.COPY:
        outcome = _delete_run_copies(clients, snapshot)
    else:
        if not force:
            other = _undo_if_foreign(clients, snapshot, Path(out_dir))
            if other:
                raise RunError(
                    f"{snapshot.function_name} was changed by someone else since the sweep's last write; the "
                    "sweep's own changes were undone, theirs kept:\n    " + "\n    ".join(other),
                    f"to put the whole snapshot back anyway: lambdabench restore --force {out_dir}")
        code_file = Path(out_dir) / CODE_FILE
        code_zip = code_file.read_bytes() if code_file.exists() else None
        outcome = restore(clients, snapshot, code_zip=code_zip, wait_delay_s=AWS_WAIT_DELAY_S)
    results = results_path(out_dir)
    if results.exists():
        with ResultsWriter(results) as writer:
            if outcome.ok:
                writer.write_event("restored", by="lambdabench restore", duration_ms=round(outcome.duration_ms, 3),
                                   changed=outcome.changed)
            else:
                writer.write_event("restore_failed", by="lambdabench restore",
                                   differences=list(outcome.differences))
    if not outcome.ok:
        raise RunError(
            f"{snapshot.function_name} still differs from its original configuration:\n    "
            + "\n    ".join(outcome.differences),
            fix_hint(outcome, out_dir) if snapshot.isolation != iso.COPY
            else "run `lambdabench cleanup` to list and delete the sweep's copies",
        )
    return RestoreReport(target="aws", function=snapshot.function_name, outcome=outcome,
                         isolation=snapshot.isolation)


def _undo_if_foreign(clients: Clients, snapshot: Any, out_dir: Path) -> list[str]:
    """Another writer's fields since the sweep's last configuration (empty: the plain restore applies)."""
    from lambdabench.results import read_results
    from lambdabench.sweep.snapshot import NONCE_VARIABLE, Written, undo_own_changes

    try:
        applied = [e for e in read_results(out_dir).events if e.get("event") == "config_applied"]
    except UsageError:
        applied = []
    if not applied:
        return []
    point = applied[-1].get("config") or {}
    original = snapshot.config
    written = Written(memory_mb=int(point.get("memory_mb", original.memory_mb)),
                      timeout_s=int(point.get("timeout_s", original.timeout_s)),
                      ephemeral_storage_mb=original.ephemeral_storage_mb,
                      architecture=str(point.get("architecture") or original.architecture))
    current = read_config(clients, snapshot.function_name)
    env = dict(current.env)
    env.pop(NONCE_VARIABLE, None)
    ours = (current.memory_mb in (written.memory_mb, original.memory_mb)
            and current.timeout_s in (written.timeout_s, original.timeout_s)
            and current.ephemeral_storage_mb == original.ephemeral_storage_mb and env == original.env
            and current.architecture in (written.architecture, original.architecture))
    if ours:
        return []
    other, _ = undo_own_changes(clients, snapshot.function_name, original, written, nonce_variable=NONCE_VARIABLE,
                                wait_delay_s=AWS_WAIT_DELAY_S)
    return other or ["(a change the sweep did not make)"]


def _delete_run_copies(clients: Clients, snapshot: Any) -> RestoreOutcome:
    """A copy-mode sweep's leftovers (kill -9): delete its copies, found by the names its run id gives them
    and checked by tag; the original was never changed."""
    import time

    start = time.perf_counter()
    copies = _recorded_copies(clients, snapshot)
    problems = _delete_leftovers(clients, snapshot, copies)
    found = read_config(clients, snapshot.function_name)
    expected = dataclasses.replace(snapshot.config, environment=())
    found = dataclasses.replace(found, environment=())
    return RestoreOutcome(function_name=snapshot.function_name, restored=snapshot.config, found=found,
                          differences=tuple(problems) + tuple(differences(expected, found)),
                          duration_ms=(time.perf_counter() - start) * 1000.0, changed=bool(copies),
                          deleted_copies=tuple(c.name for c in copies))


def cleanup_candidates(clients: Clients) -> list[iso.SweepCopy]:
    """Every function tagged lambdabench:sweep in the clients' account and region (tag:GetResources)."""
    return iso.sweep_copies(clients)


def delete_copies(clients: Clients, copies: list[iso.SweepCopy]) -> list[str]:
    """Delete the given copies with their log groups; returns the problems (empty: all gone)."""
    problems: list[str] = []
    for copy in copies:
        problems.extend(iso.delete_function_and_logs(clients, copy.name))
    return problems


__all__ = ["SweepOptions", "SweepRun", "cleanup_candidates", "delete_copies", "isolation_mode", "run_sweep",
           "restore_from_dir", "restore_state",
           "check_restore", "default_out_dir", "target_kind"]
