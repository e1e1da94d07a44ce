"""`lambdabench init`: a commented scenario file, written from an existing function or a local handler.

Owns what a new scenario looks like. For a function it starts from the function's own configuration
(GetFunctionConfiguration: read only, nothing is changed): its timeout, a memory grid around its current
size, its architecture and runtime in the comments, and an event file to fill in. Environment values are
never written (the sweep's copy takes them from the function). For a local folder it finds the handler.
The file written passes `lambdabench sweep FILE --dry-run` as it stands.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambdabench import limits
from lambdabench.arns import REGION_RE, parse_function
from lambdabench.analysis.warnings import MIN_SAMPLES
from lambdabench.errors import UsageError
from lambdabench.scenario import DEFAULT_WARMUP
from lambdabench.scenario_flags import safe_name

# The memory grid around a function's current size: these multiples of it, clamped to Lambda's range.
GRID_FACTORS = (0.5, 1, 2, 4)
# A local handler's grid: from the smallest size to one full vCPU (1769 MB), where CPU stops scaling
# for a single-threaded handler.
LOCAL_GRID_MB = (128, 256, 512, 1024, 1769)
# The scenarios written: the analysis's minimum sample counts, so the first sweep raises no
# too_few_samples warning, and the loader's default warm-up.
COLD_INVOCATIONS = MIN_SAMPLES["cold"]
WARM_INVOCATIONS = MIN_SAMPLES["warm"]
WARMUP = DEFAULT_WARMUP
# Files a local handler is looked for in, most conventional first: (file, handler function).
_PYTHON_HANDLERS = (("lambda_function.py", "lambda_handler"), ("app.py", "handler"), ("handler.py", "handler"),
                    ("main.py", "handler"), ("index.py", "handler"))
_PY_DEF = re.compile(r"^(?:async\s+)?def\s+(lambda_handler|handler)\s*\(", re.M)
_JS_EXPORT = re.compile(r"^\s*(?:export\s+(?:const|let|var|async\s+function|function)\s+(handler)\b"
                        r"|(?:module\.)?exports\.(handler)\s*=)", re.M)


@dataclass(frozen=True)
class Written:
    scenario: Path
    event: Path
    event_written: bool  # False: an event file was already there and was kept


def read_function(name: str | None, *, region: str | None, profile: str | None,
                  endpoint_url: str | None) -> dict[str, Any]:
    """GetFunctionConfiguration of `name` (read only), with the region it was read in as `_Region`."""
    from lambdabench.sweep.clients import call, make_clients

    if not name:
        raise UsageError("no function given", "pass --function NAME_OR_ARN")
    ref = parse_function(name)
    if ref is None:
        raise UsageError(f"--function: {json.dumps(name)} is neither a function name nor a function ARN",
                         "use the name (1-64 letters, digits, '-', '_') or "
                         "arn:aws:lambda:<region>:<account>:function:<name>")
    if ref.qualifier is not None:
        raise UsageError(f"--function: {json.dumps(name)} is qualified (version or alias)",
                         "give the function name or its ARN without the :qualifier; the sweep measures $LATEST")
    if ref.region and region and ref.region != region:
        raise UsageError(f"the function ARN is in {ref.region}, but --region says {region}",
                         "drop --region (the ARN's region is used), or give the ARN of the function in that region")
    clients = make_clients("aws", region=ref.region or region, profile=profile, endpoint_url=endpoint_url)
    configuration = call(clients.control.get_function_configuration, FunctionName=name, function=name,
                         action="reading the function")
    return {**configuration, "_Region": clients.target.region}


def memory_grid(current_mb: int) -> list[int]:
    """Half, current, double and quadruple the current size, clamped to 128-10240 MB, without repeats."""
    out: list[int] = []
    for factor in GRID_FACTORS:
        size = min(max(int(current_mb * factor), limits.MEMORY_MIN_MB), limits.MEMORY_MAX_MB)
        if size not in out:
            out.append(size)
    return sorted(out)


def function_scenario(configuration: dict[str, Any], *, function: str, file: str, event_file: str,
                      profile: str | None = None, endpoint_url: str | None = None,
                      today: _dt.date | None = None) -> str:
    """The scenario text for sweeping an existing function, from its GetFunctionConfiguration."""
    name = safe_name(configuration.get("FunctionName") or function)
    memory = int(configuration.get("MemorySize") or limits.MEMORY_MIN_MB)
    timeout = int(configuration.get("Timeout") or limits.TIMEOUT_DEFAULT_S)
    architecture = (configuration.get("Architectures") or [limits.DEFAULT_ARCHITECTURE])[0]
    package = configuration.get("PackageType") or "Zip"
    runtime = configuration.get("Runtime") or ("container image" if package == "Image" else "unknown")
    handler = configuration.get("Handler") or "-"
    variables = len(((configuration.get("Environment") or {}).get("Variables")) or {})
    other = next(a for a in limits.ARCHITECTURES if a != architecture)
    grid = memory_grid(memory)
    date = (today or _dt.datetime.now(_dt.timezone.utc).date()).isoformat()
    q = json.dumps
    lines = [
        f"# lambdabench scenario for the Lambda function {configuration.get('FunctionName') or function},",
        f"# written by `lambdabench init` on {date} from its configuration (read only, nothing changed):",
        f"#   memory {memory} MB, timeout {timeout} s, {architecture}, runtime {runtime}, handler {handler}, "
        f"package {package}",
        f"#   {variables} environment variable(s): their values are not written here; the sweep's copy",
        "#   takes them from the function.",
        "#",
        f"#   lambdabench sweep {file} --dry-run     # the plan and what the sweep will cost",
        f"#   lambdabench sweep {file}               # asks before creating anything (--yes skips)",
        "#",
        "# The sweep measures a disposable copy of the function (same code, role, layers, environment, VPC),",
        "# deleted at the end; the function itself is only read. The copy still runs your code under the",
        "# function's role with the event below, with whatever side effects it has downstream (writes,",
        "# messages, calls): make the handler idempotent or point the event at test data. Every",
        "# invocation is billed at Lambda's prices.",
        "",
        f"name = {q(name)}",
        "",
        "[function]",
        "# The existing function: its name or unqualified ARN. Its code, handler, runtime and environment",
        "# are read from the function itself.",
        f"name = {q(function)}",
        "",
        "[target]",
        'kind = "aws"',
        f"region = {q(configuration['_Region'])}" if configuration.get("_Region") else '# region = "us-east-1"',
        f"profile = {q(profile)}" if profile else '# profile = "dev"               # a profile from ~/.aws/config',
        f"endpoint_url = {q(endpoint_url)}" if endpoint_url else
        '# endpoint_url = "http://127.0.0.1:9001"   # any Lambda-compatible endpoint',
        'isolation = "copy"             # or "in-place": changes the live function (see the README first)',
        "",
        "[sweep]",
        f"# Memory sizes around the current {memory} MB: half, the same, double and quadruple it, within",
        f"# Lambda's {limits.MEMORY_MIN_MB}-{limits.MEMORY_MAX_MB} MB. CPU grows with memory (one full vCPU at "
        "1769 MB),",
        "# so add sizes freely, e.g. 1769 or 3008.",
        f"memory_mb = {q(grid)}",
        "# The function's own timeout; it must cover the slowest run at the smallest size.",
        f"timeout_s = [{timeout}]",
        (f'# architectures = ["{architecture}", "{other}"]   # also measure {other} (the copy is redeployed)'
         if package != "Image" else "# (an image function keeps its architecture: its image is built for it)"),
        f"# The event every invocation sends: put a realistic one in {event_file} (JSON).",
        f"payload_file = {q(event_file)}",
        'order = "shuffled"             # interleave configurations, so drift is not mistaken for a difference',
        "seed = 0",
        "",
        *_recommend_and_scenarios(burst_comment=True),
    ]
    return "\n".join(lines) + "\n"


def local_scenario(code: Path, *, file: str, out_dir: Path, event_file: str, handler: str | None = None,
                   runtime: str | None = None, region: str | None = None) -> str:
    """The scenario text for a handler in a local folder (the local target runs it in the emulator)."""
    code = code.resolve()
    found_handler, found_runtime = find_handler(code, handler=handler, runtime=runtime)
    name = safe_name(code.name)
    q = json.dumps
    lines = [
        f"# lambdabench scenario for the handler in {code}, written by `lambdabench init`.",
        "#",
        f"#   lambdabench sweep {file} --dry-run     # the plan",
        f"#   lambdabench sweep {file}               # run it on the built-in emulator (no AWS account)",
        "#",
        "# The local target creates the function in lambdabench's emulator and runs the handler for real",
        "# with Lambda's CPU model (memory/1769 of a vCPU) at every memory size.",
        "",
        f"name = {q(name)}",
        "",
        "[function]",
        "# The handler's folder, relative to this file; the handler is <module>.<function> inside it.",
        f"code = {q(_code_path(code, out_dir))}",
        f"handler = {q(found_handler)}",
        f"runtime = {q(found_runtime)}",
        f'architecture = "{limits.DEFAULT_ARCHITECTURE}"',
        '# environment = { KEY = "value" }   # set when lambdabench creates the function',
        "",
        "[target]",
        'kind = "local"                 # the built-in emulator; "aws" sweeps a deployed function instead',
        f"region = {q(region or 'us-east-1')}" + " " * max(1, 20 - len(region or "us-east-1")) +
        "# prices the invocations",
        "",
        "[sweep]",
        "# From the smallest size to one full vCPU (1769 MB); Lambda allows 128-10240 MB.",
        f"memory_mb = {q(list(LOCAL_GRID_MB))}",
        f"# Lambda's default timeout; raise it if the handler needs longer at {LOCAL_GRID_MB[0]} MB.",
        f"timeout_s = [{limits.TIMEOUT_DEFAULT_S}]",
        f"# The event every invocation sends: put a realistic one in {event_file} (JSON).",
        f"payload_file = {q(event_file)}",
        'order = "sequential"           # or "shuffled"',
        "seed = 0",
        "",
        *_recommend_and_scenarios(burst_comment=True),
    ]
    return "\n".join(lines) + "\n"


def _code_path(code: Path, out_dir: Path) -> str:
    """Relative to the scenario's folder when it is inside it or next to it (the two move together, as in one
    repository), else absolute: a path that climbs to the filesystem's root only names where things lie today."""
    folder = out_dir.resolve()
    relative = Path(os.path.relpath(code, folder))
    shared = Path(os.path.commonpath([code, folder]))
    near = relative.parts.count("..") <= 1 and shared != Path(shared.anchor)
    return (relative if near else code).as_posix()


def _recommend_and_scenarios(*, burst_comment: bool) -> list[str]:
    lines = [
        "[recommend]",
        "# cost: cheapest; speed: fastest at p95; balanced: Power Tuning's w*cost/maxCost +",
        "# (1-w)*duration/maxDuration; slo: cheapest whose p95 stays under p95_slo_ms.",
        'strategy = "balanced"',
        "balanced_weight = 0.5",
        "# p95_slo_ms = 300             # required when strategy = \"slo\"",
        "",
        "# Run at every configuration, in this order. The counts are the fewest that give usable intervals.",
        "[[scenario]]",
        'kind = "cold"                  # each invocation forced cold (a fresh execution environment)',
        f"invocations = {COLD_INVOCATIONS}",
        "",
        "[[scenario]]",
        'kind = "warm"                  # sequential invocations on one warm environment',
        f"invocations = {WARM_INVOCATIONS}",
        f"warmup = {WARMUP}                     # recorded, never in the statistics",
    ]
    if burst_comment:
        lines += [
            "",
            "# Concurrency: `concurrency` invocations released together, `waves` times.",
            "# [[scenario]]",
            '# kind = "burst"',
            "# concurrency = 10",
            "# waves = 2",
            "# pause_s = 2.0",
        ]
    return lines


def find_handler(code: Path, *, handler: str | None = None, runtime: str | None = None) -> tuple[str, str]:
    """(handler, runtime) of the folder: as given, else found from its files."""
    if not code.is_dir():
        raise UsageError(f"--code: {code} is not a folder", "pass the folder that holds the handler module")
    python = f"python3.{sys.version_info.minor}"  # the emulator runs Python handlers on this interpreter
    if handler is not None:
        if runtime is None:
            module = handler.rsplit(".", 1)[0].replace(".", "/")
            node = any((code / f"{module}{ext}").is_file() for ext in (".mjs", ".js", ".cjs"))
            runtime = "nodejs22.x" if node else ("provided.al2023" if (code / "bootstrap").is_file() and
                                                 not (code / f"{module}.py").is_file() else python)
        return handler, runtime
    if (code / "bootstrap").is_file():
        return "function.handler", runtime or "provided.al2023"
    for filename, function in _PYTHON_HANDLERS:
        path = code / filename
        if path.is_file() and re.search(rf"^(?:async\s+)?def\s+{function}\s*\(", _text(path), re.M):
            return f"{path.stem}.{function}", runtime or python
    for path in sorted(code.glob("*.py")):
        match = _PY_DEF.search(_text(path))
        if match:
            return f"{path.stem}.{match.group(1)}", runtime or python
    for path in sorted(p for ext in ("*.mjs", "*.js", "*.cjs") for p in code.glob(ext)):
        if _JS_EXPORT.search(_text(path)):
            return f"{path.stem}.handler", runtime or "nodejs22.x"
    raise UsageError(f"--code: no handler found in {code} (looked for def handler / def lambda_handler in *.py, "
                     "an exported handler in *.mjs/*.js, a bootstrap executable)",
                     "name it with --handler module.function (and --runtime)")


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def write(text: str, out: Path, event: Path, *, force: bool) -> Written:
    """Write the scenario (never over an existing file unless `force`) and, when missing, its event file."""
    if out.exists() and not force:
        raise UsageError(f"{out} already exists", "pass --force to overwrite it, or -o another file")
    if out.is_dir():
        raise UsageError(f"{out} is a folder", "pass -o the path of a .toml file")
    out.parent.mkdir(parents=True, exist_ok=True)
    event_written = not event.exists()
    if event_written:  # an event already there is the user's: kept, also with --force
        event.write_text("{}\n", encoding="utf-8")
    out.write_text(text, encoding="utf-8")
    return Written(scenario=out, event=event, event_written=event_written)


def event_path(out: Path) -> Path:
    return out.with_name(out.stem + ".event.json")


def init_function(function: str, *, output: str | None, force: bool, profile: str | None, region: str | None,
                  endpoint_url: str | None) -> Written:
    """Read the function and write its scenario (default `<name>.toml` here) and event file."""
    configuration = read_function(function, region=region, profile=profile, endpoint_url=endpoint_url)
    out = Path(output or f"{safe_name(configuration.get('FunctionName') or function)}.toml")
    event = event_path(out)
    text = function_scenario(configuration, function=function, file=str(out), event_file=event.name,
                             profile=profile, endpoint_url=endpoint_url)
    return write(text, out, event, force=force)


def init_code(code: Path, *, output: str | None, force: bool, handler: str | None = None,
              runtime: str | None = None, region: str | None = None) -> Written:
    """Write the scenario (default `<folder name>.toml` here) and event file for the handler in `code`."""
    if region is not None and not REGION_RE.match(region):
        raise UsageError(f"--region: {json.dumps(region)} is not an AWS region name",
                         "use a region code such as us-east-1 or eu-west-1 (it prices the invocations)")
    out = Path(output or f"{safe_name(code.resolve().name)}.toml")
    event = event_path(out)
    text = local_scenario(code, file=str(out), out_dir=out.parent, event_file=event.name, handler=handler,
                          runtime=runtime, region=region)
    return write(text, out, event, force=force)
