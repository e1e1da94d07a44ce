"""Scenario files: TOML in, validated frozen dataclasses out.

Owns the scenario format (see scenarios/demo.toml for a commented example) and its validation.
Loading is strict: an unknown key, a value of the wrong type or outside Lambda's limits, a
missing code folder or payload file all raise `ScenarioError` (a `UsageError`, exit 2) whose
message names the FILE and the KEY (dotted, with 0-based indexes into lists and arrays of
tables: `sweep.memory_mb[2]`, `scenario[1].concurrency`) and whose hint says how to fix it.

Relative paths (`function.code`, `payload_file`, a hook command's program) are resolved against the
scenario file's folder, and hook commands run in that folder, so a scenario runs the same from any
working directory.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import json
import math
import os
import re
import shutil
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TypeVar

from lambdabench import limits
from lambdabench.arns import NAME_RE, REGION_RE, parse_function
from lambdabench.errors import UsageError
from lambdabench.strategies import STRATEGIES

TARGET_KINDS = ("local", "aws", "replay")
SEARCHES = ("grid", "adaptive")
DEFAULT_TOLERANCE = 0.02  # how close to the best size an adaptive pick must be (fraction)
SCENARIO_KINDS = ("cold", "warm", "burst")
ORDERS = ("sequential", "shuffled")
LOG_FORMATS = ("Text", "JSON")
DEFAULT_WARMUP = 2  # warm-up invokes before a warm scenario: the first is cold, the second settles caches

# Function names and ARNs are parsed in one place (lambdabench.arns).
_FUNCTION_NAME_RE = NAME_RE
_REGION_RE = REGION_RE
# How the aws target keeps the user's function safe (see sweep/isolation.py): a disposable copy, or
# the function itself (opt-in).
ISOLATIONS = ("copy", "in-place")
_LOCAL_RUNTIME_RE = re.compile(r"^(python3\.\d+|nodejs\d+\.x|provided\.al2(023)?)$")
# Scenario names become folder names (reports/<name>-<timestamp>/).
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def _handler_module(handler: str, runtime: str) -> tuple[str, str] | None:
    """(module path without extension, function) as the runtime splits `handler`, None when it names no
    function. Node.js: folders up to the last '/', the module up to the first '.' after it, the export
    path after (`src/app.routes.get`); Python: the function after the last '.', the module's dots are
    folders (`pkg.app.handler`, `src/app.handler`)."""
    if runtime.startswith("nodejs"):
        folder, _, rest = handler.rpartition("/")
        module, dot, function = rest.partition(".")
        if not (module and dot and function):
            return None
        return (folder + "/" if folder else "") + module, function
    module, dot, function = handler.rpartition(".")
    if not (module and dot and function):
        return None
    return module.replace(".", "/"), function


def _check_handler_file(reader: Any, code: Path, handler: str, runtime: str, p: str) -> None:
    """The file the runtime loads for `handler` must be in the code folder: module.py (Python),
    module.js/.mjs/.cjs (Node.js), the bootstrap executable (custom runtimes)."""
    if runtime.startswith("provided"):
        if not _is_file(code / "bootstrap"):
            raise reader.fail(p + "handler", f"bootstrap not found in the code folder {code}",
                              f"a custom runtime runs {code / 'bootstrap'}: create it (executable)")
        return
    parsed = _handler_module(handler, runtime)
    ext = ".mjs" if runtime.startswith("nodejs") else ".py"
    if parsed is None:
        raise reader.fail(p + "handler", f"{json.dumps(handler)} names no function: the {runtime} runtime "
                                         "loads <module>.<function>",
                          f"write it as module.function, e.g. handler = \"app.handler\" for the function "
                          f"handler in app{ext}")
    module = parsed[0]
    if runtime.startswith("nodejs"):
        if not any(_is_file(code / f"{module}{ext}") for ext in (".js", ".mjs", ".cjs")):
            raise reader.fail(p + "handler", f"module {module}.js (.mjs, .cjs) not found in the code folder {code}",
                              f"create {code / (module + '.mjs')} or change handler to name a module in {code}")
        return
    if not (_is_file(code / f"{module}.py") or _is_file(code / module / "__init__.py")):
        raise reader.fail(p + "handler", f"module {module}.py not found in the code folder {code}",
                          f"create {code / (module + '.py')} or change handler to name a module in {code}")


class ScenarioError(UsageError):
    """A scenario file that cannot be used; names the file, the key and the fix."""

    def __init__(self, path: Path | str, key: str | None, problem: str, fix: str):
        where = f"{path}: {key}: " if key else f"{path}: "
        super().__init__(where + problem, fix)
        self.path = Path(path)
        self.key = key
        self.problem = problem
        self.fix = fix


class ScenarioErrors(ScenarioError):
    """Several problems found in one pass over a file, each with its key and fix (the first one is also
    this error's path/key/problem/fix)."""

    def __init__(self, errors: list[ScenarioError]):
        first = errors[0]
        lines = [f"{first.path}: {len(errors)} problems"]
        for error in errors:
            lines.append(f"  {error.key + ': ' if error.key else ''}{error.problem}")
            lines.append(f"    fix: {error.fix}")
        UsageError.__init__(self, "\n".join(lines), "fix each one above, then run again")
        self.path, self.key, self.problem, self.fix = first.path, first.key, first.problem, first.fix
        self.errors = list(errors)


class FrozenMap(Mapping[str, str]):
    """A read-only, hashable str → str mapping (keeps frozen dataclasses hashable)."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str] | None = None):
        self._items: tuple[tuple[str, str], ...] = tuple((items or {}).items())

    def __getitem__(self, key: str) -> str:
        for k, v in self._items:
            if k == key:
                return v
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (k for k, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._items)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self._items) == dict(other.items())
        return NotImplemented

    def __repr__(self) -> str:
        return f"FrozenMap({dict(self._items)!r})"


@dataclass(frozen=True)
class FunctionSpec:
    name: str                      # function name (or ARN for the aws target)
    code: Path | None              # absolute directory of the handler code (required for the local target)
    handler: str = "app.handler"
    runtime: str = "python3.12"
    architecture: str = limits.DEFAULT_ARCHITECTURE
    environment: Mapping[str, str] = field(default_factory=FrozenMap)  # set when lambdabench creates the function
    log_format: str = "Text"       # Text | JSON (only when lambdabench creates the function)
    ephemeral_storage_mb: int = limits.EPHEMERAL_STORAGE_DEFAULT_MB


@dataclass(frozen=True)
class TargetSpec:
    kind: str = "local"            # local | aws
    region: str | None = None      # None: local → "us-east-1"; aws → from profile/env (the CLI decides)
    profile: str | None = None
    endpoint_url: str | None = None
    isolation: str | None = None   # copy | in-place (aws target); None: copy (the CLI may override)
    samples: Path | None = None    # replay target: the recorded samples (CSV or results.jsonl), absolute


@dataclass(frozen=True)
class Payload:
    body: bytes                    # the exact JSON request body sent to Invoke
    weight: float = 1.0
    label: str = "default"         # name from the file, or "payload", "payload_file:<name>", "payloads[i]"


@dataclass(frozen=True)
class ScenarioSpec:
    kind: str                      # cold | warm | burst
    invocations: int = 0           # cold: invocations (each one forced cold); warm: measured invocations
    warmup: int = 0                # warm only: warm-up invokes (recorded, never in stats); default 2 for warm
    concurrency: int = 0           # burst only
    waves: int = 1                 # burst only
    pause_s: float = 0.0           # burst only: pause between waves

    def to_dict(self) -> dict[str, Any]:
        if self.kind == "cold":
            return {"kind": self.kind, "invocations": self.invocations}
        if self.kind == "warm":
            return {"kind": self.kind, "invocations": self.invocations, "warmup": self.warmup}
        return {"kind": self.kind, "concurrency": self.concurrency, "waves": self.waves, "pause_s": self.pause_s}


@dataclass(frozen=True)
class SweepSpec:
    memory_mb: tuple[int, ...]
    timeout_s: tuple[int, ...]
    architectures: tuple[str, ...] | None   # None: keep the function's architecture
    payloads: tuple[Payload, ...]           # at least one; default a single {} payload
    seed: int = 0                           # for weighted payload draws and any randomised order
    order: str = "sequential"               # sequential | shuffled (configs interleaved randomly, seeded)
    search: str = "grid"                    # grid: measure every point | adaptive: a model picks the sizes
    memory_range: tuple[int, int] | None = None  # adaptive: memory_mb = { min, max } (memory_mb holds every size)
    budget_invocations: int | None = None   # adaptive: most invocations the search may spend
    tolerance: float = DEFAULT_TOLERANCE    # adaptive: the pick is within this fraction of the best

    @property
    def adaptive(self) -> bool:
        return self.search == "adaptive"


@dataclass(frozen=True)
class RecommendSpec:
    strategy: str = "balanced"     # cost | speed | balanced | slo
    balanced_weight: float = 0.5   # Power Tuning's weight: w*cost/maxCost + (1-w)*duration/maxDuration
    p95_slo_ms: float | None = None  # required when strategy = slo
    cold_share: float | None = None  # blended cost at this cold-start share (0..1); None = observed
    percentile: float = 95.0       # for `speed`
    monthly_invocations: int | None = None  # price a month of this many invocations per configuration


HOOK_NAMES = ("before_config", "before_each", "after_each", "after_config")
HOOK_TIMEOUT_DEFAULT_S = 60.0
HOOK_TIMEOUT_MAX_S = 3600.0  # a setup step that needs more than an hour per call is not a hook's job


@dataclass(frozen=True)
class HookSpec:
    """One [hooks] entry: a Lambda function to invoke, or a command (argv, no shell) run in the scenario's
    folder. Exactly one of `function` and `command` is set."""

    function: str | None = None            # name or ARN, invoked through the target's client
    command: tuple[str, ...] | None = None  # argv; argv[0] with a '/' resolved against the scenario's folder
    timeout_s: float = HOOK_TIMEOUT_DEFAULT_S

    def to_dict(self) -> dict[str, Any]:
        what = {"function": self.function} if self.function is not None else {"command": list(self.command or ())}
        return {**what, "timeout_s": self.timeout_s}


@dataclass(frozen=True)
class HooksSpec:
    """[hooks]: setup and teardown around each configuration and each invocation (lambdabench.sweep.hooks)."""

    before_config: HookSpec | None = None
    before_each: HookSpec | None = None
    after_each: HookSpec | None = None
    after_config: HookSpec | None = None

    def items(self) -> list[tuple[str, HookSpec]]:
        return [(name, getattr(self, name)) for name in HOOK_NAMES if getattr(self, name) is not None]

    def to_dict(self) -> dict[str, Any]:
        return {name: spec.to_dict() for name, spec in self.items()}


@dataclass(frozen=True)
class Scenario:
    name: str
    path: Path                     # the scenario file
    function: FunctionSpec
    target: TargetSpec
    sweep: SweepSpec
    recommend: RecommendSpec
    scenarios: tuple[ScenarioSpec, ...]
    hooks: HooksSpec | None = None  # None: no [hooks] (the header then has no "hooks" key)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe copy for the results header: paths as strings, payload bodies as text."""
        f, t, s, r = self.function, self.target, self.sweep, self.recommend
        return {
            "name": self.name,
            "path": str(self.path),
            "function": {
                "name": f.name,
                "code": None if f.code is None else str(f.code),
                "handler": f.handler,
                "runtime": f.runtime,
                "architecture": f.architecture,
                "environment": dict(f.environment),
                "log_format": f.log_format,
                "ephemeral_storage_mb": f.ephemeral_storage_mb,
            },
            "target": {"kind": t.kind, "region": t.region, "profile": t.profile, "endpoint_url": t.endpoint_url,
                       **({"isolation": t.isolation} if t.isolation else {}),
                       **({"samples": str(t.samples)} if t.samples is not None else {})},
            "sweep": {
                "memory_mb": list(s.memory_mb),
                "timeout_s": list(s.timeout_s),
                "architectures": None if s.architectures is None else list(s.architectures),
                "payloads": [
                    {"label": p.label, "weight": p.weight, "body": p.body.decode("utf-8", errors="replace")}
                    for p in s.payloads
                ],
                "seed": s.seed,
                "order": s.order,
                # Only adaptive sweeps carry the search keys: a grid sweep's header is unchanged.
                **({"memory_mb": ({"min": s.memory_range[0], "max": s.memory_range[1]} if s.memory_range
                                  else list(s.memory_mb)),
                    "search": s.search, "budget_invocations": s.budget_invocations,
                    "tolerance": s.tolerance} if s.adaptive else {}),
            },
            "recommend": {
                "strategy": r.strategy,
                "balanced_weight": r.balanced_weight,
                "p95_slo_ms": r.p95_slo_ms,
                "cold_share": r.cold_share,
                "percentile": r.percentile,
                # Only when set, so headers (and resumes) of sweeps without it stay as they were.
                **({"monthly_invocations": r.monthly_invocations} if r.monthly_invocations is not None else {}),
            },
            "scenarios": [sc.to_dict() for sc in self.scenarios],
            **({"hooks": self.hooks.to_dict()} if self.hooks is not None else {}),
        }


# --- loading ----------------------------------------------------------------------------------

_T = TypeVar("_T")
_TOP_KEYS = ("name", "function", "target", "sweep", "recommend", "scenario", "hooks")
_HOOK_KEYS = ("function", "command", "timeout_s")
_FUNCTION_KEYS = ("name", "code", "handler", "runtime", "architecture", "environment", "log_format",
                  "ephemeral_storage_mb")
_TARGET_KEYS = ("kind", "region", "profile", "endpoint_url", "isolation", "samples")
_SWEEP_KEYS = ("memory_mb", "timeout_s", "architectures", "payload", "payload_file", "payloads", "seed", "order",
               "search", "budget_invocations", "tolerance")
_MEMORY_RANGE_KEYS = ("min", "max")
# The least that lets an adaptive search measure a few sizes (each change of size also pays for its
# warm-ups); a small budget ends the search early, and the report says it stopped undecided.
MIN_BUDGET_INVOCATIONS = 13
# Without budget_invocations: about what Power Tuning spends on two of its six sizes (num = 50), for a
# search over any number of sizes.
DEFAULT_BUDGET_INVOCATIONS = 120
_PAYLOAD_ENTRY_KEYS = ("weight", "payload", "payload_file", "label")
_RECOMMEND_KEYS = ("strategy", "balanced_weight", "p95_slo_ms", "cold_share", "percentile", "monthly_invocations")
_SCENARIO_KEYS = {
    "cold": ("kind", "invocations"),
    "warm": ("kind", "invocations", "warmup"),
    "burst": ("kind", "concurrency", "waves", "pause_s"),
}


def _describe(value: Any) -> str:
    """How a TOML value reads back to the user, with its TOML type."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the float {value}"
    if isinstance(value, str):
        return f"the string {json.dumps(value)}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, (_dt.date, _dt.time, _dt.datetime)):
        return f"the date/time {value.isoformat()}"
    return repr(value)


class _Loader:
    """Validates one parsed file; every error goes through `fail` so it names file, key and fix."""

    def __init__(self, path: Path):
        self.path = path
        self.base = path.parent
        self.errors: list[ScenarioError] = []

    def fail(self, key: str | None, problem: str, fix: str) -> ScenarioError:
        return ScenarioError(self.path, key, problem, fix)

    def collect(self, check: Callable[[], _T]) -> _T | None:
        """Run one independent check; its error is kept (the others still run) and None returned."""
        try:
            return check()
        except ScenarioError as error:
            self.errors.append(error)
            return None

    # -- generic checks --

    def table(self, data: Mapping[str, Any], key: str, prefix: str, *, required: bool) -> dict[str, Any]:
        if key not in data:
            if required:
                raise self.fail(f"[{prefix + key}]", "missing table",
                                f"add a [{prefix + key}] section (see scenarios/demo.toml)")
            return {}
        value = data[key]
        if not isinstance(value, dict):
            raise self.fail(prefix + key, f"must be a table, got {_describe(value)}",
                            f"write it as a [{prefix + key}] section")
        return value

    def unknown_keys(self, data: Mapping[str, Any], allowed: tuple[str, ...], prefix: str, what: str) -> None:
        for key in data:
            if key in allowed:
                continue
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            suggestion = f"did you mean {close[0]!r}? " if close else ""
            raise self.fail(prefix + key, f"unknown key in {what}",
                            f"{suggestion}valid keys: {', '.join(allowed)}")

    def string(self, data: Mapping[str, Any], key: str, prefix: str, default: Any = None, *,
               choices: tuple[str, ...] | None = None, required: bool = False) -> Any:
        if key not in data:
            if required:
                raise self.fail(prefix + key, "missing", f"add {key} = \"...\" to the file")
            return default
        value = data[key]
        if not isinstance(value, str):
            raise self.fail(prefix + key, f"must be a string, got {_describe(value)}",
                            f"quote the value: {key} = \"...\"")
        if choices is not None and value not in choices:
            same_case = [c for c in choices if c.lower() == value.lower()]  # "json" for "JSON"
            close = same_case or difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
            suggestion = f"did you mean {close[0]!r}? " if close else ""
            raise self.fail(prefix + key, f"{json.dumps(value)} is not one of {', '.join(choices)}",
                            f"{suggestion}use one of: {', '.join(choices)}")
        if choices is None and not value.strip():
            raise self.fail(prefix + key, "is empty", f"give {key} a value or remove the line")
        return value

    def integer(self, data: Mapping[str, Any], key: str, prefix: str, default: int | None, *,
                minimum: int, maximum: int | None = None, unit: str = "", required: bool = False) -> int | None:
        if key not in data:
            if required:
                raise self.fail(prefix + key, "missing", f"add {key} = <whole number{unit}> to the file")
            return default
        return self.integer_value(data[key], prefix + key, minimum=minimum, maximum=maximum, unit=unit)

    def integer_value(self, value: Any, key: str, *, minimum: int, maximum: int | None = None,
                      unit: str = "", why: str = "") -> int:
        span = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
        if isinstance(value, bool) or not isinstance(value, int):
            hint = f"write a whole number{unit} {span}, without quotes or decimals"
            raise self.fail(key, f"must be a whole number{unit}, got {_describe(value)}", hint)
        if value < minimum or (maximum is not None and value > maximum):
            raise self.fail(key, f"{value}{unit} is out of range{why}", f"use a whole number{unit} {span}")
        return value

    def number(self, data: Mapping[str, Any], key: str, prefix: str, default: float | None, *,
               low: float, high: float | None = None, low_open: bool = False, high_open: bool = False,
               unit: str = "") -> float | None:
        if key not in data:
            return default
        value = data[key]
        if high is None:
            bound = f"above {low:g}" if low_open else f"of at least {low:g}"
        else:
            bound = (f"above {low:g} and {'below' if high_open else 'at most'} {high:g}" if low_open
                     else f"from {low:g} to {high:g}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.fail(prefix + key, f"must be a number{unit}, got {_describe(value)}",
                            f"write a number{unit} {bound}, without quotes")
        if (value <= low if low_open else value < low) or (
                high is not None and (value >= high if high_open else value > high)):
            raise self.fail(prefix + key, f"{value:g}{unit} is out of range", f"use a number{unit} {bound}")
        return float(value)

    def int_list(self, data: Mapping[str, Any], key: str, prefix: str, *, minimum: int, maximum: int,
                 unit: str, why: str, example: str) -> tuple[int, ...]:
        dotted = prefix + key
        if key not in data:
            raise self.fail(dotted, "missing", f"add a list, e.g. {key} = {example}")
        values = data[key]
        if not isinstance(values, list):
            raise self.fail(dotted, f"must be a list, got {_describe(values)}",
                            f"write it in brackets, e.g. {key} = {example}")
        if not values:
            raise self.fail(dotted, "is empty", f"list at least one value, e.g. {key} = {example}")
        seen: dict[int, int] = {}
        for i, value in enumerate(values):
            item = self.integer_value(value, f"{dotted}[{i}]", minimum=minimum, maximum=maximum, unit=unit,
                                      why=why)
            if item in seen:
                raise self.fail(f"{dotted}[{i}]", f"{item}{unit} is listed twice (also at {dotted}[{seen[item]}])",
                                "remove the duplicate: each value is one point of the grid")
            seen[item] = i
        return tuple(values)

    def relative_path(self, value: Any, key: str, *, directory: bool, what: str) -> Path:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"must be a path string, got {_describe(value)}",
                            f"write the {what} as a quoted path relative to this file")
        if "\0" in value:
            raise self.fail(key, f"{json.dumps(value)} contains a null character, which no path can hold",
                            f"write the {what} as a quoted path relative to this file")
        try:
            resolved = (self.base / Path(value).expanduser()).resolve()
            exists, is_dir, is_file = resolved.exists(), resolved.is_dir(), resolved.is_file()
        except (OSError, RuntimeError) as exc:  # a name too long for the file system, a loop, no home folder
            shown = value if len(value) <= 80 else value[:77] + "..."
            raise self.fail(key, f"{what} {json.dumps(shown)} cannot be used: {_os_reason(exc)}",
                            f"fix the path; relative paths start at the scenario's folder {self.base}") from None
        if not exists:
            raise self.fail(key, f"{what} {resolved} does not exist",
                            f"fix the path; relative paths start at the scenario's folder {self.base}")
        if directory and not is_dir:
            raise self.fail(key, f"{resolved} is not a folder", f"point {key} at the folder holding the {what}")
        if not directory and not is_file:
            raise self.fail(key, f"{resolved} is not a file", f"point {key} at a file")
        return resolved

    # -- sections --

    def load(self, data: dict[str, Any]) -> Scenario:
        """The whole file is checked section by section (and [[scenario]] by [[scenario]]), so one run
        reports every independent problem; within a section the first problem stops it."""
        self.collect(lambda: self.unknown_keys(data, _TOP_KEYS, "", "the top level"))
        name = self.collect(lambda: self.name(data))
        target = self.collect(lambda: self.target(self.table(data, "target", "", required=False)))
        function = None
        if target is not None:  # what a function section needs depends on the target
            function = self.collect(lambda: self.function(self.table(data, "function", "", required=target.kind != "replay"), target,
                                                          name or self.path.stem))
        sweep = self.collect(lambda: self.sweep(self.table(data, "sweep", "", required=True)))
        recommend = self.collect(lambda: self.recommend(self.table(data, "recommend", "", required=False)))
        scenarios = self.collect(lambda: self.scenarios(data))
        hooks = self.collect(lambda: self.hooks(self.table(data, "hooks", "", required=False), target))
        if sweep is not None and sweep.adaptive and scenarios is not None and \
                not any(spec.kind == "warm" for spec in scenarios):
            self.errors.append(self.fail("[[scenario]]", "an adaptive search runs on the warm scenario, and there "
                                         "is none", "add a [[scenario]] with kind = \"warm\" and invocations = 30"))
        if target is not None and target.kind == "replay" and sweep is not None:
            self.collect(lambda: self.replay_sizes(target, sweep, data.get("sweep") or {}))
        if self.errors:
            raise self.errors[0] if len(self.errors) == 1 else ScenarioErrors(self.errors)
        return Scenario(name=name, path=self.path, function=function, target=target, sweep=sweep,
                        recommend=recommend, scenarios=scenarios, hooks=hooks)

    def replay_sizes(self, target: TargetSpec, sweep: SweepSpec, raw: Mapping[str, Any]) -> None:
        """Only sizes present in the samples file can be deployed on the replay target."""
        from lambdabench.tuning.replay import load_samples  # the one reader of sample files

        try:
            sizes = sorted({s.memory_mb for s in load_samples(target.samples)})
        except UsageError as exc:
            raise self.fail("target.samples", exc.message, exc.hint or "fix the samples file") from None
        available = ", ".join(map(str, sizes))
        if sweep.adaptive:
            inside = [m for m in sizes if sweep.memory_mb[0] <= m <= sweep.memory_mb[-1] and
                      (sweep.memory_range is not None or m in sweep.memory_mb)]
            if len(inside) < 2:
                raise self.fail("sweep.memory_mb", f"the samples file has {len(inside)} of these sizes "
                                f"(it has {available} MB)",
                                "give candidates (or a range) covering at least two sizes of the file")
            return
        for i, m in enumerate(sweep.memory_mb):
            if m not in sizes:
                key = f"sweep.memory_mb[{i}]" if isinstance(raw.get("memory_mb"), list) else "sweep.memory_mb"
                raise self.fail(key, f"{m} MB is not in the samples file {target.samples}",
                                f"use sizes the file has: {available} MB")

    def name(self, data: dict[str, Any]) -> str:
        name = self.string(data, "name", "", self.path.stem)
        if not _NAME_RE.match(name):
            raise self.fail("name", f"{json.dumps(name)} cannot be used as a folder name",
                            "use letters, digits, '.', '_' and '-' only (at most 64), starting with a letter "
                            "or digit")
        return name

    def target(self, data: dict[str, Any]) -> TargetSpec:
        p = "target."
        self.unknown_keys(data, _TARGET_KEYS, p, "[target]")
        kind = self.string(data, "kind", p, "local", choices=TARGET_KINDS)
        region = self.string(data, "region", p)
        if region is not None and not _REGION_RE.match(region):
            raise self.fail(p + "region", f"{json.dumps(region)} is not an AWS region name",
                            "use a region code such as \"us-east-1\" or \"eu-west-1\"")
        profile = self.string(data, "profile", p)
        endpoint = self.string(data, "endpoint_url", p)
        if endpoint is not None and not re.match(r"^https?://[^\s/]+", endpoint):
            raise self.fail(p + "endpoint_url", f"{json.dumps(endpoint)} is not an http(s) URL",
                            "write it as http://host:port or https://host")
        isolation = self.string(data, "isolation", p, choices=ISOLATIONS)
        if isolation is not None and kind != "aws":
            raise self.fail(p + "isolation", "applies to the aws target only",
                            f"remove it: the {kind} target creates its own function, so nothing of yours is "
                            "changed")
        samples: Path | None = None
        if kind == "replay":
            if "samples" not in data:
                raise self.fail(p + "samples", "missing: the replay target draws from recorded samples",
                                "add samples = \"file.csv\" (columns memory_mb,duration_ms; or a finished "
                                "sweep's results.jsonl), relative to this file")
            samples = self.relative_path(data["samples"], p + "samples", directory=False, what="samples file")
            if profile is not None or endpoint is not None:
                key = "profile" if profile is not None else "endpoint_url"
                raise self.fail(p + key, "applies to the aws target only",
                                "remove it: the replay target invokes nothing, it draws recorded samples")
        elif "samples" in data:
            raise self.fail(p + "samples", "applies to the replay target only",
                            "set kind = \"replay\" to replay recorded samples, or remove samples")
        return TargetSpec(kind=kind, region=region, profile=profile, endpoint_url=endpoint, isolation=isolation,
                          samples=samples)

    def function(self, data: dict[str, Any], target: TargetSpec, scenario_name: str) -> FunctionSpec:
        p = "function."
        self.unknown_keys(data, _FUNCTION_KEYS, p, "[function]")
        local = target.kind == "local"
        if target.kind == "replay":
            # Nothing is deployed: the name only labels the results; code is not needed.
            name = self.string(data, "name", p, f"lambdabench-{scenario_name}"[:64])
            code = None
            if "code" in data:
                code = self.relative_path(data["code"], p + "code", directory=True, what="code folder")
            architecture = self.string(data, "architecture", p, limits.DEFAULT_ARCHITECTURE,
                                       choices=limits.ARCHITECTURES)
            return FunctionSpec(name=name, code=code, handler=self.string(data, "handler", p, "app.handler"),
                                runtime=self.string(data, "runtime", p, "python3.12"), architecture=architecture,
                                environment=self.environment(data),
                                log_format=self.string(data, "log_format", p, "Text", choices=LOG_FORMATS),
                                ephemeral_storage_mb=self.integer(
                                    data, "ephemeral_storage_mb", p, limits.EPHEMERAL_STORAGE_DEFAULT_MB,
                                    minimum=limits.EPHEMERAL_STORAGE_MIN_MB,
                                    maximum=limits.EPHEMERAL_STORAGE_MAX_MB, unit=" MB"))
        if local:
            name = self.string(data, "name", p, f"lambdabench-{scenario_name}"[:64])
            if not _FUNCTION_NAME_RE.match(name):
                raise self.fail(p + "name", f"{json.dumps(name)} is not a Lambda function name",
                                "use 1-64 letters, digits, '-' or '_' (the local target creates the "
                                "function by name, so no ARN)")
        else:
            name = self.string(data, "name", p, required=True)
            ref = parse_function(name)
            if ref is not None and ref.qualifier is not None:
                raise self.fail(p + "name", f"{json.dumps(name)} is a qualified ARN (version or alias)",
                                "give the function name or its ARN without the :qualifier; the sweep changes "
                                "the unpublished function ($LATEST)")
            if ref is None or not (ref.is_arn or _FUNCTION_NAME_RE.match(name)):
                raise self.fail(p + "name", f"{json.dumps(name)} is neither a function name nor a function ARN",
                                "use the name (1-64 letters, digits, '-', '_') or "
                                "arn:aws:lambda:<region>:<account>:function:<name>")

        code: Path | None = None
        if "code" in data:
            code = self.relative_path(data["code"], p + "code", directory=True, what="code folder")
        elif local:
            raise self.fail(p + "code", "missing: the local target runs the handler from a folder",
                            "add code = \"functions/<folder>\" (relative to this file), the folder holding "
                            "the handler module")

        handler = self.string(data, "handler", p, "app.handler")
        problem = limits.handler_problem(handler)
        if problem is not None:
            raise self.fail(p + "handler", f"{json.dumps(handler)} is not a handler Lambda accepts: it {problem}",
                            "write it as module.function without blanks, e.g. handler = \"app.handler\" for "
                            "def handler() in app.py (Node.js: \"src/handlers/app.handler\" for a file in a folder)")
        runtime = self.string(data, "runtime", p, "python3.12")
        if code is not None:
            _check_handler_file(self, code, handler, runtime, p)
        if local and not _LOCAL_RUNTIME_RE.match(runtime):
            raise self.fail(p + "runtime", f"{json.dumps(runtime)} cannot run on the local target",
                            "the local emulator runs Python, Node.js and custom (bootstrap) handlers only: use "
                            "runtime = \"python3.12\" (or another python3.x, nodejs20.x/22.x/24.x, "
                            "provided.al2023), or sweep the function on AWS with [target] kind = \"aws\"")
        architecture = self.string(data, "architecture", p, limits.DEFAULT_ARCHITECTURE,
                                   choices=limits.ARCHITECTURES)

        environment = self.environment(data)
        log_format = self.string(data, "log_format", p, "Text", choices=LOG_FORMATS)
        storage = self.integer(data, "ephemeral_storage_mb", p, limits.EPHEMERAL_STORAGE_DEFAULT_MB,
                               minimum=limits.EPHEMERAL_STORAGE_MIN_MB, maximum=limits.EPHEMERAL_STORAGE_MAX_MB,
                               unit=" MB")
        return FunctionSpec(name=name, code=code, handler=handler, runtime=runtime, architecture=architecture,
                            environment=environment, log_format=log_format, ephemeral_storage_mb=storage)

    def environment(self, data: dict[str, Any]) -> FrozenMap:
        if "environment" not in data:
            return FrozenMap()
        env = data["environment"]
        if not isinstance(env, dict):
            raise self.fail("function.environment", f"must be a table, got {_describe(env)}",
                            "write it as environment = { NAME = \"value\" } or a [function.environment] section")
        for key, value in env.items():
            dotted = f"function.environment.{key}"
            if not limits.is_valid_environment_variable_name(key):
                raise self.fail(dotted, "is not a valid environment variable name",
                                "start with a letter and follow it with at least one letter, digit or '_' "
                                f"(Lambda's pattern {limits.environment_variable_name_pattern()})")
            if key in limits.RESERVED_ENVIRONMENT_KEYS:
                raise self.fail(dotted, "is an environment variable Lambda reserves",
                                "rename it; Lambda refuses to set its own variables (AWS_REGION, _HANDLER, ...)")
            if not isinstance(value, str):
                raise self.fail(dotted, f"must be a string, got {_describe(value)}",
                                f"Lambda environment values are strings: quote it, {key} = \"{value}\"")
        return FrozenMap(env)

    def sweep(self, data: dict[str, Any]) -> SweepSpec:
        p = "sweep."
        self.unknown_keys(data, _SWEEP_KEYS, p, "[sweep]")
        search = self.string(data, "search", p, "grid", choices=SEARCHES)
        memory_range: tuple[int, int] | None = None
        if isinstance(data.get("memory_mb"), dict):
            memory_range = self.memory_range(data["memory_mb"], p + "memory_mb", search)
            memory = tuple(range(memory_range[0], memory_range[1] + 1, limits.MEMORY_STEP_MB))
        else:
            memory = self.int_list(data, "memory_mb", p, minimum=limits.MEMORY_MIN_MB, maximum=limits.MEMORY_MAX_MB,
                                   unit=" MB", why=" (Lambda allows 128 to 10240 MB)", example="[128, 512, 1024]")
        budget = self.integer(data, "budget_invocations", p, None, minimum=MIN_BUDGET_INVOCATIONS,
                              maximum=1_000_000)
        tolerance = self.number(data, "tolerance", p, DEFAULT_TOLERANCE, low=0.0, high=0.5, low_open=True)
        timeout = self.int_list(data, "timeout_s", p, minimum=limits.TIMEOUT_MIN_S, maximum=limits.TIMEOUT_MAX_S,
                                unit=" s", why=" (Lambda allows 1 to 900 s)", example="[10]")
        architectures = None
        if "architectures" in data:
            values = data["architectures"]
            if not isinstance(values, list):
                raise self.fail(p + "architectures", f"must be a list, got {_describe(values)}",
                                "write it in brackets, e.g. architectures = [\"x86_64\", \"arm64\"]")
            if not values:
                raise self.fail(p + "architectures", "is empty",
                                "list at least one architecture, or remove the key to keep the function's own")
            for i, value in enumerate(values):
                if value not in limits.ARCHITECTURES:
                    raise self.fail(f"{p}architectures[{i}]", f"{_describe(value)} is not an architecture",
                                    f"use one of: {', '.join(limits.ARCHITECTURES)}")
                if value in values[:i]:
                    raise self.fail(f"{p}architectures[{i}]", f"{json.dumps(value)} is listed twice",
                                    "remove the duplicate")
            architectures = tuple(values)
        payloads = self.payloads(data)
        seed = self.integer(data, "seed", p, 0, minimum=0)
        order = self.string(data, "order", p, "sequential", choices=ORDERS)
        if search == "grid":
            for key in ("budget_invocations", "tolerance"):
                if key in data:
                    raise self.fail(p + key, "applies to search = \"adaptive\" only",
                                    "remove it, or add search = \"adaptive\" to let a model pick the sizes")
        else:
            if budget is None:
                budget = DEFAULT_BUDGET_INVOCATIONS
            if len(memory) < 2:
                raise self.fail(p + "memory_mb", "an adaptive search needs at least two sizes to choose from",
                                "give a range, memory_mb = { min = 128, max = 3008 }, or a list of candidates")
            if len(timeout) > 1:
                raise self.fail(p + "timeout_s", "an adaptive search runs at one timeout",
                                f"keep one value, e.g. timeout_s = [{max(timeout)}] (the longest you would allow)")
            if architectures is not None and len(architectures) > 1:
                raise self.fail(p + "architectures", "an adaptive search runs on one architecture",
                                "keep one architecture, or run one adaptive sweep per architecture")
            if order != "sequential":
                raise self.fail(p + "order", "an adaptive search chooses its own order",
                                "remove order (or set it to \"sequential\")")
        return SweepSpec(memory_mb=memory, timeout_s=timeout, architectures=architectures, payloads=payloads,
                         seed=seed, order=order, search=search, memory_range=memory_range,
                         budget_invocations=budget, tolerance=tolerance)

    def memory_range(self, value: dict[str, Any], key: str, search: str) -> tuple[int, int]:
        if search != "adaptive":
            raise self.fail(key, "a range { min, max } needs search = \"adaptive\"",
                            "add search = \"adaptive\" to [sweep], or list the sizes: memory_mb = [128, 512, 1024]")
        self.unknown_keys(value, _MEMORY_RANGE_KEYS, key + ".", "the memory range")
        bounds = []
        for end in _MEMORY_RANGE_KEYS:
            if end not in value:
                raise self.fail(f"{key}.{end}", "missing", "write the range as memory_mb = { min = 128, max = 3008 }")
            bounds.append(self.integer_value(value[end], f"{key}.{end}", minimum=limits.MEMORY_MIN_MB,
                                             maximum=limits.MEMORY_MAX_MB, unit=" MB",
                                             why=" (Lambda allows 128 to 10240 MB)"))
        lo, hi = bounds
        if lo >= hi:
            raise self.fail(f"{key}.min", f"min {lo} MB is not below max {hi} MB",
                            "give a range with min < max, e.g. { min = 128, max = 3008 }")
        return lo, hi

    def payloads(self, data: dict[str, Any]) -> tuple[Payload, ...]:
        given = [k for k in ("payload", "payload_file", "payloads") if k in data]
        if len(given) > 1:
            raise self.fail(f"sweep.{given[1]}", f"given together with sweep.{given[0]}",
                            "keep one: payload (inline), payload_file (a JSON file) or [[sweep.payloads]] "
                            "(weighted mix)")
        if not given:
            return (Payload(body=b"{}", weight=1.0, label="default"),)
        if given[0] == "payload":
            return (Payload(body=self.inline_body(data["payload"], "sweep.payload"), label="payload"),)
        if given[0] == "payload_file":
            path = self.relative_path(data["payload_file"], "sweep.payload_file", directory=False,
                                      what="payload file")
            return (Payload(body=self.file_body(path, "sweep.payload_file"), label=f"payload_file:{path.name}"),)
        entries = data["payloads"]
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise self.fail("sweep.payloads", f"must be an array of tables, got {_describe(entries)}",
                            "write each payload as a [[sweep.payloads]] section with weight and payload")
        if not entries:
            raise self.fail("sweep.payloads", "is empty", "add at least one [[sweep.payloads]] section")
        out: list[Payload] = []
        labels: dict[str, int] = {}
        for i, entry in enumerate(entries):
            p = f"sweep.payloads[{i}]."
            self.unknown_keys(entry, _PAYLOAD_ENTRY_KEYS, p, "[[sweep.payloads]]")
            weight = self.number(entry, "weight", p, 1.0, low=0.0, low_open=True)
            if "payload" in entry and "payload_file" in entry:
                raise self.fail(p + "payload_file", f"given together with {p}payload",
                                "keep one of payload (inline) and payload_file in each [[sweep.payloads]]")
            if "payload" in entry:
                body = self.inline_body(entry["payload"], p + "payload")
            elif "payload_file" in entry:
                path = self.relative_path(entry["payload_file"], p + "payload_file", directory=False,
                                          what="payload file")
                body = self.file_body(path, p + "payload_file")
            else:
                raise self.fail(p + "payload", "missing",
                                "give this [[sweep.payloads]] a payload = { ... } or a payload_file = \"...\"")
            label = self.string(entry, "label", p, f"payloads[{i}]")
            if label in labels:
                raise self.fail(p + "label", f"{json.dumps(label)} is also the label of sweep.payloads[{labels[label]}]",
                                "give each payload its own label")
            labels[label] = i
            out.append(Payload(body=body, weight=weight, label=label))
        return tuple(out)

    def inline_body(self, value: Any, key: str) -> bytes:
        bad = _first_non_json(value, key)
        if bad is not None:
            where, found = bad
            raise self.fail(where, f"{_describe(found)} has no JSON form",
                            "write dates and times as strings, e.g. \"2024-01-31\"")
        body = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        self.check_size(body, key)
        return body

    def file_body(self, path: Path, key: str) -> bytes:
        try:
            body = path.read_bytes()
        except OSError as exc:
            raise self.fail(key, f"{path} cannot be read: {_os_reason(exc)}",
                            "point it at a readable JSON file") from None
        self.check_size(body, key)
        try:
            json.loads(body)
        except UnicodeDecodeError:
            raise self.fail(key, f"{path} is not UTF-8 text", "save the payload file as UTF-8 JSON") from None
        except json.JSONDecodeError as exc:
            raise self.fail(key, f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
                            "fix the JSON in the payload file; Invoke sends it as the event") from None
        return body

    def check_size(self, body: bytes, key: str) -> None:
        if len(body) > limits.PAYLOAD_SYNC_MAX_BYTES:
            raise self.fail(key, f"payload is {len(body):,} bytes, over Lambda's synchronous limit of "
                                 f"{limits.PAYLOAD_SYNC_MAX_BYTES:,} bytes (6 MB)",
                            "use a smaller event; Lambda rejects larger synchronous requests")

    def recommend(self, data: dict[str, Any]) -> RecommendSpec:
        p = "recommend."
        self.unknown_keys(data, _RECOMMEND_KEYS, p, "[recommend]")
        strategy = self.string(data, "strategy", p, "balanced", choices=STRATEGIES)
        weight = self.number(data, "balanced_weight", p, 0.5, low=0.0, high=1.0)
        slo = self.number(data, "p95_slo_ms", p, None, low=0.0, low_open=True, unit=" ms")
        cold_share = self.number(data, "cold_share", p, None, low=0.0, high=1.0)
        # p0 and p100 are the min and max, not percentiles the analysis can put an interval on.
        percentile = self.number(data, "percentile", p, 95.0, low=0.0, high=100.0, low_open=True, high_open=True)
        monthly = self.integer(data, "monthly_invocations", p, None, minimum=1)
        if strategy == "slo" and slo is None:
            raise self.fail(p + "p95_slo_ms", "missing: strategy \"slo\" needs a latency objective",
                            "add p95_slo_ms = <milliseconds> (the cheapest configuration whose p95 stays under "
                            "it wins), or pick another strategy")
        return RecommendSpec(strategy=strategy, balanced_weight=weight, p95_slo_ms=slo, cold_share=cold_share,
                             percentile=percentile, monthly_invocations=monthly)

    def hooks(self, data: dict[str, Any], target: TargetSpec | None) -> HooksSpec | None:
        self.unknown_keys(data, HOOK_NAMES, "hooks.", "[hooks]")
        found = {name: self.hook(data[name], f"hooks.{name}", target) for name in HOOK_NAMES if name in data}
        return HooksSpec(**found) if found else None

    def hook(self, value: Any, key: str, target: TargetSpec | None) -> HookSpec:
        example = f'{key.split(".")[-1]} = {{ command = ["python3", "setup.py"] }} or {{ function = "my-setup" }}'
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table, got {_describe(value)}", f"write it as {example}")
        self.unknown_keys(value, _HOOK_KEYS, key + ".", f"a hook ({key})")
        given = [k for k in ("function", "command") if k in value]
        if len(given) != 1:
            problem = "gives both function and command" if given else "names neither a function nor a command"
            raise self.fail(key, problem, f"give exactly one: {example}")
        timeout = self.number(value, "timeout_s", key + ".", HOOK_TIMEOUT_DEFAULT_S, low=0.0, low_open=True,
                              high=HOOK_TIMEOUT_MAX_S, unit=" s")
        if given[0] == "function":
            name = self.string(value, "function", key + ".")
            if parse_function(name) is None:
                raise self.fail(key + ".function", f"{json.dumps(name)} is neither a function name nor a function ARN",
                                "use the name (1-64 letters, digits, '-', '_'), name:alias, or "
                                "arn:aws:lambda:<region>:<account>:function:<name>")
            if target is not None and target.kind == "local":
                raise self.fail(key + ".function", "a Lambda hook cannot run on the local target: its emulator "
                                "holds only the function under test",
                                "use a command hook, e.g. command = [\"python3\", \"setup.py\"], or sweep with "
                                "--target aws (--endpoint-url reaches `lambdabench serve`)")
            return HookSpec(function=name, timeout_s=timeout)
        return HookSpec(command=self.command(value["command"], key + ".command"), timeout_s=timeout)

    def command(self, argv: Any, key: str) -> tuple[str, ...]:
        fix = 'write it as a list of arguments (run without a shell), e.g. command = ["python3", "setup.py"]'
        if not isinstance(argv, list):
            raise self.fail(key, f"must be a list of strings, got {_describe(argv)}", fix)
        if not argv:
            raise self.fail(key, "is empty", fix)
        for i, arg in enumerate(argv):
            if not isinstance(arg, str):
                raise self.fail(f"{key}[{i}]", f"must be a string, got {_describe(arg)}", "quote each argument")
            if "\0" in arg:
                raise self.fail(f"{key}[{i}]", f"{json.dumps(arg)} contains a null character, which no argument "
                                "can hold", "remove it")
        program = argv[0]
        if not program.strip():
            raise self.fail(f"{key}[0]", "is empty", "name the program to run, e.g. \"python3\"")
        if "/" not in program:
            if shutil.which(program) is None:
                raise self.fail(f"{key}[0]", f"{json.dumps(program)} is not a program on PATH",
                                "install it, give its path (relative to this file, e.g. \"./hooks/setup.sh\"), "
                                "or run the script through its interpreter, e.g. [\"python3\", \"setup.py\"]")
            return tuple(argv)
        try:
            resolved = (self.base / Path(program).expanduser()).resolve()
            runnable = resolved.is_file() and os.access(resolved, os.X_OK)
            exists = resolved.exists()
        except (OSError, RuntimeError) as exc:
            shown = program if len(program) <= 80 else program[:77] + "..."
            raise self.fail(f"{key}[0]", f"program {json.dumps(shown)} cannot be used: {_os_reason(exc)}",
                            f"fix the path; relative paths start at the scenario's folder {self.base}") from None
        if not runnable:
            problem = "is not an executable file" if exists else "does not exist"
            raise self.fail(f"{key}[0]", f"program {resolved} {problem}",
                            f"fix the path (relative paths start at {self.base}), chmod +x it, or run it through "
                            "its interpreter, e.g. [\"python3\", \"setup.py\"]")
        return (str(resolved), *argv[1:])

    def scenarios(self, data: dict[str, Any]) -> tuple[ScenarioSpec, ...]:
        if "scenario" not in data:
            raise self.fail("[[scenario]]", "missing: nothing to run",
                            "add at least one [[scenario]] section with kind = \"cold\", \"warm\" or \"burst\"")
        entries = data["scenario"]
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise self.fail("scenario", f"must be an array of tables, got {_describe(entries)}",
                            "write each one as a [[scenario]] section (double brackets)")
        if not entries:
            raise self.fail("scenario", "is empty", "add at least one [[scenario]] section")
        specs = [self.collect(lambda i=i, entry=entry: self.scenario(i, entry)) for i, entry in enumerate(entries)]
        return tuple(spec for spec in specs if spec is not None)

    def scenario(self, i: int, entry: dict[str, Any]) -> ScenarioSpec:
        p = f"scenario[{i}]."
        if "kind" not in entry:
            raise self.fail(p + "kind", "missing", "add kind = \"cold\", \"warm\" or \"burst\"")
        kind = self.string(entry, "kind", p, choices=SCENARIO_KINDS)
        allowed = _SCENARIO_KEYS[kind]
        for key in entry:
            if key in allowed:
                continue
            owner = [k for k, keys in _SCENARIO_KEYS.items() if key in keys]
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            if owner:
                problem = f"not a key of a {kind} scenario (it belongs to {' and '.join(owner)})"
            else:
                problem = f"unknown key in a {kind} scenario"
            suggestion = f"did you mean {close[0]!r}? " if close else ""
            raise self.fail(p + key, problem, f"{suggestion}a {kind} scenario takes: {', '.join(allowed)}")
        if kind == "cold":
            return ScenarioSpec(kind="cold", invocations=self.integer(entry, "invocations", p, None, minimum=1,
                                                                      required=True))
        if kind == "warm":
            n = self.integer(entry, "invocations", p, None, minimum=1, required=True)
            warmup = self.integer(entry, "warmup", p, DEFAULT_WARMUP, minimum=0)
            return ScenarioSpec(kind="warm", invocations=n, warmup=warmup)
        concurrency = self.integer(entry, "concurrency", p, None, minimum=1, required=True)
        waves = self.integer(entry, "waves", p, 1, minimum=1)
        pause = self.number(entry, "pause_s", p, 0.0, low=0.0, unit=" s")
        return ScenarioSpec(kind="burst", concurrency=concurrency, waves=waves, pause_s=pause)


def _os_reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc)


def _is_file(path: Path) -> bool:
    """Path.is_file, false for a name the file system cannot hold (too long) instead of raising."""
    try:
        return path.is_file()
    except OSError:
        return False


def _first_non_json(value: Any, key: str) -> tuple[str, Any] | None:
    """The dotted key and value of the first TOML value with no JSON form (dates and times)."""
    if isinstance(value, (_dt.date, _dt.time, _dt.datetime)):
        return key, value
    if isinstance(value, dict):
        for k, v in value.items():
            found = _first_non_json(v, f"{key}.{k}")
            if found:
                return found
    if isinstance(value, list):
        for i, v in enumerate(value):
            found = _first_non_json(v, f"{key}[{i}]")
            if found:
                return found
    return None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file. Raises ScenarioError (exit 2) naming file, key and fix."""
    resolved, data = read_scenario_file(path)
    return load_scenario_data(data, resolved)


def load_scenario_data(data: dict[str, Any], path: Path) -> Scenario:
    """Validate an already parsed scenario mapping (a file's, possibly with command-line overrides applied);
    `path` names it in errors, relative paths start at its folder, and its stem is the default name."""
    return _Loader(path).load(data)


def read_scenario_file(path: str | Path) -> tuple[Path, dict[str, Any]]:
    """The resolved path and parsed TOML of a scenario file, not yet validated."""
    path = Path(path).expanduser()
    if not path.is_file():
        problem = "is a folder, not a file" if path.is_dir() else "not found"
        raise ScenarioError(path, None, f"scenario file {problem}",
                            "pass the path of a .toml scenario file, e.g. scenarios/demo.toml")
    path = path.resolve()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ScenarioError(path, None, "not UTF-8 text", "save the scenario file as UTF-8 TOML") from None
    except tomllib.TOMLDecodeError as exc:
        # tomllib puts the position in the message: "... (at line 3, column 7)".
        raise ScenarioError(path, None, f"invalid TOML: {exc}",
                            "fix the syntax at that position (strings need quotes, lists brackets, tables "
                            "[section] headers)") from None
    except ValueError as exc:
        # Python's int() refuses an integer literal of more than 4,300 digits (sys.int_info), and
        # tomllib lets that ValueError out; no Lambda setting needs a number that long.
        raise ScenarioError(path, None, f"cannot be read: {exc}",
                            "shorten the long number; Lambda's limits all have a few digits") from None
    return path, data
