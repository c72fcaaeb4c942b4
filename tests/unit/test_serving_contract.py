"""The endpoint reads requests with the model's data contract: spellings, violations, flagging and column roles."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sluice.config import ColumnSpec, DataContract, EvaluationGates, ModelConfig, TrainingSettings
from sluice.config.model import ServingSettings
from sluice.endpoint import PinnedModel
from sluice.evaluation.predictions import predict_instances
from sluice.predict import CaptureBuffer, PredictService
from sluice.serving import InvalidInstances, ModelSignature, OnnxModel, answering_violations, build_inputs
from sluice.training import export_onnx, split_holdout, train_best
from tests.unit.predict_models import ListSink


def shop_config(on_violation: str = "reject") -> ModelConfig:
    return ModelConfig(
        name="shop",
        task="classification",
        contract=DataContract(
            columns=(
                ColumnSpec("basket", "float", nullable=True, min=0, max=500),
                ColumnSpec("items", "int"),
                ColumnSpec("member", "bool"),
                ColumnSpec("channel", "string", nullable=True, allowed=("web", "store", "phone")),
                ColumnSpec("order_id", "string", unique=True),
                ColumnSpec("placed", "string", role="timestamp"),
                ColumnSpec("note", "string", role="ignore", nullable=True),
            ),
            target="bought", target_type="string", target_values=("yes", "no"), positive="yes",
            null_tokens=("?",),
        ),
        training=TrainingSettings(families=("logistic_regression",), cv_folds=3, holdout_fraction=0.25, seed=7),
        gates=EvaluationGates(primary_metric="roc_auc"),
        serving=ServingSettings(on_violation=on_violation),  # type: ignore[arg-type]
    )


def shop_frame(rows: int = 240) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    channel = rng.choice(["web", "store", "phone"], size=rows).astype(object)
    member = rng.random(rows) < 0.5
    items = rng.integers(1, 6, size=rows)
    odds = np.where(channel == "web", 2.0, -1.0) + np.where(member, 1.5, -1.0) + 0.3 * items - 1
    odds = odds + rng.normal(0, 0.5, rows)
    return pd.DataFrame({"basket": rng.uniform(0, 400, rows), "items": items, "member": member, "channel": channel,
                         "order_id": [f"o{i}" for i in range(rows)], "placed": "2024-01-01", "note": "",
                         "bought": np.where(odds > 0, "yes", "no")})


@pytest.fixture(scope="module")
def exported():
    config = shop_config()
    train, holdout = split_holdout(shop_frame(), config)
    return export_onnx(train_best(train, config), config, holdout)


@pytest.fixture(scope="module")
def model(exported) -> OnnxModel:
    return OnnxModel.from_bytes(exported.onnx_bytes, exported.signature)


@pytest.fixture(scope="module")
def flagging(exported) -> OnnxModel:
    return OnnxModel.from_bytes(exported.onnx_bytes, dataclasses.replace(exported.signature, on_violation="flag"))


def order(**overrides: Any) -> dict[str, Any]:
    return {"basket": 120.0, "items": 3, "member": True, "channel": "web", **overrides}


def probability(model: OnnxModel, instances: list[dict[str, Any]]) -> list[float]:
    return [row["yes"] for row in model.predict(instances).probabilities or []]


def test_every_spelling_validation_accepts_gets_the_same_prediction(model):
    # GIVEN one order written with each spelling the validator accepts for a bool, an int and a float
    spellings = [order(), order(member="yes"), order(member=" Y "), order(member="1"), order(member=1),
                 order(member="TRUE"), order(items="3"), order(items=3.0), order(items=" 3.0 "),
                 order(basket="120"), order(basket="1.2e2")]
    # WHEN predicted THEN every spelling gets the prediction of the JSON-native order
    assert len(set(probability(model, spellings))) == 1
    # AND a false spelling differs from true
    assert probability(model, [order(member="no")]) == probability(model, [order(member=False)])
    assert probability(model, [order(member=0)]) != probability(model, [order()])


def test_null_tokens_read_as_missing_where_the_column_is_nullable(model):
    # GIVEN null, the built-in "NA" and the contract's "?" for a nullable number WHEN predicted THEN alike
    assert len(set(probability(model, [order(basket=None), order(basket="NA"), order(basket="?")]))) == 1
    # AND text keeps "NA" as a value, while "" and "?" are missing
    tensors = build_inputs([order(channel=""), order(channel="?"), order(channel=None)], model.signature)
    assert tensors["channel"].reshape(-1).tolist() == ["", "", ""]


@pytest.mark.parametrize(("instances", "message"), [
    ([order(), order(items=None)], "instance 1: column 'items' breaks rule 'null'"),
    ([order(items="?")], "instance 0: column 'items' breaks rule 'null'"),
    ([order(channel="fax")], "instance 0: column 'channel' breaks rule 'not_allowed'"),
    ([order(channel=" web")], "instance 0: column 'channel' breaks rule 'not_allowed'"),
    ([order(basket=900)], "instance 0: column 'basket' breaks rule 'out_of_range': 900 is outside the range [0, 500]"),
    ([order(basket="-1")], "instance 0: column 'basket' breaks rule 'out_of_range'"),
    ([order(member="maybe")], "instance 0: column 'member' breaks rule 'type'"),
    ([order(member=2)], "instance 0: column 'member' breaks rule 'type'"),
    ([order(items=2.5)], "instance 0: column 'items' breaks rule 'type'"),
])
def test_a_request_that_breaks_the_contract_is_refused_naming_instance_column_and_rule(model, instances, message):
    with pytest.raises(InvalidInstances) as raised:
        model.predict(instances)
    assert str(raised.value).startswith(message)


def _event(instances: list[dict[str, Any]]) -> dict[str, Any]:
    return {"rawPath": "/v1/models/shop:predict", "requestContext": {"http": {"method": "POST"}},
            "body": json.dumps({"instances": instances})}


def service_of(model: OnnxModel) -> tuple[PredictService, ListSink, list[int]]:
    sink, counted = ListSink(), []
    service = PredictService("shop", PinnedModel("shop", 1, "0" * 64), lambda _: model,
                             capture=CaptureBuffer(sink, rate=1.0, batch=1),
                             on_violations=lambda violations: counted.append(len(violations)))
    return service, sink, counted


def test_a_refused_request_is_a_400_and_nothing_is_counted(model):
    service, sink, counted = service_of(model)
    response = service.handle(_event([order(channel="fax")]))
    assert response["statusCode"] == 400
    assert "column 'channel' breaks rule 'not_allowed'" in json.loads(response["body"])["error"]
    assert sink.records == [] and counted == []


def test_a_flagged_request_is_answered_with_its_violations_captured_and_counted(flagging):
    # GIVEN a model served with on_violation = "flag"
    service, sink, counted = service_of(flagging)
    # WHEN a request with one clean and one out-of-contract instance is sent
    response = service.handle(_event([order(), order(channel="fax", items=None)]))
    # THEN it is answered, with the violations listed by instance, column and rule
    body = json.loads(response["body"])
    assert response["statusCode"] == 200 and len(body["predictions"]) == 2
    assert [(v["instance"], v["column"], v["rule"]) for v in body["violations"]] == [
        (1, "items", "null"), (1, "channel", "not_allowed")]
    # AND the capture holds them on the offending instance's record, and the metric counted them
    assert sink.records[0]["violations"] is None
    assert [v["rule"] for v in json.loads(sink.records[1]["violations"])] == ["null", "not_allowed"]
    assert counted == [2]


def test_id_and_timestamp_columns_are_optional_kept_in_the_capture_and_never_fed(model):
    # GIVEN an order with its id, its timestamp-role column and an ignored note
    service, sink, _ = service_of(model)
    full = order(order_id="o-77", placed="2024-05-01", note="call first", member="yes")
    # WHEN predicted with and without them THEN the prediction is the same and the model got only features
    assert probability(model, [full]) == probability(model, [order()])
    assert set(build_inputs([full], model.signature)) == {"basket", "items", "member", "channel"}
    assert service.handle(_event([full]))["statusCode"] == 200
    # AND the capture keeps the id and the timestamp, features as read (bool as "true"), not the ignored note
    features = sink.records[0]["features"]
    assert features["order_id"] == "o-77" and features["placed"] == "2024-05-01" and "note" not in features
    assert features["member"] == "true"
    # AND an unknown key is still refused, while the metadata names the optional columns
    assert service.handle(_event([order(coupon="x")]))["statusCode"] == 400
    metadata = service.handle({"rawPath": "/v1/models/shop", "requestContext": {"http": {"method": "GET"}}})
    assert json.loads(metadata["body"])["optional"] == ["order_id", "placed", "note"]


def test_a_signature_without_rules_reads_requests_as_before(exported):
    # GIVEN a signature written before inputs carried rules
    document = exported.signature.to_dict()
    legacy = {**document, "inputs": [{"name": i["name"], "kind": i["kind"]} for i in document["inputs"]]}
    legacy.pop("null_tokens")
    legacy.pop("others")
    signature = ModelSignature.from_dict(legacy)
    assert all(spec.rules is None for spec in signature.inputs)
    # WHEN read THEN numbers must be JSON numbers, as before, and nulls are imputed
    with pytest.raises(InvalidInstances, match="feature 'items' must be a number, got '3'"):
        build_inputs([order(items="3")], signature)
    assert np.isnan(build_inputs([order(items=None)], signature)["items"][0, 0])


def test_the_signature_round_trips_with_its_rules(exported):
    signature = exported.signature
    assert ModelSignature.from_dict(json.loads(json.dumps(signature.to_dict()))) == signature
    assert [(c.name, c.role) for c in signature.others] == [("order_id", "id"), ("placed", "timestamp"),
                                                           ("note", "ignore")]
    assert signature.null_tokens == ("?",)


def test_scoring_a_model_on_a_newer_contracts_rows_answers_every_row(model):
    # GIVEN rows outside this model's contract (a category and an amount a newer contract allows)
    rows = [order(channel="fax"), order(basket=900), order()]
    truth = pd.Series(["yes", "no", "yes"])
    # WHEN the model is scored on them as evaluation scores live on a candidate's holdout
    scored = predict_instances(model, rows, truth, shop_config())
    # THEN every row is answered (the violations are flagged, not refused), while the endpoint still refuses
    assert len(scored.predicted) == 3
    assert [v.rule for v in answering_violations(model).predict(rows).violations] == ["not_allowed", "out_of_range"]
    with pytest.raises(InvalidInstances):
        model.predict(rows)
