"""index.html in a real browser: headless chromium loads every image, runs the sort script without
an error, fits a phone's width, and leaves a screenshot (tests/artifacts/report.png) for a person.

The page checks itself when opened as `index.html?selftest` and writes a JSON verdict into
`#lb-selftest`; chromium's `--dump-dom` prints the DOM after the load event, which we parse.
Skips, saying why, only where no chromium can be found (.ci/run installs Debian's).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from lambdabench.analysis.model import ConfigPoint
from lambdabench.report import write_report
from lambdabench.report.charts import expected_size_px

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


@pytest.fixture(scope="module")
def chromium() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    reason = f"no headless browser found (looked for {', '.join(BROWSERS)}); .ci/run installs Debian's chromium"
    print(reason)
    pytest.skip(reason)


def run_chromium(binary: str, profile: Path, url: str, *extra: str) -> str:
    """One headless run with a fresh profile; returns stdout (the DOM dump when asked for)."""
    command = [
        binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--no-first-run", "--disable-component-update", "--disable-sync", "--disable-extensions",
        "--hide-scrollbars", f"--user-data-dir={profile}",
        # Lets timers and the load event run to completion before the dump, however busy the host is.
        "--virtual-time-budget=10000",
        *extra, url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"chromium failed ({done.returncode}): {done.stderr[-2000:]}"
    return done.stdout


def selftest(binary: str, tmp_path: Path, index: Path, width: int, height: int) -> dict:
    profile = tmp_path / f"profile-{width}"
    profile.mkdir()
    dom = run_chromium(binary, profile, index.as_uri() + "?selftest", f"--window-size={width},{height}",
                       "--dump-dom")
    match = re.search(r'<pre id="lb-selftest"[^>]*>(.*?)</pre>', dom, re.S)
    assert match, "the page wrote no self-test verdict (did its script run?)"
    assert match.group(1), "self-test verdict is empty: the load handler did not finish"
    return json.loads(html.unescape(match.group(1)))


@pytest.fixture(scope="module")
def report(report_fixtures, tmp_path_factory):
    spec = report_fixtures.SweepSpec(timeouts=(3, 10), warm=10, burst_concurrency=6, reserved_concurrency=5,
                                     missing=(ConfigPoint(3008, 10),))
    analysis = report_fixtures.build_analysis(spec)
    out = tmp_path_factory.mktemp("browser-report")
    return analysis, write_report(analysis, out)


def test_every_image_loads_and_no_script_error_at_1280px(chromium, report, tmp_path):
    _, index = report
    verdict = selftest(chromium, tmp_path, index, 1280, 2400)
    assert verdict["errors"] == []
    files = sorted(p.name for p in index.parent.glob("*.png"))
    assert sorted(img["file"] for img in verdict["images"]) == files and len(files) == 7
    for img in verdict["images"]:
        assert img["complete"] is True
        assert (img["naturalWidth"], img["naturalHeight"]) == expected_size_px(img["file"]), img["file"]
        assert img["alt"]


def test_configuration_table_sorts_both_ways_with_missing_last(chromium, report, tmp_path):
    analysis, index = report
    verdict = selftest(chromium, tmp_path, index, 1280, 2400)
    ascending, descending = verdict["sortOrders"]
    costs = sorted(c.cost_per_million_usd for c in analysis.configs)
    assert [float(v) for v in ascending[:len(costs)]] == pytest.approx(costs)
    assert [float(v) for v in descending[:len(costs)]] == pytest.approx(costs[::-1])
    assert ascending[len(costs):] == descending[len(costs):] == [""]  # the missing 3008 MB / 10 s row


def test_page_fits_a_phone_without_sideways_scrolling(chromium, report, tmp_path):
    _, index = report
    # Headless chromium will not make a window narrower than 500 px; that is already below the
    # page's 600 px phone breakpoint, so the phone layout is what gets checked.
    verdict = selftest(chromium, tmp_path, index, 390, 844)
    assert verdict["errors"] == []
    assert verdict["innerWidth"] <= 500
    assert verdict["scrollWidth"] <= verdict["innerWidth"]
    assert all(img["naturalWidth"] > 0 for img in verdict["images"])


def test_screenshot_is_saved_for_review(chromium, report, tmp_path):
    _, index = report
    profile = tmp_path / "profile-shot"
    profile.mkdir()
    shot = tmp_path / "report.png"
    run_chromium(chromium, profile, index.as_uri(), "--window-size=1280,2400", f"--screenshot={shot}")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1280, 2400)
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copyfile(shot, ARTIFACTS / "report.png")  # git-ignored; for the lead to look at


def test_no_recommendation_page_loads_cleanly(chromium, report_fixtures, tmp_path):
    analysis = report_fixtures.build_analysis(
        report_fixtures.SweepSpec(memories=(128, 256), cold=1, warm=2, burst_concurrency=2, fail_everything=True))
    index = write_report(analysis, tmp_path / "failed")
    verdict = selftest(chromium, tmp_path, index, 1280, 1600)
    assert verdict["errors"] == []
    assert [img["file"] for img in verdict["images"]] == ["burst_timeline.png"]
    assert verdict["images"][0]["naturalWidth"] == expected_size_px("burst_timeline.png")[0]
