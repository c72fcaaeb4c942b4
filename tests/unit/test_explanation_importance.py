"""The explanations agree with the model card's global importance: each feature's mean |contribution| in the
``:explain`` answers over the holdout (the card's "explanation importance", computed by the code ``:explain`` runs)
ranks the features as the card's permutation importance does, for every family, on real data."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from sluice.config import ModelConfig
from sluice.evaluation import report_holdout
from sluice.evaluation.importance import explanation_importance
from sluice.explain.build import explainer_for
from sluice.explain.importance import mean_abs_contributions
from sluice.explain.model import MAX_EXPLAIN_INSTANCES, Explainer, Explanation
from sluice.predict.explaining import explain_document
from sluice.serving import OnnxModel
from sluice.training import export_onnx, split_holdout
from sluice.training.families import build_pipeline
from sluice.training.features import feature_frame, instances_from_frame, target_values
from sluice.training.search import TrainingResult
from tests.unit.test_explain import REAL, accepted

AGREEMENT = 0.8
"""Least Spearman rank correlation between the two importances. Measured on Carseats: 0.88-0.96 over the six
models; with the explanations' feature names rotated by one (a wrong mapping) 0.04-0.22, and over 200 random
relabellings the 95th percentile is about 0.58."""


def carseats(task: str) -> tuple[pd.DataFrame, ModelConfig]:
    """ISLR's Carseats (400 stores, 10 features): Sales as the regression target, or the book's classification
    task, High = Sales > 8."""
    if task == "regression":
        frame, _, model = accepted("islp-carseats.csv", "Sales")
        return frame, model
    raw = pd.read_csv(REAL / "islp-carseats.csv")
    raw["High"] = np.where(raw.pop("Sales") > 8, "Yes", "No")
    frame, _, model = accepted("carseats-high.csv", "High", raw.to_csv(index=False).encode())
    return frame, model


def served(family: str, train: pd.DataFrame, model: ModelConfig) -> OnnxModel:
    """``family`` fitted on ``train`` and exported with its explainer, as training ships it, loaded as served."""
    features, labels = feature_frame(train, model), target_values(train, model)
    pipeline = build_pipeline(family, model).fit(features, labels)
    estimator = pipeline.named_steps["estimator"]
    classes = tuple(str(c) for c in estimator.classes_) if hasattr(estimator, "classes_") else None
    result = TrainingResult(pipeline=pipeline, family=family, params={}, cv={}, cv_metric="",
                            feature_names=model.contract.feature_names, classes=classes, training_rows=len(train),
                            duration_s=0.0, explainer=explainer_for(pipeline, model.contract.feature_names, features))
    exported = export_onnx(result, model, train.head(200))
    return OnnxModel.from_bytes(exported.onnx_bytes, exported.signature)


def rank_agreement(permutation: dict[str, dict[str, float]], explained: dict[str, float]) -> float:
    names = sorted(explained)
    value: float = spearmanr([permutation[name]["mean"] for name in names], [explained[name] for name in names])[0]
    return value


@pytest.fixture(scope="module", params=["regression", "classification"])
def case(request: pytest.FixtureRequest) -> Any:
    frame, model = carseats(request.param)
    train, holdout = split_holdout(frame, model)
    return model, train, holdout


def test_each_familys_explanations_rank_features_as_the_cards_permutation_importance(case: Any) -> None:
    model, train, holdout = case
    for family in model.training.families:
        # GIVEN a model of the family, served from its ONNX export, and its card's holdout report
        onnx = served(family, train, model)
        report = report_holdout(onnx, holdout, model, full=True)
        assert report.importance is not None and report.explanation_importance is not None
        # THEN the explanation importance covers every feature, most important first
        assert set(report.explanation_importance) == set(model.contract.feature_names)
        assert list(report.explanation_importance.values()) == sorted(report.explanation_importance.values(),
                                                                      reverse=True)
        # AND it ranks the features as the permutation importance does
        agreement = rank_agreement(report.importance, report.explanation_importance)
        assert agreement >= AGREEMENT, f"{model.task} {family}: {agreement:.3f}"
        # AND an explainer whose features are mapped wrongly (names rotated by one) would fail the same check
        explainer = onnx.explainer()
        assert explainer is not None
        names = explainer.features
        wrong = Explainer(names[1:] + names[:1], explainer.arrays, explainer.meta)
        wrongly = explanation_importance(_Explained(onnx, wrong), holdout, model)
        assert wrongly is not None
        assert rank_agreement(report.importance, wrongly) < AGREEMENT, f"{model.task} {family}"


class _Explained:
    """A served model answering with another explainer (the wrong mapping above)."""

    def __init__(self, model: OnnxModel, explainer: Explainer) -> None:
        self._model, self._explainer = model, explainer
        self.signature = model.signature
        self.predict = model.predict

    def explainer(self) -> Explainer:
        return self._explainer

    def with_signature(self, signature: Any) -> _Explained:
        return _Explained(self._model.with_signature(signature), self._explainer)


def test_the_cards_explanation_importance_is_the_mean_of_the_explain_answers() -> None:
    # GIVEN a served gradient-boosting model and its card's explanation importance on the holdout
    frame, model = carseats("classification")
    train, holdout = split_holdout(frame, model)
    onnx = served("hist_gradient_boosting", train, model)
    card = report_holdout(onnx, holdout, model, full=True).explanation_importance
    # WHEN the holdout is sent to :explain, in batches the endpoint accepts
    instances = instances_from_frame(holdout, model)
    answers = [answer for start in range(0, len(instances), MAX_EXPLAIN_INSTANCES)
               for answer in explain_document(onnx, instances[start: start + MAX_EXPLAIN_INSTANCES])["explanations"]]
    # THEN averaging |contribution| over the answers gives the card's numbers
    assert card is not None and len(answers) == len(holdout)
    for name, value in card.items():
        assert np.mean([abs(answer["contributions"][name]) for answer in answers]) == pytest.approx(value, rel=1e-9)


def test_mean_abs_contributions_averages_magnitudes_and_sorts() -> None:
    # GIVEN two explanations with contributions of both signs
    explanations = [Explanation("prediction", None, 0.0, 1.0, {"a": -2.0, "b": 1.0, "c": 0.0}),
                    Explanation("prediction", None, 0.0, 1.0, {"a": 1.0, "b": -4.0, "c": 0.5})]
    # THEN each feature gets its mean magnitude, largest first; no explanations give nothing
    assert list(mean_abs_contributions(explanations, ("a", "b", "c")).items()) == [("b", 2.5), ("a", 1.5),
                                                                                  ("c", 0.25)]
    assert mean_abs_contributions([], ("a",)) == {}
