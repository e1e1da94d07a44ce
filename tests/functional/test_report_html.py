"""index.html: parses, embeds every drawn chart, needs no network, and renders partial and failed sweeps."""

from __future__ import annotations

import base64
from dataclasses import replace
from html.parser import HTMLParser

import pytest

from lambdabench.analysis.model import ConfigPoint, Interval
from lambdabench.report import INDEX_FILE, write_report
from lambdabench.report.charts import CHART_FILES, expected_size_px
from lambdabench.report.html import render_index


class Page(HTMLParser):
    """Collects what the tests look at: images, links, scripts, table rows and visible text."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.images: list[dict[str, str]] = []
        self.links: list[str] = []
        self.external: list[str] = []
        self.metas: list[dict[str, str]] = []
        self.rows: list[dict[str, str]] = []
        self.cells: list[list[str]] = []
        self.skipped: list[str] = []
        self.text: list[str] = []
        self._in_cell = False
        self._in_style_or_script = False
        self.feed(text)
        self.close()

    INLINE = ("strong", "span", "a", "code", "em", "small", "b")

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag not in self.INLINE:
            self.text.append(" ")  # a block boundary separates words, as a browser renders it
        for key in ("src", "href"):
            value = a.get(key) or ""
            if value.startswith(("http://", "https://", "//")):
                self.external.append(value)
        if tag == "img":
            self.images.append(a)
        elif tag == "a":
            self.links.append(a["href"])
        elif tag == "meta":
            self.metas.append(a)
        elif tag == "tr" and "class" in a:
            self.rows.append(a)
            self.cells.append([])
        elif tag == "td":
            self._in_cell = True
            self.cells[-1].append("")
        if "data-skipped" in a:
            self.skipped.append(a["data-skipped"])
        if tag in ("style", "script"):
            self._in_style_or_script = True

    def handle_endtag(self, tag):
        if tag not in self.INLINE:
            self.text.append(" ")
        if tag == "td":
            self._in_cell = False
        elif tag in ("style", "script"):
            self._in_style_or_script = False

    def handle_data(self, data):
        if self._in_cell:
            self.cells[-1][-1] += data
        if not self._in_style_or_script:
            self.text.append(data)

    @property
    def visible(self) -> str:
        return " ".join("".join(self.text).split())


@pytest.fixture(scope="module")
def partial(report_fixtures):
    spec = report_fixtures.SweepSpec(memories=(128, 256, 512, 1024, 1769, 3008), timeouts=(3,), warm=10,
                                     burst_concurrency=5, missing=(ConfigPoint(3008, 3),))
    return report_fixtures.build_analysis(spec)


@pytest.fixture(scope="module")
def rendered(partial, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "nested" / "out"  # write_report creates the folder
    index = write_report(partial, out)
    return out, index, Page(index.read_text(encoding="utf-8"))


def test_write_report_returns_index_beside_every_png(rendered):
    out, index, page = rendered
    assert index == out / INDEX_FILE
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert pngs == sorted(n for n in CHART_FILES if n != "timeout_heatmap.png")


def test_every_written_chart_is_embedded_as_the_same_bytes(rendered):
    out, _, page = rendered
    embedded = {img["data-file"]: img for img in page.images}
    assert set(embedded) == {p.name for p in out.glob("*.png")}
    for name, img in embedded.items():
        prefix = "data:image/png;base64,"
        assert img["src"].startswith(prefix)
        assert base64.b64decode(img["src"][len(prefix):]) == (out / name).read_bytes()
        width, height = expected_size_px(name)
        assert (img["width"], img["height"]) == (str(width // 2), str(height // 2))  # CSS px of a 2x image
        assert len(img["alt"]) > 60, f"{name}: alt text should describe the chart with its numbers"


def test_a_chart_not_drawn_says_why(rendered):
    _, _, page = rendered
    assert page.skipped == ["timeout_heatmap.png"]
    assert "Not drawn Memory × timeout: the sweep used a single timeout (3 s)." in page.visible


def test_page_needs_no_network_and_links_the_sweep_files_relatively(rendered):
    _, _, page = rendered
    assert page.external == []
    for name in ("results.jsonl", "summary.csv", "report.json"):
        assert name in page.links
    assert {"name": "viewport", "content": "width=device-width, initial-scale=1"} in page.metas


def test_recommendation_card_shows_the_model_numbers(partial, rendered):
    _, _, page = rendered
    rec = partial.recommendation
    text = page.visible
    assert f"{rec.config.memory_mb} MB, timeout {rec.timeout_s} s" in text
    assert f"{rec.p50_ms:.0f} ms [{rec.p50_ci.low:.0f} ms – {rec.p50_ci.high:.0f} ms]" in text
    assert f"${rec.cost_per_million_usd:.2f}" in text
    assert rec.confidence in text and rec.reason in text


def test_savings_sentence_against_the_current_configuration(report_fixtures, tmp_path):
    base = report_fixtures.build_analysis(
        report_fixtures.SweepSpec(memories=(128, 1024), warm=5, original=ConfigPoint(128, 10)))
    base = replace(base, recommendation=replace(base.recommendation, config=ConfigPoint(1024, 10)))
    rec = replace(base.recommendation, savings_per_million_usd=1.25, savings_fraction=0.25)
    page = Page(render_index(replace(base, recommendation=rec), ()))
    assert "Saves $1.25 per million invocations (25%) against the current 128 MB / 10 s / x86_64." in page.visible

    rec = replace(base.recommendation, savings_per_million_usd=-0.5, savings_fraction=-0.1)
    page = Page(render_index(replace(base, recommendation=rec), ()))
    assert "Costs $0.500 more per million invocations (10% more) than the current 128 MB / 10 s / x86_64." \
        in page.visible

    rec = replace(base.recommendation, savings_per_million_usd=None, savings_fraction=None)
    page = Page(render_index(replace(base, recommendation=rec, original=ConfigPoint(640, 3)), ()))
    assert "The current configuration (640 MB / 3 s / x86_64) was not measured, so the saving against it is " \
           "unknown." in page.visible

    rec = replace(base.recommendation, config=ConfigPoint(128, 10), savings_per_million_usd=0.0, savings_fraction=0.0)
    page = Page(render_index(replace(base, recommendation=rec), ()))
    assert "This is the current configuration: keep it." in page.visible


def test_partial_sweep_shows_missing_configurations_as_missing_not_zero(partial, rendered):
    _, _, page = rendered
    assert ("Partial sweep: 5 of 6 configurations measured in full. Not measured: 3008 MB / 3 s / x86_64. "
            "They are shown as such below, never as zero") in page.visible
    classes = [r["class"] for r in page.rows]
    assert classes.count("missing") == 1
    assert sum("measured" in c.split() for c in classes) == 5
    missing_cells = page.cells[classes.index("missing")]
    assert missing_cells[:3] == ["3008 MB", "3 s", "x86_64"]
    assert missing_cells[3:10] == ["not measured"] * 7
    assert "$0" not in " ".join(missing_cells)


def test_an_incomplete_configuration_is_one_row_marked_incomplete(report_fixtures, tmp_path):
    # The analysis lists a configuration the sweep started but did not finish both as measured
    # (what it has) and as missing (planned samples absent): one row, marked, not two.
    base = report_fixtures.build_analysis(report_fixtures.SweepSpec(memories=(128, 512, 1024), warm=4))
    partial = replace(base, missing=(ConfigPoint(512, 10), ConfigPoint(2048, 10)))
    page = Page(render_index(partial, ()))
    assert ("Partial sweep: 2 of 3 configurations measured in full. Incomplete (fewer samples than planned): "
            "512 MB / 10 s / x86_64. Not measured: 2048 MB / 10 s / x86_64.") in page.visible
    classes = [r["class"] for r in page.rows]
    assert len(classes) == 4
    assert classes.count("missing") == 1
    row = page.cells[[i for i, c in enumerate(classes) if "incomplete" in c.split()][0]]
    assert row[0] == "512 MB"
    assert "incomplete: the sweep stopped before finishing it" in row[-1]


def test_table_has_one_row_per_configuration_with_intervals(partial, rendered):
    _, _, page = rendered
    first = partial.configs[0]
    row = page.cells[0]
    assert row[0] == "128 MB"
    assert row[3] == f"{first.p50_ms:.0f} ms{first.p50_ci.low:.0f} ms – {first.p50_ci.high:.0f} ms"  # value, CI line
    assert row[5] == f"${first.cost_per_million_usd:.2f}"


def test_methodology_names_target_region_mechanism_and_version(rendered):
    _, _, page = rendered
    text = page.visible
    assert "local (http://127.0.0.1:45123)" in text
    assert "us-east-1" in text
    assert "cgroup-v1 (period 20 ms, 2 host cores)" in text
    # what the emulator's Init Duration leaves out is said where the numbers are read
    assert "forked from a prepared interpreter: Init Duration is the runtime client's start plus your " \
           "handler's import, without starting Python itself" in text
    assert "cold: invocations 4; warm: invocations 10; burst: concurrency 5, waves 2" in text
    assert "lambdabench 0.1.0" in text
    assert "2026-11-27T06:00:00.000000Z to 2026-11-27T06:" in text


def test_warnings_show_their_remedy(report_fixtures, tmp_path):
    analysis = report_fixtures.build_analysis(
        report_fixtures.SweepSpec(memories=(256,), warm=5, burst_concurrency=4, reserved_concurrency=2))
    text = Page(write_report(analysis, tmp_path).read_text()).visible
    assert "Burst invocations were throttled (429). Remedy: Raise the reserved concurrency" in text


def test_everything_failed_renders_no_recommendation_with_the_reason(report_fixtures, tmp_path):
    analysis = report_fixtures.build_analysis(
        report_fixtures.SweepSpec(memories=(128, 256), cold=1, warm=2, fail_everything=True))
    assert analysis.recommendation is None
    page = Page(write_report(analysis, tmp_path).read_text())
    assert "No recommendation" in page.visible
    assert ("No configuration can be recommended: 128 MB / 10 s / x86_64: 3 error; "
            "256 MB / 10 s / x86_64: 3 error.") in page.visible
    assert page.images == []


def test_nothing_measured_still_renders(report_fixtures, tmp_path):
    base = report_fixtures.build_analysis(report_fixtures.SweepSpec(memories=(128,), warm=2))
    empty = replace(base, configs=(), pareto=(), recommendation=None, missing=(ConfigPoint(128, 10),),
                    invocations=base.invocations.iloc[0:0])
    page = Page(write_report(empty, tmp_path).read_text())
    assert "No configuration was measured, so there is nothing to recommend." in page.visible
    assert sorted(page.skipped) == sorted(CHART_FILES)


def test_text_from_the_results_file_is_escaped(report_fixtures, tmp_path):
    base = report_fixtures.build_analysis(report_fixtures.SweepSpec(memories=(128,), warm=2))
    hostile = replace(base, header={**base.header, "function_name": "<script>alert(1)</script>"})
    html = write_report(hostile, tmp_path).read_text()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_report_of_a_results_file_through_the_real_analysis(report_fixtures, tmp_path):
    """results.jsonl -> read_results -> analyze -> write_report: the path `lambdabench report DIR` takes."""
    from lambdabench.analysis import analyze
    from lambdabench.records import InvocationRecord
    from lambdabench.results import ResultsWriter, read_results

    fixture = report_fixtures.build_analysis(report_fixtures.SweepSpec(
        memories=(128, 512, 1769), timeouts=(3, 10), cold=3, warm=8, burst_concurrency=4, reserved_concurrency=3,
        missing=(ConfigPoint(1769, 10),)))
    header = {k: v for k, v in fixture.header.items() if k not in ("type", "format_version")}
    with ResultsWriter(tmp_path / "results.jsonl", header) as writer:
        for record in fixture.invocations.drop(columns=["type"]).to_dict("records"):
            writer.write_invocation(InvocationRecord.from_json(record))
    analysis = analyze(read_results(tmp_path))
    index = write_report(analysis, tmp_path)
    page = Page(index.read_text())
    drawn = sorted(p.name for p in tmp_path.glob("*.png"))
    assert drawn == sorted(CHART_FILES)  # two timeouts, bursts, cold starts: every chart has data
    assert sorted(img["data-file"] for img in page.images) == drawn
    assert [r["class"] for r in page.rows].count("missing") == 1
    assert len(page.rows) == len(analysis.configs) + 1 == 6
    if analysis.recommendation is not None:
        rec = analysis.recommendation
        assert f"{rec.config.memory_mb} MB, timeout {rec.timeout_s} s" in page.visible
    # Each kind of warning is shown once with its remedy, however many configurations raised it.
    kinds = {w.kind for w in analysis.warnings}
    assert "throttles" in kinds
    assert page.visible.count("Remedy:") == sum(len({w.remedy for w in analysis.warnings if w.kind == k})
                                                 for k in kinds)


def test_card_names_the_cost_and_percentile_the_recommendation_ranked_by(report_fixtures, tmp_path):
    base = report_fixtures.build_analysis(report_fixtures.SweepSpec(memories=(128, 1024), warm=5))
    summary = base.config(base.recommendation.config)
    rec = replace(base.recommendation, cost_per_million_usd=summary.blended_cost_per_million_usd,
                  latency_percentile=99.0, latency_ms=321.0, latency_ci=Interval(300.0, 345.5))
    text = Page(render_index(replace(base, recommendation=rec), ())).visible
    assert (f"cost per 1M invocations (at 5% cold starts) ${summary.blended_cost_per_million_usd:.2f}") in text
    assert "duration p99 (95% CI), ranked by 321 ms [300 ms – 346 ms]" in text

    plain = Page(render_index(base, ())).visible
    assert f"cost per 1M invocations ${base.recommendation.cost_per_million_usd:.2f}" in plain
    assert "ranked by" not in plain


def test_card_says_which_settings_to_change(report_fixtures):
    base = report_fixtures.build_analysis(
        report_fixtures.SweepSpec(memories=(128, 1024), warm=5, original=ConfigPoint(128, 3)))
    rec = replace(base.recommendation, config=ConfigPoint(1024, 10), timeout_s=2)
    text = Page(render_index(replace(base, recommendation=rec), ())).visible
    assert "Change: memory 128 → 1024 MB, timeout 3 → 2 s." in text

    same = replace(base.recommendation, config=ConfigPoint(128, 10), timeout_s=3)
    text = Page(render_index(replace(base, recommendation=same), ())).visible
    assert "No change: the current configuration is the pick." in text
