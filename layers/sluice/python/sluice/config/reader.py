"""Strict reading of one TOML table: every key known, every value of the right type, errors that name the key.

A misspelled key is refused with the nearest valid one ("did you mean `min_length`?"); a value of the wrong
type is refused naming the file, the table and the key. Nothing is coerced silently (``cv_folds = 5.5`` is an
error, not 5).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Collection, Iterator
from typing import Any, TypeVar

from sluice.config.errors import ConfigError

T = TypeVar("T")
_MISSING: Any = object()


class Table:
    """One TOML table being read; call :meth:`finish` once every key has been taken."""

    def __init__(self, body: Any, where: str, source: str) -> None:
        if not isinstance(body, dict):
            raise ConfigError(f"{source}: [{where}] must be a table, got {_kind(body)}")
        self.body: dict[str, Any] = body
        self.where = where
        self.source = source
        self._taken: set[str] = set()

    def error(self, message: str, key: str | None = None) -> ConfigError:
        """A ConfigError naming the file, this table and (optionally) the key."""
        at = f"[{self.where}] {key}" if key else f"[{self.where}]"
        return ConfigError(f"{self.source}: {at}: {message}")

    def has(self, key: str) -> bool:
        return key in self.body

    def raw(self, key: str, default: Any = None) -> Any:
        self._taken.add(key)
        return self.body.get(key, default)

    def string(self, key: str, default: Any = _MISSING, *, choices: Collection[str] | None = None) -> Any:
        given, value = self._value(key, default)
        if not given:
            return value
        if not isinstance(value, str):
            raise self.error(f"must be a string, got {_kind(value)} {value!r}", key)
        if choices is not None and value not in choices:
            raise self.error(f"must be one of {', '.join(map(repr, choices))}, got {value!r}"
                             f"{_suggestion(value, choices)}", key)
        return value

    def integer(self, key: str, default: Any = _MISSING, *, minimum: int | None = None,
                maximum: int | None = None) -> Any:
        given, value = self._value(key, default)
        if not given:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(f"must be an integer, got {_kind(value)} {value!r}", key)
        self._check_bounds(key, value, minimum, maximum)
        return value

    def number(self, key: str, default: Any = _MISSING, *, minimum: float | None = None,
               maximum: float | None = None, exclusive_minimum: bool = False) -> Any:
        given, value = self._value(key, default)
        if not given:
            return value
        number = self.as_number(value, key)
        if exclusive_minimum and minimum is not None and number <= minimum:
            raise self.error(f"must be greater than {minimum:g}, got {number:g}", key)
        self._check_bounds(key, number, None if exclusive_minimum else minimum, maximum)
        return number

    def as_number(self, value: Any, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.error(f"must be a finite number, got {_kind(value)} {value!r}", key)
        return float(value)

    def boolean(self, key: str, default: Any = _MISSING) -> Any:
        given, value = self._value(key, default)
        if not given:
            return value
        if not isinstance(value, bool):
            raise self.error(f"must be true or false, got {_kind(value)} {value!r}", key)
        return value

    def strings(self, key: str, default: Any = _MISSING) -> Any:
        """A list of strings (as a tuple)."""
        given, value = self._value(key, default)
        if not given:
            return value
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.error(f"must be a list of strings, got {value!r}", key)
        return tuple(value)

    def scalars(self, key: str, default: Any = _MISSING) -> Any:
        """A list of strings, numbers or booleans (as a tuple)."""
        given, value = self._value(key, default)
        if not given:
            return value
        if not isinstance(value, list) or not all(isinstance(item, str | int | float | bool) for item in value):
            raise self.error(f"must be a list of strings, numbers or booleans, got {value!r}", key)
        return tuple(value)

    def numbers(self, key: str) -> dict[str, float]:
        """An inline table of name → number (``{}`` when absent)."""
        table = self.table(key)
        result = {name: table.number(name) for name in list(table.body)}
        table.finish()
        return result

    def table(self, key: str) -> Table:
        """A sub-table (empty when absent); finish it as well."""
        return Table(self.raw(key, {}), f"{self.where}.{key}" if self.where else key, self.source)

    def tables(self, key: str) -> Iterator[Table]:
        """An array of tables (``[[...]]``), each to finish."""
        value = self.raw(key, [])
        if not isinstance(value, list):
            raise self.error(f"must be an array of tables ([[{self.where}.{key}]]), got {_kind(value)}", key)
        for index, item in enumerate(value):
            yield Table(item, f"{self.where}.{key}[{index}]", self.source)

    def finish(self) -> None:
        """Refuse every key nobody took, with the nearest known key."""
        unknown = [key for key in self.body if key not in self._taken]
        if unknown:
            key = unknown[0]
            others = f" (and {', '.join(map(repr, unknown[1:]))})" if len(unknown) > 1 else ""
            raise self.error(f"unknown key{others}{_suggestion(key, self._taken)}; "
                             f"known keys: {', '.join(sorted(self._taken))}", key)

    def _value(self, key: str, default: Any) -> tuple[bool, Any]:
        """(True, the value) when the table gives ``key``; (False, ``default``) when it may be left out."""
        self._taken.add(key)
        if key in self.body:
            return True, self.body[key]
        if default is _MISSING:
            raise self.error("is required", key)
        return False, default

    def _check_bounds(self, key: str, value: float, minimum: float | None, maximum: float | None) -> None:
        if minimum is not None and value < minimum:
            raise self.error(f"must be at least {minimum:g}, got {value:g}", key)
        if maximum is not None and value > maximum:
            raise self.error(f"must be at most {maximum:g}, got {value:g}", key)


def checked(table: Table, key: str, build: Callable[[], T]) -> T:
    """Run ``build``; a ValueError it raises becomes a ConfigError naming ``key`` of ``table``."""
    try:
        return build()
    except ConfigError:
        raise
    except (TypeError, ValueError) as error:
        raise table.error(str(error), key) from error


def _suggestion(word: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f" — did you mean {close[0]!r}?" if close else ""


def _kind(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
             dict: "a table"}
    return names.get(type(value), type(value).__name__)
