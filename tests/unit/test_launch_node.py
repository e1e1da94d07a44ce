"""Which aws-lambda-ric runs a Node.js runtime: where packages are looked for (LAMBDABENCH_NODE_RIC, the
venv, node's globals), which count as installed, and Lambda's split of client versions by runtime."""

from __future__ import annotations

import json
import os
from pathlib import Path

from lambdabench.emulator.launch_node import RIC_ENV, RuntimeClient, find_runtime_clients, ric_places


def fake_ric(folder: Path, version: str, *, native: str | None = "rapid-client.node", name: str = "aws-lambda-ric",
             bin_path: str = "bin/index.mjs") -> Path:
    folder.mkdir(parents=True)
    (folder / "package.json").write_text(json.dumps({"name": name, "version": version,
                                                     "bin": {"aws-lambda-ric": bin_path}}))
    (folder / bin_path).parent.mkdir(parents=True, exist_ok=True)
    (folder / bin_path).write_text("")
    if native:
        (folder / native).parent.mkdir(parents=True, exist_ok=True)
        (folder / native).write_bytes(b"\x7fELF")
    return folder


def test_lambdas_split_3x_serves_nodejs20_and_22_4x_serves_nodejs24():
    three, four = (RuntimeClient(Path("/p"), Path("/p/i.mjs"), v) for v in ("3.3.0", "4.0.2"))
    assert [three.serves(r) for r in ("nodejs20.x", "nodejs22.x", "nodejs24.x")] == [True, True, False]
    assert [four.serves(r) for r in ("nodejs20.x", "nodejs22.x", "nodejs24.x")] == [False, False, True]
    assert not RuntimeClient(Path("/p"), Path("/p/i.mjs"), "2.1.0").serves("nodejs20.x")


def test_the_variable_names_the_only_places_and_empty_means_none(tmp_path):
    modules = tmp_path / "proj" / "node_modules"
    fake_ric(modules / "aws-lambda-ric", "3.3.0", native="dist/rapid-client.node")
    fake_ric(modules / "aws-lambda-ric-4", "4.0.2", bin_path="index.mjs")       # an npm alias
    fake_ric(modules / "aws-lambda-ric-broken", "3.2.0", native=None)          # its native build failed
    fake_ric(modules / "aws-lambda-ric-other", "1.0.0", name="something-else")  # not the package
    for entry in (tmp_path / "proj", modules):                                  # a folder holding it, or itself
        found = find_runtime_clients("/usr/bin/node", {RIC_ENV: str(entry)})
        assert [(c.package.name, c.version) for c in found] == [("aws-lambda-ric", "3.3.0"),
                                                                ("aws-lambda-ric-4", "4.0.2")]
    assert find_runtime_clients("/usr/bin/node", {RIC_ENV: ""}) == []
    single = fake_ric(tmp_path / "single", "3.1.0")
    both = os.pathsep.join([str(single), str(modules)])
    assert [c.version for c in find_runtime_clients("/usr/bin/node", {RIC_ENV: both})][:2] == ["3.1.0", "3.3.0"]


def test_without_the_variable_the_venv_comes_before_nodes_global_packages(monkeypatch, tmp_path):
    monkeypatch.setattr("sys.prefix", str(tmp_path / "venv"))
    places = ric_places(str(tmp_path / "node" / "bin" / "node"), {})
    assert places[:2] == [tmp_path / "venv" / "node_modules", tmp_path / "node" / "lib" / "node_modules"]


def test_entries_are_made_absolute(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert ric_places("/usr/bin/node", {RIC_ENV: "relative/place"}) == [tmp_path / "relative" / "place"]
