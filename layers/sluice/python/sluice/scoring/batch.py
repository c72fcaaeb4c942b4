"""Score record batches with a served model, the endpoint's way: same contract reading, same conversion.

Every input row comes out, in order, with its input columns and ``prediction``, one ``probability_<class>`` per
class (classification), ``model_version`` and ``contract``: ``ok``, ``flagged: <violations>`` (scored although it
breaks the contract, as ``on_violation = "flag"`` answers) or ``refused: <reason>`` (not scorable: its prediction
is null). Nothing is dropped; a refused row keeps its input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sluice.scoring.columnar import read_batch
from sluice.serving import MAX_INSTANCES, InvalidInstances, Prediction, ServedModel, answering_violations
from sluice.serving.model import Outputs


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
    """One model version scoring batch after batch; ``counts`` adds up as it goes.

    A batch is read a column at a time (``sluice.scoring.columnar``) and its clean rows are predicted in one
    model run; the rows left (a contract violation to spell, a model output that is not finite, a value only the
    endpoint's reader takes) go through the endpoint's row-at-a-time path, so every row comes out as it would
    have from the endpoint.
    """

    def __init__(self, model: ServedModel, version: int) -> None:
        self._model = answering_violations(model)
        self._version = version
        signature = self._model.signature
        self._columns = {*(spec.name for spec in signature.inputs), *(other.name for other in signature.others)}
        self._classes = signature.classes
        self._run: Callable[[dict[str, np.ndarray]], Outputs] | None = getattr(self._model, "run", None)
        self.counts = ScoreCounts()

    def score(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.Table]:
        for batch in batches:
            yield self._scored(batch)

    def _scored(self, batch: pa.RecordBatch) -> pa.Table:
        count = batch.num_rows
        column = _Columns(count, self._classes)
        decided = self._columnar(batch, column)
        rest = np.flatnonzero(~decided)
        if len(rest):
            rows = (batch if len(rest) == count else batch.take(pa.array(rest))).to_pylist()
            instances = [{name: value for name, value in row.items() if name in self._columns} for row in rows]
            self._row_by_row(instances, rest, column)
        self.counts.rows += count
        table = pa.Table.from_batches([batch])
        for name, values in column.arrays(self._version).items():
            table = table.append_column(name, values)
        return table

    def _columnar(self, batch: pa.RecordBatch, column: _Columns) -> np.ndarray:
        """Score the rows the columnar reader decides (all at once) into ``column``; which rows it scored."""
        nothing = np.zeros(batch.num_rows, dtype=bool)
        if self._run is None or not batch.num_rows:
            return nothing
        read = read_batch(batch, self._model.signature)
        if read is None or not read.decided.any():
            return nothing
        outputs = self._run(_never_alone(read.tensors))
        scores = None if outputs.scores is None else _by_class(outputs, self._classes)
        if outputs.scores is not None and scores is None:
            return nothing  # the model's classes are not the signature's: the endpoint's path says what happens
        decided_rows = np.flatnonzero(read.decided)
        values = outputs.values[:len(decided_rows)]
        checked = values if scores is None else scores[:len(decided_rows)]
        finite = np.isfinite(checked).reshape(len(values), -1).all(axis=1)  # the rest: refused row by row
        rows = decided_rows[finite]
        column.put(rows, values[finite], None if scores is None else scores[:len(decided_rows)][finite])
        self.counts.scored += len(rows)
        decided = nothing
        decided[rows] = True
        return decided

    def _row_by_row(self, instances: list[dict[str, Any]], rows: np.ndarray, column: _Columns) -> None:
        """Score ``instances`` (the batch's ``rows``) the endpoint's way, in requests of at most MAX_INSTANCES."""
        for start in range(0, len(instances), MAX_INSTANCES):
            chunk = instances[start:start + MAX_INSTANCES]
            for row, outcome in zip(rows[start:start + MAX_INSTANCES].tolist(), self._predict(chunk), strict=True):
                if isinstance(outcome, str):
                    self.counts.refused += 1
                    self.counts.reasons[outcome] = self.counts.reasons.get(outcome, 0) + 1
                    column.verdicts[row] = f"refused: {outcome}"
                    continue
                output, scores, violations = outcome
                self.counts.scored += 1
                column.put_one(row, output, scores)
                if violations:
                    self.counts.flagged += 1
                    column.verdicts[row] = "flagged: " + "; ".join(violations)

    def _predict(self, instances: list[dict[str, Any]]) -> list[tuple[Any, dict[str, float] | None, list[str]] | str]:
        """Per instance: (output, probabilities, violations), or the reason it cannot be scored.

        The instances are predicted at once; when that is refused, one by one, so one bad row refuses only itself.
        """
        if not instances:
            return []
        try:
            return _per_instance(self._model.predict(_never_alone(instances)), len(instances))
        except InvalidInstances:
            pass
        outcomes: list[tuple[Any, dict[str, float] | None, list[str]] | str] = []
        for instance in instances:
            try:
                outcomes += _per_instance(self._model.predict([instance, instance]), 1)
            except InvalidInstances as error:
                outcomes.append(_reason(str(error)))
        return outcomes


class _Columns:
    """The scored columns of one batch, filled row by row or many rows at once; a row never filled is refused
    (its prediction and probabilities null)."""

    def __init__(self, count: int, classes: tuple[str, ...] | None) -> None:
        self.count = count
        self.classes = classes
        self.predictions = np.full(count, None, dtype=object) if classes is not None else np.zeros(count)
        self.scored = np.zeros(count, dtype=bool)
        self.probabilities = np.zeros((count, len(classes or ())))
        self.verdicts = np.full(count, "ok", dtype=object)

    def put(self, rows: np.ndarray, outputs: np.ndarray, scores: np.ndarray | None) -> None:
        self.predictions[rows] = _texts(outputs) if self.classes is not None else outputs
        if scores is not None:
            self.probabilities[rows] = scores
        self.scored[rows] = True

    def put_one(self, row: int, output: Any, scores: dict[str, float] | None) -> None:
        self.predictions[row] = output
        if scores is not None and self.classes is not None:
            self.probabilities[row] = [scores[label] for label in self.classes]
        self.scored[row] = True

    def arrays(self, version: int) -> dict[str, pa.Array]:
        refused = ~self.scored
        prediction_type = pa.string() if self.classes is not None else pa.float64()
        arrays = {"prediction": pa.array(self.predictions, prediction_type, mask=refused)}
        for index, label in enumerate(self.classes or ()):
            arrays[f"probability_{label}"] = pa.array(self.probabilities[:, index], pa.float64(), mask=refused)
        arrays["model_version"] = pa.array(np.full(self.count, version, dtype=np.int32), pa.int32())
        arrays["contract"] = pa.array(self.verdicts, pa.string())
        return arrays


_Rows = TypeVar("_Rows", list[dict[str, Any]], dict[str, np.ndarray])


def _never_alone(rows: _Rows) -> _Rows:
    """One row twice, more rows as they are: onnxruntime computes a one-row batch with other kernels than a larger
    one (the last float32 bit of a probability can differ), so a row is never run alone and its scores do not
    depend on which rows it ran with (how the file was cut into parts, which rows took the endpoint's path).
    A caller reads the outputs of its own rows only."""
    if isinstance(rows, list):
        return rows * 2 if len(rows) == 1 else rows
    return {name: np.concatenate([tensor, tensor]) for name, tensor in rows.items()} if _one_row(rows) else rows


def _one_row(tensors: dict[str, np.ndarray]) -> bool:
    return any(len(tensor) == 1 for tensor in tensors.values())


def _by_class(outputs: Outputs, classes: tuple[str, ...] | None) -> np.ndarray | None:
    """The model's probabilities with one column per signature class, in its order (None: they differ)."""
    if outputs.scores is None or classes is None or not set(classes) <= set(outputs.classes):
        return None
    return outputs.scores[:, [outputs.classes.index(label) for label in classes]]


def _texts(labels: np.ndarray) -> np.ndarray:
    """Class labels as the endpoint spells them (``str`` of each; Arrow's cast where it spells them the same)."""
    if labels.dtype == object:
        return labels
    if labels.dtype.kind in "iu":
        return np.asarray(pa.array(labels).cast(pa.string()).to_numpy(zero_copy_only=False), dtype=object)
    return np.array([str(label) for label in labels.tolist()], dtype=object)


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
        if violation.instance >= count:
            continue  # a row run twice (see _never_alone): its copy's violations are its own
        violations[violation.instance].append(f"{violation.column} breaks {violation.rule}")
    probabilities = prediction.probabilities
    return [(prediction.outputs[index], None if probabilities is None else probabilities[index], violations[index])
            for index in range(count)]


def _reason(message: str) -> str:
    """The refusal without the instance number (it names the batch's row 0 when predicted one by one)."""
    return message.split(": ", 1)[1] if message.startswith("instance ") and ": " in message else message
