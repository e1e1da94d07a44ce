"""The example GitHub Actions gate (examples/github-actions/lambda-perf.yml) runs as written.

Not GitHub: the workflow's own `run: |` scripts, read with a small parser (no YAML library), run
in order with bash as a runner would (`bash --noprofile --norc -eo pipefail`, GITHUB_ENV,
GITHUB_STEP_SUMMARY, RUNNER_TEMP) in a git repository whose pull request either leaves the handler
alone or makes it slower. The gate must pass the first and fail the second, with the comparison as
Markdown in the job summary.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lambdabench import __version__

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "examples" / "github-actions" / "lambda-perf.yml"
BIN = Path(sys.executable).parent  # where this environment's `lambdabench` script lives

pytestmark = pytest.mark.slow


@dataclass
class Step:
    name: str
    env: dict[str, str] = field(default_factory=dict)
    run: str | None = None
    uses: str | None = None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _value(text: str) -> str:
    text = re.sub(r"\s+#.*$", "", text.strip())  # a trailing comment
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1]
    return text


def _mapping(lines: list[str], start: int, key_indent: int) -> tuple[dict[str, str], int]:
    """The `KEY: value` lines indented under the key on line start-1."""
    out: dict[str, str] = {}
    i = start
    while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > key_indent):
        stripped = lines[i].strip()
        if stripped and not stripped.startswith("#"):
            key, _, value = stripped.partition(":")
            out[key.strip()] = _value(value)
        i += 1
    return out, i


def parse_workflow(text: str) -> tuple[dict[str, str], list[Step]]:
    """The job's env and its steps (name, env, run script, uses) from the workflow's text."""
    lines = text.splitlines()
    job_env: dict[str, str] = {}
    steps: list[Step] = []
    item_indent = None
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        indent = _indent(line)
        if item_indent is None and stripped == "env:":
            job_env, i = _mapping(lines, i + 1, indent)
            continue
        if stripped == "steps:":
            item_indent = indent + 2
            i += 1
            continue
        if item_indent is not None and indent == item_indent and stripped.startswith("- "):
            steps.append(Step(name=""))
            stripped = stripped[2:]
            indent += 2
        if item_indent is not None and steps and indent == item_indent + 2:  # a key of the step itself
            step = steps[-1]
            key, _, value = stripped.partition(":")
            if key == "run" and value.strip() == "|":
                block = []
                i += 1
                while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > indent):
                    block.append(lines[i])
                    i += 1
                step.run = textwrap.dedent("\n".join(block)).strip("\n") + "\n"
                continue
            if key == "env":
                step.env, i = _mapping(lines, i + 1, indent)
                continue
            if key == "name":
                step.name = _value(value)
            elif key == "uses":
                step.uses = _value(value)
        i += 1
    return job_env, steps


def test_parser_reads_the_workflows_steps():
    job_env, steps = parse_workflow(WORKFLOW.read_text())
    assert job_env["TARGET"] == "local" and job_env["SCENARIO"] == "perf/lambda-perf.toml"
    assert job_env["FAIL_ON"] == "p95+10%,cost+10%"
    assert job_env["LAMBDABENCH"] == f"lambdabench=={__version__}"  # the example pins this release
    names = [s.name or s.uses for s in steps]
    assert names == ["actions/checkout@v4", "actions/setup-python@v5", "Install lambdabench",
                     "Check out the base commit", "Sweep the base", "Sweep the pull request",
                     "Compare (fails on a significant regression)", "Keep the reports"]
    compare = steps[6].run
    assert "lambdabench compare" in compare and "--markdown" in compare and "$GITHUB_STEP_SUMMARY" in compare
    assert steps[3].env == {"BASE_SHA": "${{ github.event.pull_request.base.sha }}"}
    assert 'pip install "$LAMBDABENCH"' in steps[2].run
    # The aws target's pieces are there, commented, for a team to switch on.
    text = WORKFLOW.read_text()
    assert "# id-token: write" in text and "#   uses: aws-actions/configure-aws-credentials@v4" in text


HANDLER = """\
import time


def handler(event, context):
    time.sleep({sleep_s})
    return {{"ok": True}}
"""

SCENARIO = """\
name = "ci-gate"
[function]
name = "lb-ci-gate"
code = "../src"
handler = "app.handler"
[sweep]
memory_mb = [256]
timeout_s = [5]
[[scenario]]
kind = "warm"
invocations = 12
warmup = 1
"""


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


def pull_request(tmp_path: Path, *, new_sleep_s: float) -> tuple[Path, str]:
    """A repository with a base commit (handler sleeping 10 ms) and the pull request's head on top."""
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    (repo / "perf").mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "src" / "app.py").write_text(HANDLER.format(sleep_s=0.01))
    (repo / "perf" / "lambda-perf.toml").write_text(SCENARIO)
    (repo / "README.md").write_text("a function\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    base = git(repo, "rev-parse", "HEAD")
    (repo / "src" / "app.py").write_text(HANDLER.format(sleep_s=new_sleep_s))
    (repo / "README.md").write_text("a function, documented\n")
    git(repo, "commit", "-q", "-am", "the pull request")
    return repo, base


def run_workflow(repo: Path, base_sha: str, tmp_path: Path, **env_overrides: str) -> tuple[dict[str, int], str]:
    """Run the workflow's scripts in order as a runner would; returns (exit status per step, summary)."""
    job_env, steps = parse_workflow(WORKFLOW.read_text())
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    summary = tmp_path / "step_summary.md"
    github_env = tmp_path / "github_env"
    summary.touch()
    github_env.touch()
    expressions = {"${{ github.event.pull_request.base.sha }}": base_sha}
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "RUNNER_TEMP": str(runner_temp),
           "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_ENV": str(github_env), "GITHUB_WORKSPACE": str(repo),
           "CI": "true", **job_env, **env_overrides}
    statuses: dict[str, int] = {}
    for step in steps:
        if step.run is None or step.name == "Install lambdabench":  # installed here already; no network
            continue
        step_env = {k: expressions.get(v, v) for k, v in step.env.items()}
        for value in [*step_env.values(), step.run]:
            assert "${{" not in value, f"{step.name}: an expression the test does not know: {value}"
        script = tmp_path / f"step-{len(statuses)}.sh"
        script.write_text(step.run)
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=repo,
                              env={**env, **step_env}, capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)
        statuses[step.name] = proc.returncode
        if proc.returncode != 0 and "Compare" not in step.name:
            pytest.fail(f"step {step.name!r} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        for line in github_env.read_text().splitlines():  # as the runner does between steps
            key, _, value = line.partition("=")
            env[key] = value
        if proc.returncode != 0:
            break
    return statuses, summary.read_text()


# The default limits are +10%; this shared 2-core test machine gets +50% so that only the
# injected regression (10 ms -> 60 ms per invocation) can cross them.
LIMITS = {"FAIL_ON": "p95+50%,cost+50%"}


def test_gate_passes_a_pull_request_that_leaves_the_handler_alone(tmp_path):
    repo, base = pull_request(tmp_path, new_sleep_s=0.01)
    statuses, summary = run_workflow(repo, base, tmp_path, **LIMITS)
    assert statuses == {"Check out the base commit": 0, "Sweep the base": 0, "Sweep the pull request": 0,
                        "Compare (fails on a significant regression)": 0}
    assert summary.startswith("## Lambda performance: this pull request against its base\n")
    assert "| configuration | scenario | metric | base | new | ratio [95% CI] | verdict |" in summary
    assert "| 256 MB / 5 s / x86_64 | warm | p95 |" in summary
    assert "**Result: OK**" in summary and "REGRESSION" not in summary
    assert "Limits: p95 +50%, cost +50%." in summary
    perf = tmp_path / "runner-temp" / "lambda-perf"
    assert (perf / "base" / "report.json").exists() and (perf / "new" / "report.json").exists()


def test_gate_fails_a_pull_request_that_makes_the_handler_slower(tmp_path):
    repo, base = pull_request(tmp_path, new_sleep_s=0.06)
    statuses, summary = run_workflow(repo, base, tmp_path, **LIMITS)
    assert statuses == {"Check out the base commit": 0, "Sweep the base": 0, "Sweep the pull request": 0,
                        "Compare (fails on a significant regression)": 1}
    assert "| 256 MB / 5 s / x86_64 | warm | p95 |" in summary
    p95 = next(line for line in summary.splitlines() if "| warm | p95 |" in line)
    assert p95.endswith("| **REGRESSION** |")
    assert "**Result: FAILED**" in summary
    # The base really was the base commit's code: about 10 ms against about 60 ms.
    base_ms, new_ms = (float(x) for x in re.findall(r"\| ([\d.]+) ms", p95))
    assert 10 <= base_ms < 40 and new_ms >= 60
