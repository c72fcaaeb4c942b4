"""Model cards: the JSON document, a self-contained HTML page, and its plots rendered by a real browser."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from sluice.cards import CARD_SCHEMA, build_card, render_html
from sluice.config import TuningSettings, load_config
from sluice.evaluation import decide, report_holdout
from sluice.serving import OnnxModel
from sluice.training import export_onnx, split_holdout, train_best
from tests.conftest import HANG_GUARD_S

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "layers" / "sluice" / "python" / "sluice" / "demo" / "data"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CLASSIFICATION_PLOTS = {"plot-roc", "plot-pr", "plot-confusion", "plot-calibration", "plot-importance",
                        "plot-explanations"}


def make_card(name: str, csv: str, *, live: bool) -> dict:
    config = load_config(ROOT / "sluice.toml").model(name)
    config = dataclasses.replace(config, training=dataclasses.replace(config.training, tuning=TuningSettings(trials=4)))
    train, holdout = split_holdout(pd.read_csv(DATA / csv), config)
    result = train_best(train, config)
    exported = export_onnx(result, config, holdout)
    model = OnnxModel.from_bytes(exported.onnx_bytes, exported.signature)
    report = report_holdout(model, holdout, config, full=True)
    live_report = report_holdout(model, holdout, config, full=False) if live else None
    decision = decide(report.metrics, live_report.metrics if live_report else None, config.gates,
                      slices=report.slices, live_slices=live_report.slices if live_report else None)
    training = {"family": result.family, "params": result.params, "cv": result.cv, "cv_metric": result.cv_metric,
                "training_rows": result.training_rows, "search": result.search, "trials": list(result.trials),
                "artifact_sha256": "ab" * 32, "onnx_max_abs_diff": exported.max_abs_diff, "serving": "onnx"}
    return build_card(config, 2, data_version="d" * 16, training=training, candidate=report,
                      holdout_rows=len(holdout), live_version=1 if live else None, live=live_report,
                      decision=decision, created_at="2026-01-01T00:00:00Z")


@pytest.fixture(scope="module")
def cancer_card() -> dict:
    return make_card("breast-cancer", "breast_cancer.csv", live=True)


@pytest.fixture(scope="module")
def diabetes_card() -> dict:
    return make_card("diabetes", "diabetes.csv", live=False)


class Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: dict[str, dict[str, str | None]] = {}
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "img" and values.get("id"):
            self.images[str(values["id"])] = values
        for key in ("src", "href"):
            if values.get(key) and not str(values[key]).startswith("data:"):
                self.external.append(str(values[key]))


def test_the_card_records_data_trials_metrics_and_the_gate(cancer_card):
    card = cancer_card
    assert card["schema"] == CARD_SCHEMA and card["model"] == "breast-cancer" and card["version"] == 2
    assert card["data"]["data_version"] == "d" * 16 and card["data"]["holdout_rows"] == 114
    assert len(card["training"]["trials"]) == 4 and card["training"]["search"]["method"] == "optuna"
    assert card["gate"]["approved"] and card["evaluation"]["live_version"] == 1
    assert {entry["slice"] for entry in card["evaluation"]["slices"]} == {
        entry["slice"] for entry in card["evaluation"]["live_slices"]}
    assert json.loads(json.dumps(card)) == card


@pytest.mark.parametrize(("which", "plots"), [
    ("cancer_card", CLASSIFICATION_PLOTS),
    ("diabetes_card", {"plot-predicted", "plot-residuals", "plot-importance", "plot-explanations"}),
])
def test_the_html_is_self_contained_and_every_plot_is_valid_svg(which, plots, request):
    # GIVEN a card WHEN rendered to HTML
    page = render_html(request.getfixturevalue(which))
    parser = Images()
    parser.feed(page)
    # THEN nothing is loaded from elsewhere, and each plot is an embedded, well-formed SVG with drawn marks
    assert parser.external == [] and "<script" not in page
    assert set(parser.images) == plots
    for image in parser.images.values():
        src = str(image["src"])
        assert src.startswith("data:image/svg+xml;base64,")
        svg = ElementTree.fromstring(base64.b64decode(src.split(",", 1)[1]))
        marks = [e for e in svg.iter() if e.tag.split("}")[1] in ("polyline", "circle", "rect")]
        assert len(marks) > 3


CHECK_SCRIPT = """<script>
window.addEventListener('load', () => {
  for (const img of document.querySelectorAll('img.plot')) {
    const box = img.getBoundingClientRect();
    img.setAttribute('data-rendered', [img.complete, img.naturalWidth, img.naturalHeight,
                                       Math.round(box.width), Math.round(box.height)].join(','));
  }
  document.body.setAttribute('data-checked', 'yes');
});
</script></body>"""


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (`make browser` installs it)")
def test_a_real_browser_renders_every_plot(cancer_card, tmp_path):
    # GIVEN the card's HTML, with a probe script that records what the browser made of each plot
    page = render_html(cancer_card).replace("</body>", CHECK_SCRIPT)
    (tmp_path / "card.html").write_text(page, encoding="utf-8")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'p'}",
             "--virtual-time-budget=5000"]
    # WHEN headless Chromium loads it
    dom = subprocess.run([str(CHROMIUM), *flags, "--dump-dom", (tmp_path / "card.html").as_uri()],
                         capture_output=True, text=True, timeout=HANG_GUARD_S).stdout
    # THEN the probe ran, and every plot decoded as an image (natural size > 0) and is laid out on the page
    assert 'data-checked="yes"' in dom
    rendered = dict(re.findall(r'id="(plot-[a-z]+)"[^>]*?data-rendered="([^"]+)"', dom))
    if not rendered:  # attribute order is the browser's
        rendered = {i: r for r, i in re.findall(r'data-rendered="([^"]+)"[^>]*?id="(plot-[a-z]+)"', dom)}
    assert set(rendered) == CLASSIFICATION_PLOTS
    for values in rendered.values():
        complete, natural_w, natural_h, width, height = values.split(",")
        assert complete == "true" and int(natural_w) == 380 and int(natural_h) == 300
        assert int(width) > 0 and int(height) > 0
    # AND a screenshot of the page is not blank
    shot = tmp_path / "card.png"
    subprocess.run([str(CHROMIUM), *flags, "--window-size=1200,2000", f"--screenshot={shot}",
                    (tmp_path / "card.html").as_uri()], capture_output=True, timeout=HANG_GUARD_S)
    assert shot.stat().st_size > 20_000
