"""Sweep flags (`--function`, `--memory`, `--cold`, ...) as overrides of a scenario's raw TOML mapping.

Owns how each command-line flag becomes a scenario key, and nothing else: the flags are applied to the
parsed (not yet validated) mapping, from a file or from nothing, and the result goes through the one
scenario loader (`lambdabench.scenario`). A bad flag value therefore gets the loader's own message,
re-addressed to the flag (`--memory: 99 MB is out of range ...` instead of `sweep.memory_mb[0]: ...`).

  --function NAME_OR_ARN    function.name (no file: the aws target)
  --code DIR                function.code, from the current folder (no file: the local target)
  --handler, --runtime      function.handler, function.runtime
  --memory 128,256 | A-B    sweep.memory_mb: a list, or a range {min = A, max = B} (with --search)
  --search grid|adaptive    sweep.search
  --timeout 10[,30]         sweep.timeout_s
  --arch x86_64,arm64       sweep.architectures
  --payload JSON | @FILE    sweep.payload (inline JSON) or sweep.payload_file (from the current folder)
  --cold N, --warm N        the cold / warm [[scenario]]'s invocations (added when missing; 0 removes it)
  --burst CxW               the burst [[scenario]]'s concurrency and waves (0 removes it)
  --strategy, --p95-slo-ms  recommend.strategy, recommend.p95_slo_ms
  --per-month               recommend.monthly_invocations

Without a file, a flags-only sweep defaults to Lambda's own timeout and to a cold and a warm scenario with
the analysis's minimum sample counts; the effective scenario lands in the results header like any other.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Callable

import click

from lambdabench import limits
from lambdabench.arns import parse_function
from lambdabench.errors import UsageError
from lambdabench.scenario import (Scenario, ScenarioError, ScenarioErrors, load_scenario_data,
                                  read_scenario_file)

# Scenario name of a flags-only sweep when nothing better is known (becomes reports/<name>-<time>/).
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_RANGE_RE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")
_BURST_RE = re.compile(r"^\s*(\d+)\s*(?:[xX×]\s*(\d+)\s*)?$")
# A flags-only sweep is not read from a file; this stands in for one (errors name the flags instead).
COMMAND_LINE = "(command line)"


@dataclass(frozen=True)
class ScenarioFlags:
    """The sweep command's scenario flags as typed (None: not given)."""

    function: str | None = None
    code: str | None = None
    handler: str | None = None
    runtime: str | None = None
    memory: str | None = None
    search: str | None = None
    timeout: str | None = None
    arch: str | None = None
    payload: str | None = None
    cold: int | None = None
    warm: int | None = None
    burst: str | None = None
    strategy: str | None = None
    p95_slo_ms: float | None = None
    per_month: int | None = None

    def given(self) -> bool:
        return any(getattr(self, f.name) is not None for f in fields(self))

    def argv(self) -> list[str]:
        """The flags as they would be typed again (for a `--resume` hint)."""
        out: list[str] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                out += [_FLAG_NAMES[f.name], f"{value:g}" if isinstance(value, float) else str(value)]
        return out


_FLAG_NAMES = {f.name: "--" + f.name.replace("_", "-") for f in fields(ScenarioFlags)}
_FLAG_NAMES["arch"] = "--arch"

# Which flag writes which key: errors under these keys are re-addressed to the flag.
_KEY_FLAGS = (
    ("function.name", "--function"),
    ("function.code", "--code"),
    ("function.handler", "--handler"),
    ("function.runtime", "--runtime"),
    ("sweep.memory_mb", "--memory"),
    ("sweep.search", "--search"),
    ("sweep.timeout_s", "--timeout"),
    ("sweep.architectures", "--arch"),
    ("sweep.payload_file", "--payload"),
    ("sweep.payload", "--payload"),
    ("recommend.strategy", "--strategy"),
    ("recommend.p95_slo_ms", "--p95-slo-ms"),
    ("recommend.monthly_invocations", "--per-month"),
)
_SCENARIO_FLAGS = {"cold": "--cold", "warm": "--warm", "burst": "--burst"}


def click_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The sweep command's scenario flags (they arrive as keyword arguments named as ScenarioFlags' fields)."""
    options = [
        click.option("--function", "function", metavar="NAME_OR_ARN",
                     help="Sweep this existing function (no scenario file: the aws target)."),
        click.option("--code", "code", metavar="DIR", type=click.Path(file_okay=False),
                     help="The handler's folder (no scenario file: the local target)."),
        click.option("--handler", "handler", metavar="MODULE.FUNCTION", help="Handler, with --code."),
        click.option("--runtime", "runtime", help="Runtime, with --code (default python3.12)."),
        click.option("--memory", "memory", metavar="MB,MB,...|MIN-MAX",
                     help="Memory sizes to sweep, e.g. 128,256,512,1024; a range 128-3008 with --search adaptive."),
        click.option("--search", "search", metavar="grid|adaptive", help="How to pick the sizes measured."),
        click.option("--timeout", "timeout", metavar="S[,S...]",
                     help="Timeout(s) in seconds (no file: the function's own, or Lambda's default 3 s locally)."),
        click.option("--arch", "arch", metavar="ARCH[,ARCH]", help="Architectures to sweep, e.g. x86_64,arm64."),
        click.option("--payload", "payload", metavar="JSON|@FILE", help="The event: inline JSON or @file.json."),
        click.option("--cold", "cold", type=int, metavar="N", help="Cold invocations per configuration (0: none)."),
        click.option("--warm", "warm", type=int, metavar="N", help="Warm invocations per configuration (0: none)."),
        click.option("--burst", "burst", metavar="CxW",
                     help="Burst: C invocations released together, W waves, e.g. 10x2 (0: none)."),
        click.option("--strategy", "strategy", metavar="cost|speed|balanced|slo", help="Recommendation strategy."),
        click.option("--p95-slo-ms", "p95_slo_ms", type=float, metavar="MS", help="p95 objective for --strategy slo."),
        click.option("--per-month", "per_month", type=click.IntRange(min=1), metavar="N",
                     help="Price a month of N invocations per configuration ([recommend] monthly_invocations)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def load(scenario_file: str | Path | None, flags: ScenarioFlags, *, target: str | None = None,
         function_timeout_s: Callable[[], int] | None = None, cwd: Path | None = None) -> Scenario:
    """The effective scenario: the file's (or, with no file, the flags' own) with every flag applied.

    `target` is --target (used to pick the flags-only target); `function_timeout_s` reads the swept
    function's own timeout, the default of a flags-only aws sweep without --timeout (called only then);
    paths given on the command line start at `cwd` (default: the current folder)."""
    cwd = (cwd or Path.cwd()).resolve()
    if scenario_file is not None:
        path, data = read_scenario_file(scenario_file)
        flags_only = False
    else:
        timeout = None
        if flags.timeout is None and function_timeout_s is not None and flags_only_kind(flags, target) == "aws" \
                and flags.function is not None and flags.memory is not None:
            timeout = function_timeout_s()
        data = base_mapping(flags, target=target, function_timeout_s=timeout)
        path = cwd / COMMAND_LINE
        flags_only = True
    data, owners = apply(data, flags, cwd=cwd)
    try:
        return load_scenario_data(data, path)
    except ScenarioError as error:
        raise _readdressed(error, owners, flags_only=flags_only) from None


def flags_only_kind(flags: ScenarioFlags, target: str | None) -> str:
    """The target of a sweep with no file: --target, else aws for --function and local for --code."""
    if target:
        return target
    return "local" if flags.code is not None and flags.function is None else "aws"


def base_mapping(flags: ScenarioFlags, *, target: str | None = None,
                 function_timeout_s: int | None = None) -> dict[str, Any]:
    """The scenario a flags-only sweep starts from, before the flags are applied."""
    if flags.function is None and flags.code is None:
        raise UsageError("no scenario file and no function to sweep",
                         "pass a scenario file, or --function NAME_OR_ARN (an existing function, aws target), "
                         "or --code DIR --handler module.function (the local target)")
    if flags.memory is None:
        raise UsageError("--memory: missing: a sweep without a scenario file needs the memory sizes",
                         "add --memory 128,256,512,1024 (MB, comma-separated)")
    # The analysis's minimum counts, so a default sweep raises no too_few_samples warning (imported here:
    # the analysis package takes a second to import, and the CLI imports this module at start).
    from lambdabench.analysis.warnings import MIN_SAMPLES

    kind = flags_only_kind(flags, target)
    timeout = limits.TIMEOUT_DEFAULT_S if kind == "local" or function_timeout_s is None else function_timeout_s
    scenarios = [] if _any_scenario_flag(flags) else [
        {"kind": "cold", "invocations": MIN_SAMPLES["cold"]},
        {"kind": "warm", "invocations": MIN_SAMPLES["warm"]},
    ]
    return {"name": default_name(flags), "target": {"kind": kind}, "function": {},
            "sweep": {"timeout_s": [timeout]}, "scenario": scenarios}


def default_name(flags: ScenarioFlags) -> str:
    """A folder-safe name: the function's name (from an ARN too), else the code folder's."""
    if flags.function is not None:
        ref = parse_function(flags.function)
        raw = ref.name if ref is not None and ref.name else flags.function
    else:
        raw = Path(str(flags.code)).resolve().name
    return safe_name(raw)


def safe_name(raw: str) -> str:
    """`raw` as a scenario name that is also a folder and a local function name (letters, digits, - and _)."""
    return _NAME_UNSAFE.sub("-", raw).strip("-_")[:64] or "sweep"


def apply(data: dict[str, Any], flags: ScenarioFlags, *, cwd: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """A copy of `data` with each given flag written into its key, and which flag owns which key."""
    data = copy.deepcopy(data)
    owners: dict[str, str] = {}

    def put(section: str, key: str, value: Any, flag: str) -> None:
        table = data.setdefault(section, {})
        if not isinstance(table, dict):  # the loader says what is wrong with the file's section
            return
        table[key] = value
        owners[f"{section}.{key}"] = flag

    if flags.function is not None:
        put("function", "name", flags.function, "--function")
    if flags.code is not None:
        put("function", "code", str(cwd / Path(flags.code).expanduser()), "--code")
    if flags.handler is not None:
        put("function", "handler", flags.handler, "--handler")
    if flags.runtime is not None:
        put("function", "runtime", flags.runtime, "--runtime")
    if flags.memory is not None:
        put("sweep", "memory_mb", memory_value(flags.memory), "--memory")
    if flags.search is not None:
        put("sweep", "search", flags.search, "--search")
    if flags.timeout is not None:
        put("sweep", "timeout_s", _int_list(flags.timeout), "--timeout")
    if flags.arch is not None:
        put("sweep", "architectures", [a.strip() for a in flags.arch.split(",")], "--arch")
    if flags.payload is not None:
        sweep = data.get("sweep")
        if isinstance(sweep, dict):
            for key in ("payload", "payload_file", "payloads"):
                sweep.pop(key, None)
        if flags.payload.startswith("@"):
            put("sweep", "payload_file", str(cwd / Path(flags.payload[1:]).expanduser()), "--payload")
        else:
            put("sweep", "payload", _json_value(flags.payload), "--payload")
    if flags.strategy is not None:
        put("recommend", "strategy", flags.strategy, "--strategy")
    if flags.p95_slo_ms is not None:
        put("recommend", "p95_slo_ms", flags.p95_slo_ms, "--p95-slo-ms")
    if flags.per_month is not None:
        put("recommend", "monthly_invocations", flags.per_month, "--per-month")
    if flags.strategy == "slo" and flags.p95_slo_ms is None:
        owners.setdefault("recommend.p95_slo_ms", "--p95-slo-ms")
    _apply_scenarios(data, flags, owners)
    return data, owners


def memory_value(text: str) -> Any:
    """`128,256,512` → [128, 256, 512]; `128-3008` → {min = 128, max = 3008} (a range, for --search)."""
    match = _RANGE_RE.match(text)
    if match:
        return {"min": int(match.group(1)), "max": int(match.group(2))}
    return _int_list(text)


def burst_value(text: str) -> tuple[int, int]:
    """`10x2` → (concurrency 10, waves 2); `10` → one wave."""
    match = _BURST_RE.match(text)
    if not match:
        raise UsageError(f"--burst: {json.dumps(text)} is not CONCURRENCYxWAVES",
                         "write the invocations released together and how many times, e.g. --burst 10x2 "
                         "(or --burst 0 to run no burst)")
    return int(match.group(1)), int(match.group(2) or 1)


def _any_scenario_flag(flags: ScenarioFlags) -> bool:
    return flags.cold is not None or flags.warm is not None or flags.burst is not None


def _apply_scenarios(data: dict[str, Any], flags: ScenarioFlags, owners: dict[str, str]) -> None:
    if not _any_scenario_flag(flags):
        return
    entries = data.setdefault("scenario", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        return  # the loader says what is wrong with the file's [[scenario]]
    wanted: dict[str, dict[str, Any] | None] = {}  # kind → the values to set; None: remove that kind
    if flags.cold is not None:
        wanted["cold"] = {"invocations": flags.cold} if flags.cold != 0 else None
    if flags.warm is not None:
        wanted["warm"] = {"invocations": flags.warm} if flags.warm != 0 else None
    if flags.burst is not None:
        concurrency, waves = burst_value(flags.burst)
        wanted["burst"] = {"concurrency": concurrency, "waves": waves} if concurrency != 0 else None
    kept: list[dict[str, Any]] = []
    for entry in entries:
        kind = entry.get("kind")
        if kind in wanted and wanted[kind] is None:
            continue
        if kind in wanted:
            entry.update(wanted[kind])
        kept.append(entry)
    order = {"cold": 0, "warm": 1, "burst": 2}
    for kind, values in wanted.items():
        if values is not None and not any(e.get("kind") == kind for e in kept):
            # A new scenario goes where the usual order (cold, warm, burst) puts it.
            at = next((i for i, e in enumerate(kept) if order.get(e.get("kind"), 3) > order[kind]), len(kept))
            kept.insert(at, {"kind": kind, **values})
    entries[:] = kept
    for i, entry in enumerate(kept):
        if entry.get("kind") in wanted:
            for key in wanted[entry["kind"]] or ():
                owners[f"scenario[{i}].{key}"] = _SCENARIO_FLAGS[entry["kind"]]
    owners["[[scenario]]"] = owners["scenario"] = "/".join(_SCENARIO_FLAGS[k] for k in wanted)


def _int_list(text: str) -> list[Any]:
    """Comma-separated integers; anything else is passed on as text for the loader to name."""
    out: list[Any] = []
    for item in text.split(","):
        item = item.strip()
        out.append(int(item) if re.fullmatch(r"[+-]?\d+", item) else item)
    return out


def _json_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--payload: not valid JSON (column {exc.colno}: {exc.msg})",
                         "give the event as JSON, e.g. --payload '{\"k\": 1}', or a file as --payload @event.json"
                         ) from None


def _flag_of(key: str | None, owners: dict[str, str], flags_only: bool) -> str | None:
    if key is None:
        return None
    for owned, flag in owners.items():
        if key == owned or (owned not in ("scenario", "[[scenario]]") and key.startswith((owned + "[", owned + "."))):
            return flag
    if flags_only:  # every key of a flags-only scenario is a flag's (or a default's)
        for owned, flag in _KEY_FLAGS:
            if key == owned or key.startswith((owned + "[", owned + ".")):
                return flag
    return None


def _readdressed(error: ScenarioError, owners: dict[str, str], *, flags_only: bool) -> ScenarioError:
    """The loader's error, under the flag that set the key (file errors stay the file's)."""
    if isinstance(error, ScenarioErrors):
        parts = [_readdressed(e, owners, flags_only=flags_only) for e in error.errors]
        return ScenarioErrors(parts)
    flag = _flag_of(error.key, owners, flags_only)
    if flag is None:
        return error
    return FlagError(error.path, flag, error.key, error.problem, error.fix)


class FlagError(ScenarioError):
    """A scenario error caused by a command-line flag: `--memory: value 2: ...`."""

    def __init__(self, path: Path, flag: str, key: str | None, problem: str, fix: str):
        problem = "leaves no scenario to run" if key in ("scenario", "[[scenario]]") else \
            _where(key) + _positions(problem, key)
        fix = _flag_fix(fix, flag, key)
        super().__init__(path, flag, problem, fix)
        self.scenario_key = key
        # Shown as the flag alone, not as a file position (the value came from the command line).
        self.message = f"{flag}: {problem}"
        self.hint = fix


def _positions(problem: str, key: str | None) -> str:
    """`(also at sweep.memory_mb[0])` → `(also value 1)`: the flag's values, counted from 1."""
    base = re.sub(r"\[\d+\]$", "", key or "")
    if not base:
        return problem
    return re.sub(re.escape(base) + r"\[(\d+)\]", lambda m: f"value {int(m.group(1)) + 1}", problem)


def _flag_fix(fix: str, flag: str, key: str | None) -> str:
    """The loader's fix in command-line terms: `add p95_slo_ms = <ms>` → `add --p95-slo-ms <ms>`."""
    if key in ("scenario", "[[scenario]]"):
        return "leave at least one of --cold, --warm and --burst above 0, e.g. --warm 30"
    leaf = re.sub(r"\[\d+\]$", "", key or "").rsplit(".", 1)[-1]
    if leaf:
        fix = fix.replace(f"{leaf} = ", f"{flag} ")
    fix = fix.replace("relative to this file", "relative to the current folder")
    # A path flag starts at the current folder, not at the file's (whose folder the loader names).
    return re.sub(r"relative paths start at the scenario's folder .*$", "relative paths start at the current folder",
                  fix)


def _where(key: str | None) -> str:
    """`sweep.memory_mb[2]` → "value 3: " (positions in a comma-separated flag are counted from 1)."""
    match = re.search(r"\[(\d+)\]$", key or "")
    if match and not (key or "").startswith("scenario["):
        return f"value {int(match.group(1)) + 1}: "
    return ""
