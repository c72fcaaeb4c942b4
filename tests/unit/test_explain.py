"""Per-prediction explanations: additive contributions that sum to the model's own raw output, served without
scikit-learn from the ONNX artifact, on real exported data and on every family."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sluice.config import ModelConfig, load_config_text
from sluice.data import check_file, from_parquet_bytes
from sluice.data.infer import infer_contract
from sluice.data.infer_toml import contract_toml
from sluice.endpoint import PinnedModel
from sluice.explain.build import explainer_for
from sluice.explain.model import MAX_EXPLAIN_INSTANCES, Explainer
from sluice.local.aws_events import function_url_event
from sluice.predict import PredictService
from sluice.serving import OnnxModel, read_instances
from sluice.serving.sklearn_model import SklearnModel
from sluice.training import export_onnx, split_holdout, train_best
from sluice.training.export import signature_for
from sluice.training.families import build_pipeline
from sluice.training.features import feature_frame, target_values
from sluice.training.search import TrainingResult

REAL = Path(__file__).resolve().parents[1] / "data" / "real"
CASES = [("aer-hmda.csv", "deny"), ("islp-carseats.csv", "Sales"), ("cardata-titanicsurvival.csv", "survived")]


def accepted(file: str, target: str, text: bytes | None = None
             ) -> tuple[pd.DataFrame, list[dict[str, Any]], ModelConfig]:
    """A real export (or ``text`` named ``file``), its drafted contract, the accepted rows as training reads them
    and as JSON instances."""
    text = (REAL / file).read_bytes() if text is None else text
    draft = infer_contract(io.BytesIO(text), file, target=target)
    model = load_config_text(contract_toml("real", draft), source="draft").model("real")
    sink = io.BytesIO()
    assert check_file(io.BytesIO(text), file, model.contract, sink=sink).accepted
    table = from_parquet_bytes(sink.getvalue())
    return table.to_pandas(), table.select(list(model.contract.feature_names)).to_pylist(), model


def as_served(tensors: dict[str, np.ndarray], signature: Any) -> pd.DataFrame:
    """The request's tensors as the frame a pipeline takes (the values the endpoint actually scores)."""
    return pd.DataFrame({spec.name: tensors[spec.name].reshape(-1).astype(
        np.float64 if spec.kind == "float" else object) for spec in signature.inputs})


def raw_output(pipeline: Any, frame: pd.DataFrame, family: str, classes: tuple[str, ...] | None) -> np.ndarray:
    """What the explanations must add up to: log-odds, a forest's probability of the second class, or the value."""
    if classes is None:
        return np.asarray(pipeline.predict(frame))
    if family == "random_forest":
        return np.asarray(pipeline.predict_proba(frame))[:, 1]
    return np.asarray(pipeline.decision_function(frame))


def served_output(pipeline: Any, model: ModelConfig, family: str, frame: pd.DataFrame,
                  instances: list[dict[str, Any]]) -> tuple[np.ndarray, str]:
    """What the served ONNX artifact answers for ``instances`` — the second class's probability, or the value."""
    estimator = pipeline.named_steps["estimator"]
    classes = tuple(str(c) for c in estimator.classes_) if hasattr(estimator, "classes_") else None
    result = TrainingResult(pipeline=pipeline, family=family, params={}, cv={}, cv_metric="",
                            feature_names=model.contract.feature_names, classes=classes, training_rows=len(frame),
                            duration_s=0.0, explainer=explainer_for(pipeline, model.contract.feature_names,
                                                                    feature_frame(frame, model)))
    exported = export_onnx(result, model, frame.head(200))
    prediction = OnnxModel.from_bytes(exported.onnx_bytes, exported.signature).predict(instances)
    if classes is None:
        return np.asarray(prediction.outputs, dtype=np.float64), "value"
    return np.asarray([row[classes[1]] for row in prediction.probabilities or []]), "probability"


@pytest.mark.parametrize(("file", "target"), CASES, ids=[case[0] for case in CASES])
def test_every_family_explains_additively_what_it_serves(file, target):
    # GIVEN a real export and each candidate family fitted on its accepted rows
    frame, instances, model = accepted(file, target)
    features, labels = feature_frame(frame, model), target_values(frame, model)
    for family in model.training.families:
        pipeline = build_pipeline(family, model).fit(features, labels)
        estimator = pipeline.named_steps["estimator"]
        classes = tuple(str(c) for c in estimator.classes_) if hasattr(estimator, "classes_") else None
        signature = signature_for(model, classes)
        tensors = read_instances(instances[:60], signature).tensors
        served_frame = as_served(tensors, signature)
        # WHEN the explainer, sent through its serialized form, explains 60 requests
        explainer = Explainer.from_text(explainer_for(pipeline, model.contract.feature_names, features).to_text())
        explanations = explainer.explain(tensors, list(pipeline.predict(served_frame)))
        # THEN base + contributions is the value, over every feature
        for explanation in explanations:
            assert explanation.base + sum(explanation.contributions.values()) == pytest.approx(explanation.value,
                                                                                              abs=1e-9)
            assert set(explanation.contributions) == set(model.contract.feature_names)
        values = np.asarray([explanation.value for explanation in explanations])
        # AND a linear model's value is exactly the pipeline's raw output
        if family in ("logistic_regression", "ridge"):
            np.testing.assert_allclose(values, raw_output(pipeline, served_frame, family, classes), atol=1e-9)
        # AND every value is what the served ONNX artifact answers (its trees split in float32, as explained)
        served, kind = served_output(pipeline, model, family, frame, instances[:60])
        explained = values if kind == "value" or family == "random_forest" else 1 / (1 + np.exp(-values))
        np.testing.assert_allclose(explained, served, rtol=1e-5, atol=1e-5, err_msg=f"{file} {family}")


def test_a_multiclass_model_explains_the_predicted_class():
    # GIVEN a three-class logistic regression and gradient boosting on wine-like data
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300),
                          "colour": rng.choice(["red", "white", "rose"], 300)})
    frame["kind"] = np.where(frame.a > 0.5, "x", np.where(frame.b > 0, "y", "z"))
    toml = ('[models.wines]\ntask = "classification"\n[models.wines.contract]\ntarget = "kind"\n'
            'target_type = "string"\n[[models.wines.contract.columns]]\nname = "a"\ntype = "float"\n'
            '[[models.wines.contract.columns]]\nname = "b"\n'
            'type = "float"\n[[models.wines.contract.columns]]\nname = "colour"\ntype = "string"\n'
                        '[models.wines.training]\nfamilies = ["logistic_regression", "hist_gradient_boosting"]\n')
    model = load_config_text(toml, source="test").model("wines")
    features, labels = feature_frame(frame, model), target_values(frame, model)
    instances = frame[["a", "b", "colour"]].head(30).to_dict(orient="records")
    for family in ("logistic_regression", "hist_gradient_boosting"):
        pipeline = build_pipeline(family, model).fit(features, labels)
        classes = tuple(str(c) for c in pipeline.classes_)
        signature = signature_for(model, classes)
        tensors = read_instances(instances, signature).tensors
        served_frame = as_served(tensors, signature)
        predicted = list(pipeline.predict(served_frame))
        # WHEN explained
        explanations = explainer_for(pipeline, model.contract.feature_names, features).explain(tensors, predicted)
        # THEN each explains its predicted class; the linear model's value is that class's raw score exactly
        raw = pipeline.decision_function(served_frame)
        for row, explanation in enumerate(explanations):
            assert explanation.label == predicted[row]
            assert explanation.base + sum(explanation.contributions.values()) == pytest.approx(explanation.value)
            if family == "logistic_regression":
                assert explanation.value == pytest.approx(raw[row, classes.index(predicted[row])], abs=1e-9)


@pytest.fixture(scope="module")
def served_hmda():
    frame, instances, model = accepted("aer-hmda.csv", "deny")
    train, holdout = split_holdout(frame, model)
    result = train_best(train, model)
    exported = export_onnx(result, model, holdout)
    served = OnnxModel.from_bytes(exported.onnx_bytes, exported.signature)
    pinned = PinnedModel(model="hmda", version=3, sha256="0" * 64)
    return PredictService("hmda", pinned, lambda _: served), model, instances, result


def call(service: PredictService, verb: str, body: Any, method: str = "POST") -> tuple[int, dict[str, Any]]:
    event = function_url_event(method, f"/v1/models/hmda{verb}", json.dumps(body).encode(), {}, now=0.0)
    response = service.handle(event)
    return response["statusCode"], json.loads(response["body"])


def test_the_endpoint_explains_from_the_onnx_artifact_alone(served_hmda):
    # GIVEN the trained model served from its ONNX bytes (the explainer rides in their metadata)
    service, _, instances, _ = served_hmda
    # WHEN ten instances are explained and predicted
    status, explained = call(service, ":explain", {"instances": instances[:10]})
    _, predicted = call(service, ":predict", {"instances": instances[:10]})
    # THEN the answer carries the same predictions and one explanation per instance, ordered by magnitude
    assert status == 200 and explained["predictions"] == predicted["predictions"]
    assert explained["probabilities"] == predicted["probabilities"] and explained["model_version"] == "3"
    assert len(explained["explanations"]) == 10
    for item in explained["explanations"]:
        magnitudes = [abs(value) for value in item["contributions"].values()]
        assert magnitudes == sorted(magnitudes, reverse=True)
        assert item["base"] + sum(item["contributions"].values()) == pytest.approx(item["value"], abs=1e-9)
        assert item["class"] == "yes"
    # AND the served value agrees with the probability the endpoint returned (log-odds or probability)
    for item, probabilities in zip(explained["explanations"], predicted["probabilities"], strict=True):
        probability = probabilities["yes"]
        value = item["value"] if item["output"].startswith("probability") else 1 / (1 + np.exp(-item["value"]))
        assert value == pytest.approx(probability, abs=1e-4)


def test_explain_refuses_what_it_cannot_answer_with_a_4xx(served_hmda):
    service, model, instances, result = served_hmda
    # GIVEN the served model: too many instances, not a list, a wrong method, a broken instance
    status, body = call(service, ":explain", {"instances": instances[:1] * (MAX_EXPLAIN_INSTANCES + 1)})
    assert status == 413 and str(MAX_EXPLAIN_INSTANCES) in body["error"]
    assert call(service, ":explain", {"instances": {"a": 1}})[0] == 400
    assert call(service, ":explain", {}, method="GET")[0] == 405
    status, body = call(service, ":explain", {"instances": [{"nope": 1}]})
    assert status == 400 and "error" in body
    # AND a version served by its scikit-learn fallback says it cannot explain (no fault, no traceback)
    fallback = SklearnModel(result.pipeline, signature_for(model, result.classes))
    pinned = PinnedModel(model="hmda", version=4, sha256="0" * 64)
    status, body = call(PredictService("hmda", pinned, lambda _: fallback), ":explain", {"instances": instances[:2]})
    assert status == 501 and "fallback" in body["error"]
