"""The example functions the ready scenarios deploy: results, determinism, bad events."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import pytest

FUNCTIONS = Path(__file__).resolve().parents[2] / "scenarios" / "functions"


@pytest.fixture(scope="module")
def load():
    loaded = {}

    def _load(name: str):
        if name not in loaded:
            spec = importlib.util.spec_from_file_location(f"lambdabench_example_{name}", FUNCTIONS / name / "app.py")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            loaded[name] = module
        return loaded[name]

    return _load


def test_cpu_hash_returns_the_chained_sha256_digest(load):
    block = bytes(range(256)) * 256
    digest = b""
    for _ in range(16):  # 1 MiB = 16 rounds of 64 KiB
        digest = hashlib.sha256(digest + block).digest()
    assert load("cpu_hash").handler({"mb": 1}, None) == {"mb": 1, "digest": digest.hex()}


@pytest.mark.parametrize("event", [{"mb": 0}, {"mb": "2"}, {"mb": True}, {"mb": 2048}])
def test_cpu_hash_rejects_bad_sizes(load, event):
    with pytest.raises(ValueError, match="'mb' must be a whole number from 1 to 1024"):
        load("cpu_hash").handler(event, None)


def test_io_wait_waits_the_requested_calls(load):
    result = load("io_wait").handler({"wait_ms": 5, "calls": 2}, None)
    assert result["calls"] == 2
    assert result["waited_ms"] >= 10.0


@pytest.mark.parametrize("event, words", [
    ({"wait_ms": -1}, "'wait_ms' must be a whole number >= 0"),
    ({"calls": 1.5}, "'calls' must be a whole number >= 0"),
    ({"wait_ms": 60_000, "calls": 2}, "at most 60000 ms"),
])
def test_io_wait_rejects_bad_events(load, event, words):
    with pytest.raises(ValueError, match=words):
        load("io_wait").handler(event, None)


def test_inference_scores_deterministically(load):
    app = load("inference")
    first = app.handler({"batch": 64, "repeat": 1}, None)
    again = app.handler({"batch": 64, "repeat": 2}, None)
    assert first["rows"] == 64
    assert sum(first["class_counts"]) == 64
    assert first["class_counts"] == again["class_counts"]
    assert first["mean_confidence"] == again["mean_confidence"]
    assert 0.25 <= first["mean_confidence"] <= 1.0  # softmax over 4 classes
    assert first["workers"] >= 1


@pytest.mark.parametrize("event", [{"batch": 0}, {"repeat": "1"}, {"batch": 1_000_000, "repeat": 2}])
def test_inference_rejects_bad_events(load, event):
    with pytest.raises(ValueError):
        load("inference").handler(event, None)
