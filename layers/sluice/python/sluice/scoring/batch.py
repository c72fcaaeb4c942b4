"""Score record batches with a served model, the endpoint's way: same contract reading, same conversion.

Every input row comes out, in order, with its input columns and ``prediction``, one ``probability_<class>`` per
class (classification), ``model_version`` and ``contract``: ``ok``, ``flagged: <violations>`` (scored although it
breaks the contract, as ``on_violation = "flag"`` answers) or ``refused: <reason>`` (not scorable: its prediction
is null). Nothing is dropped; a refused row keeps its input.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from sluice.serving import InvalidInstances, Prediction, ServedModel, answering_violations


@dataclass
class ScoreCounts:
    """How the rows went."""

    rows: int = 0
    scored: int = 0
    flagged: int = 0
    refused: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        top = sorted(self.reasons.items(), key=lambda item: -item[1])[:20]
        return {"rows": self.rows, "scored": self.scored, "flagged": self.flagged, "refused": self.refused,
                "refusals": [{"reason": reason, "rows": count} for reason, count in top]}

    def to_part(self) -> dict[str, Any]:
        """Every count and every reason (a part's, added up by ``added`` when the parts are merged)."""
        return {"rows": self.rows, "scored": self.scored, "flagged": self.flagged, "refused": self.refused,
                "reasons": dict(self.reasons)}

    @classmethod
    def added(cls, parts: Iterable[dict[str, Any]]) -> ScoreCounts:
        total = cls()
        for part in parts:
            total.rows += int(part["rows"])
            total.scored += int(part["scored"])
            total.flagged += int(part["flagged"])
            total.refused += int(part["refused"])
            for reason, count in dict(part["reasons"]).items():
                total.reasons[reason] = total.reasons.get(reason, 0) + int(count)
        return total


class BatchScorer:
    """One model version scoring batch after batch; ``counts`` adds up as it goes."""

    def __init__(self, model: ServedModel, version: int) -> None:
        self._model = answering_violations(model)
        self._version = version
        signature = self._model.signature
        self._columns = {*(spec.name for spec in signature.inputs), *(other.name for other in signature.others)}
        self._classes = signature.classes
        self.counts = ScoreCounts()

    def score(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.Table]:
        for batch in batches:
            yield self._scored(batch)

    def _scored(self, batch: pa.RecordBatch) -> pa.Table:
        rows = batch.to_pylist()
        instances = [{name: value for name, value in row.items() if name in self._columns} for row in rows]
        outcomes = self._predict(instances)
        self.counts.rows += len(rows)
        predictions: list[Any] = []
        probabilities: dict[str, list[float | None]] = {label: [] for label in self._classes or ()}
        verdicts: list[str] = []
        for outcome in outcomes:
            if isinstance(outcome, str):
                self.counts.refused += 1
                self.counts.reasons[outcome] = self.counts.reasons.get(outcome, 0) + 1
                predictions.append(None)
                for values in probabilities.values():
                    values.append(None)
                verdicts.append(f"refused: {outcome}")
                continue
            output, scores, violations = outcome
            self.counts.scored += 1
            predictions.append(output)
            for label, values in probabilities.items():
                values.append(None if scores is None else scores[label])
            if violations:
                self.counts.flagged += 1
                verdicts.append("flagged: " + "; ".join(violations))
            else:
                verdicts.append("ok")
        table = pa.Table.from_batches([batch])
        prediction_type = pa.string() if self._classes is not None else pa.float64()
        table = table.append_column("prediction", pa.array(predictions, prediction_type))
        for label, values in probabilities.items():
            table = table.append_column(f"probability_{label}", pa.array(values, pa.float64()))
        table = table.append_column("model_version", pa.array([self._version] * len(rows), pa.int32()))
        return table.append_column("contract", pa.array(verdicts, pa.string()))

    def _predict(self, instances: list[dict[str, Any]]) -> list[tuple[Any, dict[str, float] | None, list[str]] | str]:
        """Per instance: (output, probabilities, violations), or the reason it cannot be scored.

        The batch is predicted at once; when that is refused, row by row, so one bad row refuses only itself.
        """
        if not instances:
            return []
        try:
            return _per_instance(self._model.predict(instances), len(instances))
        except InvalidInstances:
            pass
        outcomes: list[tuple[Any, dict[str, float] | None, list[str]] | str] = []
        for instance in instances:
            try:
                outcomes += _per_instance(self._model.predict([instance]), 1)
            except InvalidInstances as error:
                outcomes.append(_reason(str(error)))
        return outcomes


def write_predictions(tables: Iterable[pa.Table], output: BinaryIO) -> int:
    """Write scored ``tables`` to ``output`` as one Parquet file (each cast to the first one's schema, as it
    streams: bounded memory); the number of tables written (0: nothing was written)."""
    writer: pq.ParquetWriter | None = None
    written = 0
    try:
        for table in tables:
            if writer is None:
                writer = pq.ParquetWriter(output, table.schema)
            writer.write_table(table.cast(writer.schema))
            written += 1
    finally:
        if writer is not None:
            writer.close()
    return written


def _per_instance(prediction: Prediction, count: int) -> list[tuple[Any, dict[str, float] | None, list[str]] | str]:
    violations: list[list[str]] = [[] for _ in range(count)]
    for violation in prediction.violations:
        violations[violation.instance].append(f"{violation.column} breaks {violation.rule}")
    probabilities = prediction.probabilities
    return [(prediction.outputs[index], None if probabilities is None else probabilities[index], violations[index])
            for index in range(count)]


def _reason(message: str) -> str:
    """The refusal without the instance number (it names the batch's row 0 when predicted one by one)."""
    return message.split(": ", 1)[1] if message.startswith("instance ") and ": " in message else message
