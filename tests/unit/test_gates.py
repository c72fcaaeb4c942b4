"""The promotion gate: approve, reject on a floor, on a slice regression, or against the live model."""

from __future__ import annotations

from sluice.config import EvaluationGates, SliceGate
from sluice.evaluation import decide

GATES = EvaluationGates(
    primary_metric="roc_auc",
    min_metrics={"roc_auc": 0.9},
    max_regression=0.01,
    margins={"log_loss": 0.05},
    slices=(SliceGate(column="channel", tolerance=0.03, min_rows=10),),
)


def slices(web: float, store: float, *, store_rows: int = 40) -> list[dict]:
    return [
        {"column": "channel", "slice": "channel=web", "rows": 60, "metrics": {"roc_auc": web}},
        {"column": "channel", "slice": "channel=store", "rows": store_rows, "metrics": {"roc_auc": store}},
    ]


LIVE = {"roc_auc": 0.95, "log_loss": 0.20}


def test_a_candidate_that_holds_everywhere_is_approved():
    # GIVEN a candidate above the floor, as good as live overall and within tolerance on every slice
    decision = decide({"roc_auc": 0.955, "log_loss": 0.21}, LIVE, GATES,
                      slices=slices(0.96, 0.93), live_slices=slices(0.95, 0.95))
    # THEN it is approved, with one check per floor, per compared metric and per slice
    assert decision.approved
    assert [check["name"] for check in decision.checks] == [
        "roc_auc floor", "roc_auc vs live", "log_loss vs live",
        "roc_auc on channel=web vs live", "roc_auc on channel=store vs live",
    ]
    assert "slice channel=store: roc_auc 0.930 holds against live 0.950 (tolerance 0.03)" in decision.reasons


def test_a_candidate_below_a_floor_is_rejected():
    decision = decide({"roc_auc": 0.85, "log_loss": 0.2}, None, GATES, slices=slices(0.9, 0.8))
    assert not decision.approved
    assert decision.reasons == ("roc_auc 0.850 is below the floor 0.900",)


def test_a_slice_that_regresses_beyond_its_tolerance_rejects_a_candidate_better_overall():
    # GIVEN a candidate better than live overall, but 0.05 worse on the store slice (tolerance 0.03)
    decision = decide({"roc_auc": 0.97, "log_loss": 0.15}, LIVE, GATES,
                      slices=slices(0.99, 0.90), live_slices=slices(0.95, 0.95))
    # THEN it is rejected, and the reason names the slice
    assert not decision.approved
    assert decision.reasons == (
        "slice channel=store: roc_auc 0.900 regresses from live 0.950 by more than its tolerance 0.03",
    )


def test_a_candidate_worse_than_live_on_a_margin_metric_is_rejected():
    # GIVEN the primary metric equal to live's but log_loss 0.1 worse (margin 0.05)
    decision = decide({"roc_auc": 0.95, "log_loss": 0.30}, LIVE, GATES,
                      slices=slices(0.95, 0.95), live_slices=slices(0.95, 0.95))
    # THEN it is rejected against live
    assert not decision.approved
    assert decision.reasons == ("log_loss 0.300 is worse than live 0.200 by more than 0.05",)


def test_a_candidate_worse_than_live_on_the_primary_metric_is_rejected():
    decision = decide({"roc_auc": 0.93, "log_loss": 0.2}, LIVE, GATES,
                      slices=slices(0.95, 0.95), live_slices=slices(0.95, 0.95))
    assert not decision.approved
    assert decision.reasons == ("roc_auc 0.930 is worse than live 0.950 by more than 0.01",)


def test_slices_too_small_or_undefined_are_reported_not_gated():
    # GIVEN a store slice with 5 rows (min 10) that collapsed, and a web slice whose metric is undefined
    candidate = slices(0.95, 0.10, store_rows=5)
    candidate[0]["metrics"] = {"roc_auc": None}
    decision = decide({"roc_auc": 0.95, "log_loss": 0.2}, LIVE, GATES,
                      slices=candidate, live_slices=slices(0.95, 0.95, store_rows=5))
    # THEN it is approved and the reasons say which slices were not gated
    assert decision.approved
    assert "slice channel=store has 5 holdout rows (< 10); not gated" in decision.reasons
    assert "slice channel=web: roc_auc is undefined there; not gated" in decision.reasons


def test_without_a_live_model_slices_are_reported_and_floors_decide():
    decision = decide({"roc_auc": 0.95}, None, GATES, slices=slices(0.9, 0.5))
    assert decision.approved
    assert decision.reasons[-1] == "slices are reported, not compared: there is no live model"


def test_a_version_the_endpoint_cannot_load_is_rejected_with_the_way_out():
    # GIVEN a candidate above every floor, served by its scikit-learn pipeline (its ONNX export disagreed)
    good = {"roc_auc": 0.97, "log_loss": 0.18}
    # WHEN the model's endpoint is the zip package (ONNX only) THEN it is rejected, naming the setting to change
    rejected = decide(good, None, GATES, serving=("sklearn", "zip"))
    assert not rejected.approved
    assert rejected.reasons == ("this version is served as sklearn (its ONNX export disagreed with scikit-learn) and "
                                "the model's zip endpoint serves only onnx; a model whose versions may need "
                                'scikit-learn sets deployment.endpoint_package = "image" (chosen before its endpoint '
                                "is first deployed, see README: Serving formats) and retrains",)
    # AND an image endpoint serves it, and says so
    approved = decide(good, None, GATES, serving=("sklearn", "image"))
    assert approved.approved
    assert "the image endpoint serves the sklearn format of this version" in approved.reasons
