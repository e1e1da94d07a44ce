"""`lambdabench price`, run as a real process: output, --json keys, exit statuses."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lambdabench", "price", *args],
                          capture_output=True, text=True, timeout=60)


def test_json_has_the_contract_keys_with_exact_values():
    proc = run("--memory", "1024", "--billed-ms", "300", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert {"compute_usd", "request_usd", "storage_usd", "total_usd", "per_million_usd"} <= set(data)
    assert data["compute_usd"] == 0.3 * 0.0000166667
    assert data["request_usd"] == 0.0000002
    assert data["storage_usd"] == 0.0
    assert data["total_usd"] == 0.3 * 0.0000166667 + 0.0000002
    assert data["per_million_usd"] == pytest.approx(5.20001, rel=1e-12)
    assert data["currency"] == "USD"
    assert proc.stderr == ""


def test_human_output_shows_units_and_per_million():
    proc = run("--memory", "1024", "--billed-ms", "300")
    assert proc.returncode == 0, proc.stderr
    assert "compute  0.0000050000 USD  (0.3 GB-s)" in proc.stdout
    assert "request  0.0000002000 USD" in proc.stdout
    assert "total    0.0000052000 USD per invocation" in proc.stdout
    assert "5.2000 USD per million invocations" in proc.stdout


def test_arm64_region_and_storage_are_priced():
    proc = run("--memory", "2048", "--billed-ms", "1000", "--arch", "arm64", "--region", "af-south-1",
               "--storage-mb", "1536", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["compute_usd"] == 2.0 * 0.00001768
    assert data["storage_usd"] == 1.0 * 0.0000000309


def test_per_month_projection_with_free_tier():
    proc = run("--memory", "512", "--billed-ms", "1000", "--per-month", "3000000", "--free-tier", "--json")
    assert proc.returncode == 0, proc.stderr
    month = json.loads(proc.stdout)["per_month"]
    assert month["invocations"] == 3_000_000
    assert month["free_gb_s"] == 400_000
    assert month["request_usd"] == pytest.approx(0.40, rel=1e-12)
    assert month["total_usd"] == pytest.approx(18.73337, rel=1e-12)


def test_price_override_prices_a_region_without_a_table():
    proc = run("--memory", "1024", "--billed-ms", "1000", "--region", "xx-test-1", "--price-gb-s", "0.00002",
               "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["compute_usd"] == 0.00002


def test_unknown_region_exits_2_naming_known_regions_and_the_override():
    proc = run("--memory", "1024", "--billed-ms", "300", "--region", "mars-east-1")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "mars-east-1" in proc.stderr
    assert "us-east-1" in proc.stderr and "eu-south-1" in proc.stderr
    assert "--price-gb-s" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_china_region_exits_2_saying_it_prices_in_cny():
    proc = run("--memory", "1024", "--billed-ms", "300", "--region", "cn-north-1")
    assert proc.returncode == 2
    assert "CNY" in proc.stderr and "--price-gb-s" in proc.stderr


@pytest.mark.parametrize("memory", ["127", "10241"])
def test_memory_out_of_range_exits_2(memory):
    proc = run("--memory", memory, "--billed-ms", "300")
    assert proc.returncode == 2
    assert f"memory {memory} MB is outside Lambda's range" in proc.stderr
    assert "128 to 10240" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("args, words", [
    (("--memory", "1024", "--billed-ms", "-5"), "billed duration -5 ms"),
    (("--memory", "1024", "--billed-ms", "5", "--storage-mb", "100"), "ephemeral storage 100 MB"),
    (("--memory", "1024", "--billed-ms", "5", "--price-gb-s", "-1"), "price per GB-second -1"),
    (("--memory", "1024", "--billed-ms", "5", "--free-tier"), "--free-tier applies to the monthly projection"),
    (("--memory", "1024", "--billed-ms", "5", "--cold-share", "0.1", "--cold-billed-ms", "9"),
     "--cold-share and --cold-billed-ms apply to the monthly projection only"),
    (("--memory", "1024", "--billed-ms", "5", "--per-month", "9", "--cold-share", "0.1"),
     "--cold-share and --cold-billed-ms go together"),
    (("--memory", "1024", "--billed-ms", "5", "--per-month", "9", "--cold-share", "2", "--cold-billed-ms", "9"),
     "cold share 2.0 is not between 0 and 1"),
    (("--memory", "abc", "--billed-ms", "5"), "'abc' is not a valid integer"),
    (("--billed-ms", "5",), "Missing option '--memory'"),
])
def test_bad_input_exits_2_with_a_message(args, words):
    proc = run(*args)
    assert proc.returncode == 2
    assert words in proc.stderr
    assert "Traceback" not in proc.stderr


def test_per_month_projection_with_a_cold_share():
    proc = run("--memory", "512", "--billed-ms", "36", "--per-month", "10000000", "--cold-share", "0.05",
               "--cold-billed-ms", "281")
    assert proc.returncode == 0, proc.stderr
    assert "per month: 10,000,000 invocations (5.0% cold, 281 ms billed each), 241,250.0 GB-s" in proc.stdout
    assert "total    6.02 USD per month" in proc.stdout
