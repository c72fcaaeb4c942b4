"""Small real models for the predict tests: trained once by the real pipeline, served through ONNX."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from sluice.config import ColumnSpec, DataContract, EvaluationGates, ModelConfig, TrainingSettings
from sluice.endpoint import PinnedModel
from sluice.local.runtime import EndpointResponse
from sluice.predict import PredictService
from sluice.serving import OnnxModel

MODEL = "rentals"
FEATURES = ("age", "rooms", "city", "furnished")
PREDICT_PATH = f"/v1/models/{MODEL}:predict"


def _config(task: str) -> ModelConfig:
    return ModelConfig(
        name=MODEL,
        task=task,  # type: ignore[arg-type]
        contract=DataContract(
            columns=(ColumnSpec("age", "float", nullable=True), ColumnSpec("rooms", "int"),
                     ColumnSpec("city", "string", nullable=True), ColumnSpec("furnished", "bool")),
            target="label" if task == "classification" else "rent",
            target_type="string" if task == "classification" else "float",
        ),
        training=TrainingSettings(families=("logistic_regression",) if task == "classification" else ("ridge",),
                                  cv_folds=3, holdout_fraction=0.25, seed=3),
        gates=EvaluationGates(primary_metric="roc_auc" if task == "classification" else "rmse"),
    )


def _frame(rows: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    city = rng.choice(["paris", "lyon", "nice"], size=rows)
    furnished = rng.random(rows) < 0.4
    rooms = rng.integers(1, 6, size=rows)
    age = rng.uniform(0, 80, size=rows)
    rent = 400 * rooms + np.where(city == "paris", 900, 0) + np.where(furnished, 150, 0) - 3 * age
    rent = rent + rng.normal(0, 50, rows)
    return pd.DataFrame({"age": age, "rooms": rooms, "city": city, "furnished": furnished, "rent": rent,
                         "label": np.where(rent > np.median(rent), "pricey", "cheap")})


def train(task: str) -> OnnxModel:
    """A ridge regressor or a logistic classifier on four features (float, int, string, bool)."""
    from sluice.training import export_onnx, split_holdout, train_best

    config = _config(task)
    frame = _frame().drop(columns="label" if task == "regression" else "rent")
    training, holdout = split_holdout(frame, config)
    exported = export_onnx(train_best(training, config), config, holdout)
    return OnnxModel.from_bytes(exported.onnx_bytes, exported.signature)


class ListSink:
    """A capture sink that keeps every record, decoded."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def send(self, records: list[bytes]) -> int:
        self.records.extend(json.loads(record) for record in records)
        return 0


def service(model: Any, **options: Any) -> PredictService:
    return PredictService(MODEL, PinnedModel(MODEL, 1, "0" * 64), lambda _: model, **options)


def event(body: Any, *, method: str = "POST", path: str = PREDICT_PATH, encoded: bool = False,
          headers: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Function URL event (payload 2.0) around ``body`` (bytes are sent as text when they decode)."""
    if isinstance(body, bytes) and not encoded:
        body = body.decode("utf-8") if _is_utf8(body) else body
    return {"version": "2.0", "rawPath": path, "headers": headers or {"content-type": "application/json"},
            "requestContext": {"http": {"method": method}, "requestId": "req-1"},
            "body": body, "isBase64Encoded": encoded}


def answer(response: Any) -> tuple[int, dict[str, Any]]:
    """Check a handler answer is what a Function URL can send; return (status, parsed body)."""
    assert isinstance(response, dict) and isinstance(response.get("statusCode"), int), response
    body = response["body"]
    assert isinstance(body, str)
    body.encode("utf-8")  # Lambda must be able to write it
    document = json.loads(body, parse_constant=_no_constants)
    assert isinstance(document, dict)
    if response["statusCode"] >= 400:
        assert isinstance(document.get("error"), str) and document["error"], document
    return response["statusCode"], document


def _no_constants(name: str) -> Any:
    raise AssertionError(f"the response holds {name}, which is not JSON")


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class FunctionUrl:
    """The part of a LocalCloud that EndpointServer calls: the request as a Function URL event, answered."""

    def __init__(self, endpoint: PredictService) -> None:
        self._endpoint = endpoint
        self.paths: list[str] = []
        self.events: list[dict[str, object]] = []

    def http(self, method: str, path: str, body: bytes, headers: dict[str, str], query: str = "") -> EndpointResponse:
        from sluice.local.aws_events import function_url_event

        self.paths.append(path)
        event = function_url_event(method, path, body, headers, now=0.0, query=query)
        self.events.append(event)
        status, document = answer(self._endpoint.handle(event))
        return EndpointResponse(status, document, "1")
