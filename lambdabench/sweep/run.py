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

from lambdabench.errors import RunError, UsageError
from lambdabench.sweep.clients import Clients, make_clients
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
from lambdabench.sweep.snapshot import CODE_FILE, RestoreOutcome, fix_hint, read_snapshot, restore

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


@dataclass(frozen=True)
class SweepRun:
    outcome: SweepOutcome
    plan: Plan
    target: str


def default_out_dir(name: str, now: datetime, root: Path = Path("reports")) -> Path:
    return root / f"{name}-{now.astimezone(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}"


def target_kind(scenario: Any, options: SweepOptions) -> str:
    kind = options.target or scenario.target.kind or "local"
    if kind not in ("local", "aws"):
        raise UsageError(f"unknown target {kind!r}", "use --target local or --target aws")
    if kind == "local" and (options.profile or options.endpoint_url):
        raise UsageError("--profile and --endpoint-url apply to the aws target only",
                         "add --target aws to sweep an existing function at that endpoint")
    return kind


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

    with _target(scenario, kind, options) as (clients, function, code_zip, emulator, wait_delay):
        plan_probe = build_plan(scenario, default_architecture=scenario.function.architecture)
        prepared = prepare(clients, function, plan_probe, code_zip=code_zip, taken_at=_iso(started))
        architecture = prepared.snapshot.config.architecture
        plan = build_plan(scenario, default_architecture=architecture)
        if resume:
            previous = check_resume(out_dir, scenario, plan, function)
            if kind == "aws":
                # The function may still be in a mid-sweep state (kill -9): the original is the one on disk.
                saved_code = (out_dir / CODE_FILE).read_bytes() if (out_dir / CODE_FILE).exists() else None
                prepared = dataclasses.replace(prepared, snapshot=previous,
                                               code_zip=saved_code or prepared.code_zip)
        if kind == "aws":
            confirm(changes_summary(prepared, plan))
        header = build_header(
            scenario=scenario, plan=plan, target=kind, endpoint_url=clients.target.endpoint_url,
            region=clients.target.region, function_name=prepared.function_name,
            function_arn=prepared.snapshot.function_arn, emulator=emulator,
            original=prepared.snapshot.config, started_at=started,
        )
        driver = Driver(
            clients, prepared, plan, payload_set(scenario), out_dir, header,
            storage_mb=prepared.snapshot.config.ephemeral_storage_mb, resume=resume, progress=progress,
            shield=shield, wait_delay_s=wait_delay, logs_max_wait_s=options.logs_max_wait_s,
        )
        outcome = driver.run()
    return SweepRun(outcome=outcome, plan=plan, target=kind)


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
        region=options.region or scenario.target.region,
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
            fix_hint(outcome.restore),
        )


def restore_state(out_dir: Path) -> str:
    """One phrase saying whether the sweep in `out_dir` put its function back (from its last event)."""
    from lambdabench.results import read_results

    try:
        events = [e for e in read_results(out_dir).events if e.get("event") in ("restored", "restore_failed")]
    except UsageError:
        return "nothing was changed"
    if not events:
        return "the function may not be restored: run `lambdabench restore` on the output folder"
    last = events[-1]
    if last["event"] == "restored":
        return "the function was restored to its original configuration"
    return ("restoring the function FAILED (" + "; ".join(last.get("differences") or [last.get("error", "")])
            + "): run `lambdabench restore` on the output folder")


# -- lambdabench restore DIR -----------------------------------------------------------------

@dataclass(frozen=True)
class RestoreReport:
    target: str
    function: str
    outcome: RestoreOutcome | None  # None: local target, nothing to restore


def restore_from_dir(out_dir: Path, *, profile: str | None = None, region: str | None = None,
                     endpoint_url: str | None = None) -> RestoreReport:
    """Put the function of a sweep back from OUT/original_config.json. Raises RunError on a difference."""
    from lambdabench.results import ResultsWriter, results_path

    snapshot = read_snapshot(out_dir)
    if snapshot.target.kind == "local":
        return RestoreReport(target="local", function=snapshot.function_name, outcome=None)
    target = snapshot.target
    clients = make_clients(
        "aws",
        region=region or target.region,
        profile=profile or target.profile,
        endpoint_url=endpoint_url or target.endpoint_url,
    )
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
            fix_hint(outcome),
        )
    return RestoreReport(target="aws", function=snapshot.function_name, outcome=outcome)


def write_outputs(out_dir: Path, *, verbose: bool = False,
                  recommend: dict | None = None) -> tuple[str | None, list[Path], list[str]]:
    """Analyse the results and write summary.csv, report.json and the HTML report.

    Returns (console summary, written paths, notes about parts not available). The analysis and the
    report are helpers F's and G's modules; a missing one is reported, never replaced here.
    """
    from lambdabench.results import read_results

    notes: list[str] = []
    paths: list[Path] = []
    summary: str | None = None
    try:
        from lambdabench.analysis import analyze
    except ImportError as exc:
        return None, paths, [f"analysis not available ({exc}); results are in {out_dir / 'results.jsonl'}"]
    analysis = analyze(read_results(out_dir), recommend=recommend)
    try:
        from lambdabench.analysis.export import write_outputs as export
        written = export(analysis, out_dir)
        if isinstance(written, (list, tuple)):
            paths.extend(Path(p) for p in written)
    except ImportError as exc:
        notes.append(f"summary.csv/report.json not written ({exc})")
    try:
        from lambdabench.report import write_report
        paths.append(Path(write_report(analysis, out_dir)))
    except ImportError as exc:
        notes.append(f"HTML report not written ({exc})")
    try:
        from lambdabench.report.console import render_summary
        summary = render_summary(analysis, verbose=verbose)
    except ImportError as exc:
        notes.append(f"console summary not available ({exc})")
    return summary, paths, notes


__all__ = ["SweepOptions", "SweepRun", "run_sweep", "restore_from_dir", "restore_state", "write_outputs",
           "check_restore", "default_out_dir", "target_kind"]
