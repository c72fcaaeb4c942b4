"""Per-column rules of a contract, applied to one batch of values at a time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from sluice.config.model import ColumnSpec, ColumnType, DataContract
from sluice.data.convert import Conversion, convert, convert_values
from sluice.data.report import Rule
from sluice.data.tally import Tally


@dataclass(frozen=True)
class ColumnRules:
    """What one contract column (a feature or the target) requires of its values."""

    name: str
    type: ColumnType
    nullable: bool = False
    minimum: float | None = None
    maximum: float | None = None
    allowed: pa.Array | None = None
    is_target: bool = False

    @classmethod
    def for_feature(cls, spec: ColumnSpec) -> ColumnRules:
        allowed = None if spec.allowed is None else convert_values(spec.allowed, spec.type)
        return cls(spec.name, spec.type, spec.nullable, spec.min, spec.max, allowed)

    @classmethod
    def for_target(cls, contract: DataContract) -> ColumnRules:
        values = contract.target_values
        allowed = None if values is None else convert_values(values, contract.target_type)
        return cls(contract.target, contract.target_type, allowed=allowed, is_target=True)

    @property
    def allowed_rule(self) -> Rule:
        return Rule.TARGET_VALUE if self.is_target else Rule.NOT_ALLOWED

    def check(self, raw: pa.Array, offset: int, tallies: Mapping[Rule, Tally]) -> Conversion:
        """Convert ``raw`` and add its offending rows to ``tallies``; return the conversion."""
        conversion = convert(raw, self.type)
        values = conversion.values
        tallies[Rule.TYPE].add(conversion.failed, raw, offset)
        tallies[Rule.NULL].add(conversion.missing, raw, offset)
        if self.type == "float":
            tallies[Rule.NON_FINITE].add(_mask(pc.invert(pc.is_finite(values))), raw, offset)
        if self.type in ("float", "int") and (self.minimum is not None or self.maximum is not None):
            finite = pc.if_else(pc.is_finite(values), values, None) if self.type == "float" else values
            tallies[Rule.OUT_OF_RANGE].add(self._out_of_range(finite), raw, offset)
        if self.allowed is not None:
            outside = pc.and_(pc.is_valid(values), pc.invert(pc.is_in(values, value_set=self.allowed)))
            tallies[self.allowed_rule].add(_mask(outside), raw, offset)
        return conversion

    def message(self, rule: Rule, count: int) -> str:
        """The sentence describing ``count`` offending values of this column under ``rule``."""
        values = f"{count} value" if count == 1 else f"{count} values"
        where = f"target {self.name!r}" if self.is_target else f"column {self.name!r}"
        allowed = [] if self.allowed is None else self.allowed.to_pylist()
        sentences = {
            Rule.TYPE: f"{values} in {where} cannot be read as {self.type}",
            Rule.NULL: f"{values} in {where} are missing, but it is not nullable",
            Rule.NON_FINITE: f"{values} in {where} are NaN or infinite",
            Rule.OUT_OF_RANGE: f"{values} in {where} are outside the range {self._range_text()}",
            Rule.NOT_ALLOWED: f"{values} in {where} are not among the allowed values {allowed}",
            Rule.TARGET_VALUE: f"{values} in {where} are not among the target values {allowed}",
        }
        return sentences.get(rule, f"{values} in {where} break the rule {rule}")

    def _out_of_range(self, values: pa.Array) -> pa.Array:
        below = None if self.minimum is None else _mask(pc.less(values, self.minimum))
        above = None if self.maximum is None else _mask(pc.greater(values, self.maximum))
        if below is None or above is None:
            return below if above is None else above
        return pc.or_(below, above)

    def _range_text(self) -> str:
        low = "-inf" if self.minimum is None else f"{self.minimum:g}"
        high = "inf" if self.maximum is None else f"{self.maximum:g}"
        return f"[{low}, {high}]"


def _mask(values: pa.Array) -> pa.Array:
    return pc.fill_null(values, False)
