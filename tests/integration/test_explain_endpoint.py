"""`POST /v1/models/<model>:explain` on the local stack: each family, trained by the real pipeline from a real
export, deployed, and explained through the endpoint — the contributions add up, and match what it predicts."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path

import pytest

from sluice.data.infer import infer_contract
from sluice.data.infer_toml import contract_toml
from tests.conftest import REPO

SOURCE = REPO / "tests" / "data" / "real" / "aer-hmda.csv"
FAMILIES = {"hmda-linear": "logistic_regression", "hmda-forest": "random_forest",
            "hmda-boosted": "hist_gradient_boosting"}


def one_family_config(folder: Path) -> Path:
    """The drafted contract of the HMDA export, once per family: that family only, its defaults (no search)."""
    text = SOURCE.read_bytes()
    draft = infer_contract(io.BytesIO(text), SOURCE.name, target="deny")
    sections = []
    for name, family in FAMILIES.items():
        section = contract_toml(name, draft, source=SOURCE.name)
        section = re.sub(r"^families = .*$", f'families = ["{family}"]', section, flags=re.MULTILINE)
        section = re.sub(r"^\[models\.[a-z-]+\.training\.tuning\]\ntrials = \d+\ntimeout_s = \d+\n", "", section,
                         flags=re.MULTILINE)
        sections.append(section)
    path = folder / "sluice.toml"
    path.write_text("\n".join(sections))
    return path


@pytest.fixture(scope="module")
def explained(tmp_path_factory: pytest.TempPathFactory):
    from sluice.local import LocalCloud, ScriptedMeter

    folder = tmp_path_factory.mktemp("explain")
    rows = list(csv.DictReader(io.StringIO(SOURCE.read_text())))
    instances = [{key: value for key, value in row.items() if key != "deny"} for row in rows[:20]]
    answers = {}
    with LocalCloud(one_family_config(folder), functions_dir=REPO / "functions", meter=ScriptedMeter()) as cloud:
        for model in FAMILIES:
            cloud.drop(SOURCE, model)
        cloud.run_until_idle()
        for model in FAMILIES:
            body = json.dumps({"instances": instances}).encode()
            answers[model] = (cloud.http("POST", f"/v1/models/{model}:explain", body),
                              cloud.http("POST", f"/v1/models/{model}:predict", body))
    return answers


@pytest.mark.parametrize("model", list(FAMILIES))
def test_each_family_is_explained_through_the_endpoint_and_adds_up(explained, model):
    # GIVEN the family trained and deployed from the real export; WHEN 20 rows (as the CSV spells them) are explained
    explain, predict = explained[model]
    # THEN the answer is the endpoint's own prediction, with one explanation per row
    assert explain.status == 200, explain.body
    assert explain.body["predictions"] == predict.body["predictions"]
    assert explain.body["model_version"] == "1" and len(explain.body["explanations"]) == 20
    for item, probabilities in zip(explain.body["explanations"], predict.body["probabilities"], strict=True):
        # AND base + contributions is the explained value, for the positive class, over every feature
        assert item["base"] + sum(item["contributions"].values()) == pytest.approx(item["value"], abs=1e-9)
        assert item["class"] == "yes" and "rownames" not in item["contributions"]
        # AND the value is the model's output behind the served probability (ONNX computes in float32)
        probability = item["value"] if item["output"].startswith("probability") else 1 / (1 + math.exp(-item["value"]))
        assert probability == pytest.approx(probabilities["yes"], abs=1e-4)
