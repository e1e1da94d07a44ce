"""The ready Node.js scenario loads and its function computes what the Python demo's does."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from lambdabench.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]


def test_node_demo_scenario_loads_for_the_local_target():
    scenario = load_scenario(ROOT / "scenarios" / "node_demo.toml")
    assert (scenario.function.runtime, scenario.function.handler) == ("nodejs20.x", "index.handler")
    assert scenario.target.kind == "local"


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed (apt-get install nodejs)")
def test_node_demo_function_hashes_like_the_python_demo_function():
    import importlib.util

    spec = importlib.util.spec_from_file_location("cpu_hash_app", ROOT / "scenarios/functions/cpu_hash/app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    script = "import('./index.mjs').then(async (m) => console.log(JSON.stringify(await m.handler({mb: 2}))))"
    out = subprocess.run(["node", "-e", script], cwd=ROOT / "scenarios/functions/node_cpu_hash",
                         capture_output=True, text=True, timeout=60, check=True).stdout
    assert json.loads(out) == module.handler({"mb": 2}, None)
