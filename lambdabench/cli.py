"""Command line: click commands only. Parse arguments, call the library, print.

Results go to stdout, progress and warnings to stderr. Errors raised by the library
(`lambdabench.errors`) become a clear message and an exit status (2 bad usage, 1 run
failure) with no traceback unless `--debug` is given; any other exception is one line naming the
command that failed, exit 1 (its traceback only with `--debug`).
"""

from __future__ import annotations

import sys

import click

from lambdabench import __version__, scenario_flags
from lambdabench.emulator.resources import CPU_LIMIT_CHOICES
from lambdabench.errors import LambdabenchError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lambdabench")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Tune AWS Lambda functions: sweep memory and timeout, measure, price, recommend."""
    ctx.obj = {"debug": debug}


def fail(message: str, hint: str | None = None, status: int = 2) -> None:
    """Print an error the way every command does and exit with `status`."""
    click.echo(f"error: {message}", err=True)
    if hint:
        click.echo(f"  hint: {hint}", err=True)
    sys.exit(status)


# --- commands -------------------------------------------------------------------
# Each command lives below, in the order of the README. Keep bodies thin: the work
# belongs in the library modules.

# [commands:parse]


@cli.command("parse")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default=None,
              help="Output format (default: csv table; with --summary: a text block).")
@click.option("--summary", is_flag=True,
              help="Print per-memory statistics (count, cold share, p50/p95/p99, max memory, cost) instead of the table.")
@click.option("--arch", "architecture", type=click.Choice(["x86_64", "arm64"]), default="x86_64",
              show_default=True, help="Architecture used to price the summary.")
@click.option("--region", default="us-east-1", show_default=True, help="Region used to price the summary.")
@click.option("--price-gb-s", type=float, default=None,
              help="Duration price per GB-second, for a region without a price table.")
def parse_command(files: tuple[str, ...], fmt: str | None, summary: bool, architecture: str, region: str,
                  price_gb_s: float | None) -> None:
    """REPORT records from Lambda logs to a table.

    FILE may be plain text logs, `aws logs tail` or `sam logs` output, filter_log_events /
    get_log_events JSON, the CloudWatch console CSV export, or a .gz of any; `-` reads stdin.
    """
    from lambdabench import logfiles

    if summary:
        logfiles.check_pricing(architecture, region, price_gb_s)
    out = click.get_text_stream("stdout")
    stdin = click.get_binary_stream("stdin")
    all_stats: list[logfiles.ReadStats] = []
    reports = []
    table = None if summary else logfiles.TableWriter(out, fmt or "csv")
    for path in files:
        stats = logfiles.ReadStats(path)
        if table is not None:
            table.write_batches(logfiles.iter_file_rows(path, stats, stdin=stdin))
        else:
            reports.extend(f.report for f in logfiles.iter_file_reports(path, stats, stdin=stdin))
        all_stats.append(stats)
        click.echo(f"{stats.source}: {stats.describe()}", err=True)
    if table is not None:
        table.close()
    if not any(s.reports for s in all_stats):
        click.echo("warning: no REPORT records found", err=True)
        click.echo("  hint: pass Lambda logs (the /aws/lambda/<function> log group), not application output",
                   err=True)
    if summary:
        summaries = logfiles.summarize(reports, architecture=architecture, region=region, price_gb_s=price_gb_s)
        for text in logfiles.format_summaries(summaries, fmt or "text"):
            out.write(text)


# [commands:price]


@cli.command("price")
@click.option("--memory", "memory_mb", type=int, required=True, help="Configured memory in MB (128-10240).")
@click.option("--billed-ms", "billed_duration_ms", type=int, required=True,
              help="Billed Duration from the REPORT line, in ms (already includes Init on cold starts).")
@click.option("--arch", "architecture", type=click.Choice(["x86_64", "arm64"]), default="x86_64",
              show_default=True, help="Function architecture.")
@click.option("--region", default="us-east-1", show_default=True, help="AWS region whose list prices apply.")
@click.option("--storage-mb", type=int, default=512, show_default=True,
              help="Configured ephemeral storage in MB; above 512 MB it is charged.")
@click.option("--price-gb-s", type=float, default=None,
              help="Duration price in USD per GB-second, instead of the region's list price.")
@click.option("--per-month", "per_month", type=int, default=None, metavar="N",
              help="Also project N such invocations per month (duration tiers applied).")
@click.option("--free-tier", is_flag=True, help="Apply the monthly free tier to the --per-month projection.")
@click.option("--cold-share", type=float, default=None, metavar="S",
              help="With --per-month: this share (0..1) of the month's invocations start cold.")
@click.option("--cold-billed-ms", "cold_billed_ms", type=float, default=None, metavar="MS",
              help="With --cold-share: Billed Duration of a cold invocation (Init included; a mean may be "
                   "fractional).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
def price_command(memory_mb: int, billed_duration_ms: int, architecture: str, region: str, storage_mb: int,
                  price_gb_s: float | None, per_month: int | None, free_tier: bool, as_json: bool,
                  cold_share: float | None = None, cold_billed_ms: float | None = None) -> None:
    """What one invocation costs (and, with --per-month, a month of them), in USD list prices.

    Cost = memory/1024 x billed ms/1000 x price per GB-s + $0.20 per million requests
    (+ ephemeral storage above 512 MB). Pass Billed Duration, never Duration + Init Duration.
    """
    import json

    from lambdabench import pricing
    from lambdabench.errors import UsageError

    if free_tier and per_month is None:
        raise UsageError("--free-tier applies to the monthly projection only",
                         "add --per-month N, e.g. --per-month 1000000")
    if (cold_share is not None or cold_billed_ms is not None) and per_month is None:
        raise UsageError("--cold-share and --cold-billed-ms apply to the monthly projection only",
                         "add --per-month N, e.g. --per-month 1000000")
    if (cold_share is None) != (cold_billed_ms is None):
        raise UsageError("--cold-share and --cold-billed-ms go together",
                         "pass both: the share of cold starts and what one of them bills")
    cost = pricing.invocation_cost(memory_mb, billed_duration_ms, architecture=architecture, region=region,
                                   storage_mb=storage_mb, price_gb_s=price_gb_s)
    month = None
    if per_month is not None:
        month = pricing.monthly_cost(per_month, memory_mb, billed_duration_ms, architecture=architecture,
                                     region=region, storage_mb=storage_mb, include_free_tier=free_tier,
                                     price_gb_s=price_gb_s, cold_share=cold_share or 0.0,
                                     cold_billed_duration_ms=cold_billed_ms)
    if as_json:
        payload = cost.to_dict()
        payload["currency"] = "USD"
        if month is not None:
            payload["per_month"] = month.to_dict()
        click.echo(json.dumps(payload, indent=2))
        return
    storage_note = "free" if storage_mb <= pricing.STORAGE_FREE_MB else f"{storage_mb - pricing.STORAGE_FREE_MB} MB charged"
    lines = [
        f"{memory_mb} MB, {billed_duration_ms} ms billed, {architecture}, {region}: "
        f"{cost.price_gb_s:.10f} USD per GB-s ({cost.price_source})",
        f"  compute  {cost.compute_usd:.10f} USD  ({cost.gb_s:g} GB-s)",
        f"  request  {cost.request_usd:.10f} USD",
        f"  storage  {cost.storage_usd:.10f} USD  ({storage_mb} MB ephemeral storage, {storage_note})",
        f"  total    {cost.total_usd:.10f} USD per invocation",
        f"           {cost.per_million_usd:.4f} USD per million invocations",
    ]
    if month is not None:
        cold = ""
        if month.cold_billed_duration_ms is not None:
            cold = f" ({month.cold_share:.1%} cold, {month.cold_billed_duration_ms:g} ms billed each)"
        lines.append(f"per month: {month.invocations:,} invocations{cold}, {month.gb_s:,.1f} GB-s"
                     + (" (free tier applied)" if month.free_tier_applied else ""))
        for tier in month.tiers:
            lines.append(f"  tier {tier.tier}   {tier.gb_s:,.1f} GB-s x {tier.price_gb_s:.10f} USD = "
                         f"{tier.cost_usd:,.2f} USD")
        if month.free_tier_applied:
            lines.append(f"  free     {month.free_gb_s:,.1f} GB-s and {month.free_requests:,} requests")
        lines += [
            f"  compute  {month.compute_usd:,.2f} USD",
            f"  requests {month.request_usd:,.2f} USD",
            f"  storage  {month.storage_usd:,.2f} USD",
            f"  total    {month.total_usd:,.2f} USD per month",
        ]
    click.echo("\n".join(lines))

# [commands:serve]
@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback by default).")
@click.option("--port", default=9001, show_default=True, type=int, help="TCP port (0 picks a free one).")
@click.option("--keep-alive-s", default=300.0, show_default=True, type=float,
              help="Idle seconds before a warm sandbox is reaped.")
@click.option("--account-concurrency", default=None, type=int,
              help="Concurrent invocations allowed (default: max(4, 4 x host cores)).")
@click.option("--cpu-limit", default="auto", show_default=True,
              type=click.Choice(CPU_LIMIT_CHOICES),
              help="How a sandbox's CPU share is limited to memory/1769 vCPU.")
@click.option("--sandbox-start", default="auto", show_default=True, type=click.Choice(["auto", "fork", "spawn"]),
              help="Fork sandboxes from a prepared interpreter (Init Duration = runtime client + handler "
                   "import), or spawn each from nothing (Init also counts starting Python).")
@click.option("--allow-remote", is_flag=True, help="Allow a non-loopback --host (the emulator runs any code sent).")
def serve(host: str, port: int, keep_alive_s: float, account_concurrency: int | None, cpu_limit: str,
          sandbox_start: str, allow_remote: bool) -> None:
    """Run the local Lambda emulator as a standalone endpoint until Ctrl-C."""
    import signal
    import time

    from lambdabench.emulator import Emulator, is_loopback

    emulator = Emulator(host=host, port=port, keep_alive_s=keep_alive_s, account_concurrency=account_concurrency,
                        cpu_limit=cpu_limit, allow_remote=allow_remote, sandbox_start=sandbox_start)
    if not is_loopback(host):
        click.echo(f"warning: serving on {host}: anyone who can reach this port can run code on this machine.",
                   err=True)
    # The handler only appends to a list: an Event.set() there could deadlock when the signal lands while
    # the main thread holds that Event's lock (inside Event.wait), which a prompt SIGTERM did.
    stopping: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, _frame: stopping.append(signum))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    endpoint = emulator.start()
    try:
        info = emulator.info()
        click.echo(endpoint)
        click.echo(f"cpu: {info.get('cpu_mechanism')}  memory: {info.get('memory_mechanism')}  "
                   f"cores: {info.get('host_cores')}  runtime client: {info.get('runtime_client')} "
                   f"({info.get('sandbox_start')})  "
                   f"account concurrency: {info.get('account_concurrency')}  keep-alive: {keep_alive_s:g} s",
                   err=True)
        for warning in info.get("warnings") or []:
            click.echo(f"warning: {warning}", err=True)
        click.echo(f"serving; use endpoint_url={endpoint!r} with boto3; Ctrl-C to stop", err=True)
        while not stopping:
            time.sleep(0.2)  # handlers run between the naps, also for a signal another thread received
    finally:
        click.echo("stopping: ending every sandbox", err=True)
        emulator.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# [commands:sweep]
@cli.command("sweep")
@click.argument("scenario_file", metavar="[SCENARIO]", type=click.Path(dir_okay=False), required=False)
@click.option("--target", type=click.Choice(["local", "aws", "replay"]), default=None,
              help="Where the function runs (default: the scenario's [target] kind, else local).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Output folder (default: reports/<name>-<UTC timestamp>/).")
@click.option("--resume", "resume_dir", type=click.Path(file_okay=False, exists=True), default=None,
              help="Finish an interrupted sweep in this folder without repeating its invocations.")
@click.option("--profile", default=None, help="AWS profile (aws target).")
@click.option("--region", default=None, help="AWS region (aws target; default from the profile/environment).")
@click.option("--endpoint-url", default=None, help="Lambda-compatible endpoint (lambdabench serve, LocalStack, moto).")
@click.option("--yes", "-y", is_flag=True, help="Create/change without asking (aws target).")
@click.option("--copy", "isolation", flag_value="copy", default=None,
              help="Sweep a disposable copy of the function (aws target; the default).")
@click.option("--in-place", "isolation", flag_value="in-place",
              help="Sweep the function itself (aws target): it serves at the sweep's memory meanwhile.")
@click.option("--accept-live-traffic", is_flag=True,
              help="With --in-place and --yes: sweep a function that has triggers, URLs, aliases on $LATEST "
                   "or invoke permissions.")
@click.option("--wake-inactive", is_flag=True,
              help="With --in-place: wake an Inactive function (one invoke, then wait until Active) instead of "
                   "refusing. A copy never needs it.")
@click.option("--dry-run", is_flag=True, help="Print the plan and its estimated AWS cost; change nothing.")
@click.option("--logs-wait-s", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="How long to poll CloudWatch Logs for a REPORT the LogResult tail did not carry.")
@click.option("--verbose", is_flag=True, help="Summary with a block per configuration and scenario, every warning.")
@scenario_flags.click_options
def sweep_command(scenario_file: str | None, target: str | None, out_dir: str | None, resume_dir: str | None,
                  profile: str | None, region: str | None, endpoint_url: str | None, yes: bool,
                  isolation: str | None, accept_live_traffic: bool, wake_inactive: bool, dry_run: bool,
                  logs_wait_s: float, verbose: bool, **flag_values: object) -> None:
    """Sweep memory x timeout of a function with cold, warm and burst invocations.

    SCENARIO is a scenario file; each flag (--memory, --cold, ...) overrides its key. Without a file,
    `--function NAME --memory 128,256,...` sweeps an existing function (aws target) and
    `--code DIR --handler app.handler --memory ...` a local handler.

    On the aws target the sweep runs on a temporary copy of the function (deleted afterwards) unless
    --in-place or [target] isolation = "in-place" says to change the function itself."""
    import shlex
    from pathlib import Path

    from lambdabench.errors import UsageError
    from lambdabench.sweep import plan as sweep_plan
    from lambdabench.sweep import run as sweep_run

    def function_timeout_s() -> int:  # the default timeout of a flags-only aws sweep
        from lambdabench.scenario_init import read_function
        return read_function(flags.function, region=region, profile=profile, endpoint_url=endpoint_url)["Timeout"]

    flags = scenario_flags.ScenarioFlags(**flag_values)
    scenario = scenario_flags.load(scenario_file, flags, target=target, function_timeout_s=function_timeout_s)
    again = shlex.join([*([scenario_file] if scenario_file else []), *flags.argv()])
    options = sweep_run.SweepOptions(
        target=target, out_dir=Path(out_dir) if out_dir else None,
        resume_dir=Path(resume_dir) if resume_dir else None, profile=profile, region=region,
        endpoint_url=endpoint_url, logs_max_wait_s=logs_wait_s, isolation=isolation,
        accept_live_traffic=accept_live_traffic, assume_yes=yes, wake_inactive=wake_inactive, arguments=again,
    )
    kind = sweep_run.target_kind(scenario, options)
    if dry_run and scenario.sweep.adaptive:
        from lambdabench.sweep.adaptive import describe as describe_search

        click.echo(f"dry run of {scenario.path} on the {kind} target (nothing changed):")
        click.echo(describe_search(scenario))
        return
    if dry_run:
        plan = sweep_plan.build_plan(scenario, default_architecture=scenario.function.architecture)
        estimate = sweep_plan.estimate_cost(plan, region=region or scenario.target.region or "us-east-1",
                                            storage_mb=scenario.function.ephemeral_storage_mb)
        click.echo(f"dry run of {scenario.path} on the {kind} target (nothing changed):")
        for line in sweep_plan.describe(plan, estimate):
            click.echo(line)
        from lambdabench.sweep.hooks import describe as describe_hooks

        for line in describe_hooks(scenario.hooks):  # [hooks]: listed, never run by a dry run
            click.echo(line)
        return

    def confirm(lines: list[str]) -> None:
        for line in lines:
            click.echo(line, err=True)
        if yes:
            return
        if not sys.stdin.isatty():
            raise UsageError("refusing to change the function without confirmation (no terminal to ask on)",
                             "add --yes to confirm the changes listed above")
        if not click.confirm("Proceed?", default=False, err=True):
            raise UsageError("cancelled: nothing was changed", "add --yes to skip the question")

    if options.out_dir is None and options.resume_dir is None:
        from datetime import datetime, timezone

        options = sweep_run.dataclasses.replace(
            options, out_dir=sweep_run.default_out_dir(scenario.name, datetime.now(timezone.utc)))
    out = options.resume_dir or options.out_dir
    size_before = _size(out / "results.jsonl")
    try:
        with _progress_reporter() as progress, _sigterm_as_interrupt():
            run = sweep_run.run_sweep(scenario, options, confirm=confirm, progress=progress,
                                      shield=_interrupts_deferred)
    except LambdabenchError:
        if _size(out / "results.jsonl") != size_before:  # this run started measuring: say what was undone
            click.echo(f"sweep failed: {sweep_run.restore_state(out)}; partial results in {out}", err=True)
        raise
    except KeyboardInterrupt:
        state = sweep_run.restore_state(out)
        click.echo(f"interrupted: {state}; partial results in {out} "
                   f"(finish with: lambdabench sweep {again} --resume {out})", err=True)
        sys.exit(130)  # (click returns, not raises, an Exit under standalone_mode=False)
    outcome = run.outcome
    click.echo(f"sweep complete: {outcome.invocations_written} invocation records; "
               f"{outcome.state_mismatches} state mismatch(es)", err=True)
    for warning in outcome.warnings:
        click.echo(f"warning: {warning}", err=True)
    if outcome.restore is not None and outcome.restore.ok and run.target == "aws":
        if outcome.restore.deleted_copies:
            click.echo(f"deleted the sweep's copies and their log groups "
                       f"({', '.join(outcome.restore.deleted_copies)}); the original was not changed", err=True)
        else:
            click.echo(f"function restored to its original configuration "
                       f"({outcome.restore.duration_ms:.0f} ms)", err=True)
    sweep_run.check_restore(outcome)
    from lambdabench.report.outputs import write_outputs

    written = write_outputs(outcome.out_dir, verbose=verbose)
    click.echo(written.summary)
    for path in written.paths:
        click.echo(f"wrote {path}", err=True)
    click.echo(str(outcome.out_dir))


def _size(path) -> int:  # noqa: ANN001
    return path.stat().st_size if path.exists() else -1


class _Progress:
    """A rich progress bar on stderr; nothing at all when stderr is not a terminal."""

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(stderr=True)
        self.bar = None
        self.task = None

    def __enter__(self) -> "_Progress":
        if self.console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("ETA"), TimeRemainingColumn(), console=self.console, transient=True)
            self.bar.__enter__()
        return self

    def __call__(self, done: int, total: int, label: str) -> None:
        if self.bar is None:
            return
        if self.task is None:
            self.task = self.bar.add_task(label, total=total, completed=done)
        self.bar.update(self.task, completed=done, total=total, description=label)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _progress_reporter() -> _Progress:
    return _Progress()


class _sigterm_as_interrupt:
    """SIGTERM takes the same path as Ctrl-C (KeyboardInterrupt): the sweep restores, then exits."""

    def __enter__(self) -> None:
        import signal

        def handler(signum, frame):  # noqa: ANN001
            raise KeyboardInterrupt(f"signal {signum}")

        self._previous = signal.signal(signal.SIGTERM, handler)

    def __exit__(self, *exc: object) -> None:
        import signal

        signal.signal(signal.SIGTERM, self._previous)


class _interrupts_deferred:
    """While the function is being restored, a second Ctrl-C/SIGTERM waits until restore is done."""

    def __enter__(self) -> None:
        import signal

        self.pending: list[int] = []
        self._saved = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._saved[sig] = signal.signal(sig, lambda signum, frame: self.pending.append(signum))

    def __exit__(self, *exc: object) -> None:
        import signal

        for sig, previous in self._saved.items():
            signal.signal(sig, previous)
        if self.pending:
            click.echo("(interrupt received during restore; restore finished first)", err=True)


# [commands:init]
@cli.command("init")
@click.option("--function", "function", metavar="NAME_OR_ARN", help="Write a scenario for this existing function.")
@click.option("--code", "code", metavar="DIR", type=click.Path(file_okay=False),
              help="Write a scenario for the handler in this folder (the local target).")
@click.option("--handler", default=None, metavar="MODULE.FUNCTION", help="With --code: the handler (default: found).")
@click.option("--runtime", default=None, help="With --code: the runtime (default: from the handler's files).")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False), default=None,
              help="The file to write (default: <name>.toml in the current folder).")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option("--profile", default=None, help="AWS profile used to read the function.")
@click.option("--region", default=None, help="AWS region (default from the profile/environment; --code: us-east-1).")
@click.option("--endpoint-url", default=None, help="Lambda-compatible endpoint (lambdabench serve, LocalStack).")
def init_command(function: str | None, code: str | None, handler: str | None, runtime: str | None,
                 output: str | None, force: bool, profile: str | None, region: str | None,
                 endpoint_url: str | None) -> None:
    """Write a commented scenario file: from an existing function's configuration (read only), or for a
    local handler. It passes `lambdabench sweep FILE --dry-run` as written."""
    from pathlib import Path

    from lambdabench import scenario_init
    from lambdabench.errors import UsageError

    if (function is None) == (code is None):
        raise UsageError("give one of --function NAME_OR_ARN and --code DIR",
                         "--function writes a scenario for a deployed function, --code for a local handler")
    if function is not None and (handler or runtime):
        raise UsageError("--handler and --runtime apply to --code only",
                         "a deployed function's handler and runtime are read from the function")
    if code is not None and (profile or endpoint_url):
        raise UsageError("--profile and --endpoint-url apply to --function only",
                         "a local handler needs no AWS account")
    if function is not None:
        written = scenario_init.init_function(function, output=output, force=force, profile=profile, region=region,
                                              endpoint_url=endpoint_url)
    else:
        written = scenario_init.init_code(Path(code), output=output, force=force, handler=handler, runtime=runtime,
                                          region=region)
    click.echo(f"wrote {written.scenario}")
    click.echo(f"{'wrote' if written.event_written else 'kept the existing'} {written.event}: "
               "the event each invocation sends; fill in a realistic one")
    click.echo(f"next: lambdabench sweep {written.scenario} --dry-run", err=True)


# [commands:restore]
@cli.command("restore")
@click.argument("out_dir", metavar="DIR", type=click.Path(file_okay=False))
@click.option("--profile", default=None, help="Override the AWS profile stored with the sweep.")
@click.option("--region", default=None, help="Override the region stored with the sweep.")
@click.option("--endpoint-url", default=None, help="Override the endpoint stored with the sweep.")
@click.option("--force", is_flag=True,
              help="Put the whole snapshot back, even over fields someone else changed since the sweep.")
def restore_command(out_dir: str, profile: str | None, region: str | None, endpoint_url: str | None,
                    force: bool) -> None:
    """Put a function back as the sweep in DIR found it (after a sweep was killed)."""
    from pathlib import Path

    from lambdabench.sweep import run as sweep_run

    report = sweep_run.restore_from_dir(Path(out_dir), profile=profile, region=region, endpoint_url=endpoint_url,
                                        force=force)
    if report.outcome is None:
        click.echo(f"{out_dir}: a local-target sweep; nothing to restore (its emulator and function "
                   f"{report.function!r} existed only while the sweep ran)")
        return
    o = report.outcome
    if o.deleted_copies:
        click.echo(f"deleted the sweep's copies and their log groups: {', '.join(o.deleted_copies)}")
    if report.isolation == "copy":
        click.echo(f"{report.function}: unchanged (the sweep ran on copies)")
        return
    verb = "restored" if o.changed else "already matched its original configuration"
    click.echo(f"{report.function}: {verb} (memory {o.restored.memory_mb} MB, timeout {o.restored.timeout_s} s, "
               f"{o.restored.architecture}, {len(o.restored.environment)} environment variable(s), "
               f"ephemeral storage {o.restored.ephemeral_storage_mb} MB)")
    if o.new_versions or o.new_aliases:
        click.echo(f"note: versions {list(o.new_versions)} / aliases {list(o.new_aliases)} appeared since the "
                   "snapshot; lambdabench creates none, so they were left alone", err=True)


# [commands:cleanup]
@cli.command("cleanup")
@click.option("--profile", default=None, help="AWS profile.")
@click.option("--region", default=None, help="AWS region (default from the profile/environment).")
@click.option("--endpoint-url", default=None, help="Lambda-compatible endpoint (lambdabench serve, moto).")
@click.option("--yes", "-y", is_flag=True, help="Delete without asking.")
def cleanup_command(profile: str | None, region: str | None, endpoint_url: str | None, yes: bool) -> None:
    """Delete every sweep copy (functions tagged lambdabench:sweep) and its log group in one region."""
    from lambdabench.errors import RunError, UsageError
    from lambdabench.sweep import run as sweep_run
    from lambdabench.sweep.clients import make_clients

    clients = make_clients("aws", region=region, profile=profile, endpoint_url=endpoint_url)
    copies = sweep_run.cleanup_candidates(clients)
    if not copies:
        click.echo(f"no lambdabench sweep copies in {clients.target.region}")
        return
    click.echo(f"{len(copies)} lambdabench sweep cop{'y' if len(copies) == 1 else 'ies'} in "
               f"{clients.target.region}:")
    for copy in copies:
        click.echo(f"  {copy.name}  (sweep {copy.run_id}, copy of {copy.source or 'unknown'})")
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError("refusing to delete without confirmation (no terminal to ask on)",
                             "add --yes to delete the functions listed above")
        if not click.confirm("Delete them and their log groups?", default=False, err=True):
            raise UsageError("cancelled: nothing was deleted", "add --yes to skip the question")
    problems = sweep_run.delete_copies(clients, copies)
    if problems:
        raise RunError("some copies could not be deleted:\n    " + "\n    ".join(problems),
                       "fix the cause (permissions: lambda:DeleteFunction, logs:DeleteLogGroup) and run again")
    click.echo(f"deleted {len(copies)} function(s) and their log groups")


# [commands:report]
@cli.command("report")
@click.argument("out_dir", metavar="DIR", type=click.Path(file_okay=False))
@click.option("--strategy", type=click.Choice(["cost", "speed", "balanced", "slo"]), default=None,
              help="Recommend with this strategy instead of the scenario's [recommend] strategy.")
@click.option("--p95-slo-ms", type=float, default=None, help="p95 latency objective for --strategy slo.")
@click.option("--cold-share", type=float, default=None, help="Price blended cost at this share of cold starts (0..1).")
@click.option("--per-month", "per_month", type=click.IntRange(min=1), default=None, metavar="N",
              help="Price a month of N invocations per configuration (observed cold share, duration tiers).")
@click.option("--no-html", is_flag=True, help="Write summary.csv and report.json only, no HTML report.")
@click.option("--verbose", is_flag=True, help="Summary with a block per configuration and scenario, every warning.")
def report_command(out_dir: str, strategy: str | None, p95_slo_ms: float | None, cold_share: float | None,
                   no_html: bool, verbose: bool, per_month: int | None = None) -> None:
    """Re-analyse a finished or partial sweep from DIR/results.jsonl and rewrite its report."""
    from lambdabench.report.outputs import write_outputs

    overrides = {k: v for k, v in (("strategy", strategy), ("p95_slo_ms", p95_slo_ms),
                                   ("cold_share", cold_share), ("monthly_invocations", per_month))
                 if v is not None}
    written = write_outputs(out_dir, recommend=overrides, html=not no_html, verbose=verbose)
    if not written.completed:
        click.echo("note: this sweep did not complete; the analysis covers what was measured", err=True)
    click.echo(written.summary)
    for path in written.paths:
        click.echo(f"wrote {path}")


# [commands:compare]
@cli.command("compare")
@click.argument("base_dir", metavar="BASE", type=click.Path(file_okay=False))
@click.argument("new_dir", metavar="NEW", type=click.Path(file_okay=False))
@click.option("--fail-on", default=None, metavar="LIMITS",
              help='Regression limits, e.g. "p95+10%,cost+5%" (metrics: p50 p90 p95 p99 mean cost). '
                   'Default "p95+10%,cost+10%". A limit counts only when the change is significant.')
@click.option("--markdown", is_flag=True, help="Print a Markdown table (for a CI comment).")
def compare_command(base_dir: str, new_dir: str, fail_on: str | None, markdown: bool) -> None:
    """Compare two sweeps; exit 1 when a significant change crosses a --fail-on limit."""
    from lambdabench.analysis.compare import DEFAULT_FAIL_ON, compare, parse_fail_on
    from lambdabench.report.console import render_compare, render_compare_markdown
    from lambdabench.results import read_results

    limits = parse_fail_on(fail_on if fail_on is not None else DEFAULT_FAIL_ON)
    comparison = compare(read_results(base_dir), read_results(new_dir), limits=limits)
    if not comparison.rows and not comparison.failures:
        fail("the two sweeps share no measured configuration",
             "compare sweeps of the same memory/timeout grid", status=2)
    click.echo(render_compare_markdown(comparison) if markdown else render_compare(comparison), nl=False)
    if comparison.failed:
        sys.exit(1)



# [commands:iam-policy]
@cli.command("iam-policy")
@click.argument("scenario_file", metavar="SCENARIO", type=click.Path(dir_okay=False))
@click.option("--copy", "isolation", flag_value="copy", default=None,
              help="The policy for a sweep of a disposable copy (the default unless [target] isolation says).")
@click.option("--in-place", "isolation", flag_value="in-place",
              help="The policy for an in-place sweep (changes the function itself).")
@click.option("--profile", default=None, help="AWS profile used to read the function.")
@click.option("--region", default=None, help="AWS region (default from the scenario/profile/environment).")
@click.option("--endpoint-url", default=None, help="Lambda-compatible endpoint (LocalStack, moto).")
def iam_policy_command(scenario_file: str, isolation: str | None, profile: str | None, region: str | None,
                       endpoint_url: str | None) -> None:
    """Print the least-privilege IAM policy (JSON) that `sweep --target aws` of SCENARIO needs.

    Reads the function (lambda:GetFunction) to name its ARN, role, KMS key, layers and log group;
    changes nothing.
    """
    import json

    from lambdabench.errors import UsageError
    from lambdabench.scenario import load_scenario
    from lambdabench.sweep import iam
    from lambdabench.sweep import run as sweep_run
    from lambdabench.sweep.clients import call, make_clients
    from lambdabench.sweep.plan import build_plan

    scenario = load_scenario(scenario_file)
    # Whatever [target] kind says: the policy is for `sweep --target aws` of this function.
    clients = make_clients("aws", region=region or scenario.target.region,
                           profile=profile or scenario.target.profile,
                           endpoint_url=endpoint_url or scenario.target.endpoint_url)
    function = scenario.function.name
    response = call(clients.control.get_function, FunctionName=function, function=function,
                    action="reading the function")
    configuration = response["Configuration"]
    current = (configuration.get("Architectures") or ["x86_64"])[0]
    plan = build_plan(scenario, default_architecture=current)
    try:
        mode = sweep_run.isolation_mode(scenario, sweep_run.SweepOptions(isolation=isolation), "aws")
        document = iam.policy(configuration, mode=mode,
                              sweeps_architectures=any(c.architecture != current for c in plan.configs),
                              tagged=bool(response.get("Tags")),
                              hook_functions=[h.function for _, h in (scenario.hooks.items() if scenario.hooks
                                                                       else []) if h.function])
    except ValueError as exc:
        raise UsageError(f"cannot build the policy for {function!r}: {exc}",
                         "pass the unqualified function name or ARN in [function] name") from exc
    click.echo(json.dumps(document, indent=2))



def main(argv: list[str] | None = None) -> None:
    args = argv if argv is not None else sys.argv[1:]
    debug = "--debug" in args
    try:
        # Under standalone_mode=False click returns ctx.exit(n)'s status instead of exiting.
        status = cli.main(args=argv, prog_name="lambdabench", standalone_mode=False)
    except click.exceptions.Abort:
        # click raises Abort for Ctrl-C at a prompt as well as for a declined confirmation.
        click.echo("interrupted", err=True)
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except LambdabenchError as exc:
        if debug:
            raise
        fail(exc.message, exc.hint, exc.exit_status)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(1)
    except Exception as exc:  # a bug of ours or an unforeseen failure: one line, not a traceback
        if debug:
            raise
        click.echo(f"error: {_unexpected(args, exc)} (rerun with --debug for the traceback)", err=True)
        sys.exit(1)
    sys.exit(status if isinstance(status, int) else 0)


def _unexpected(args: list[str], exc: Exception) -> str:
    """One line saying which command failed and with what, for the last-resort handler."""
    command = next((a for a in args if a in cli.commands), None)
    what = f"lambdabench {command}" if command else "lambdabench"
    detail = " ".join(str(exc).split())
    if len(detail) > 300:
        detail = detail[:297] + "..."
    return f"{what} failed unexpectedly: {type(exc).__name__}" + (f": {detail}" if detail else "")
