"""BatchScorer: every row out in order; a batch the model refuses is retried row by row, so one bad row is
refused alone (its input kept, its prediction null) and counted with its reason."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from sluice.scoring.batch import BatchScorer
from sluice.scoring.keys import parse_score_key
from sluice.serving import InputSpec, InvalidInstances, ModelSignature, Prediction


class ThresholdModel:
    """Predicts "high" above 0.5; refuses an instance whose x is negative (as a model output that is not finite)."""

    signature = ModelSignature(task="classification", inputs=(InputSpec("x", "float"),), target="y",
                               classes=("high", "low"), on_violation="flag")

    def predict(self, instances: list[dict[str, Any]]) -> Prediction:
        for index, instance in enumerate(instances):
            if float(instance["x"]) < 0:
                raise InvalidInstances(f"instance {index}: the model's probabilities are not finite")
        outputs = ["high" if float(item["x"]) > 0.5 else "low" for item in instances]
        probabilities = [{"high": float(item["x"]), "low": 1 - float(item["x"])} for item in instances]
        return Prediction(outputs=outputs, probabilities=probabilities)

    def explainer(self) -> None:
        return None


def test_one_refused_row_does_not_refuse_its_batch():
    # GIVEN two batches, the second holding a row the model cannot score, and a column the model does not take
    scorer = BatchScorer(ThresholdModel(), version=7)
    batches = [pa.record_batch({"x": [0.9, 0.1], "note": ["a", "b"]}),
               pa.record_batch({"x": [0.7, -1.0, 0.2], "note": ["c", "d", "e"]})]
    # WHEN scored
    tables = list(scorer.score(batches))
    rows = [row for table in tables for row in table.to_pylist()]
    # THEN every row is there in order with its input, and only the bad one is refused
    assert [row["note"] for row in rows] == ["a", "b", "c", "d", "e"]
    assert [row["prediction"] for row in rows] == ["high", "low", "high", None, "low"]
    assert [row["contract"] for row in rows] == ["ok", "ok", "ok",
                                                 "refused: the model's probabilities are not finite", "ok"]
    assert rows[3]["probability_high"] is None and rows[0]["probability_high"] == 0.9
    assert {row["model_version"] for row in rows} == {7}
    assert scorer.counts.to_dict() == {"rows": 5, "scored": 4, "flagged": 0, "refused": 1, "refusals": [
        {"reason": "the model's probabilities are not finite", "rows": 1}]}


def test_score_keys_name_the_model_and_optionally_the_version():
    assert parse_score_key("score/churn/file.csv").version is None  # type: ignore[union-attr]
    named = parse_score_key("score/churn/v12/file.csv")
    assert named is not None and (named.model, named.version, named.filename) == ("churn", 12, "file.csv")
    for key in ("score/churn/", "score//f.csv", "score/churn/latest/f.csv", "score/churn/v0/f.csv",
                "incoming/churn/f.csv", "score/churn/a/b/f.csv"):
        assert parse_score_key(key) is None, key
    first = named.output_prefix(12, "etag-a")
    assert first.startswith("scored/churn/file-") and first.endswith("/v12/")
    assert named.output_prefix(12, "etag-b") != first  # new content, new folder
