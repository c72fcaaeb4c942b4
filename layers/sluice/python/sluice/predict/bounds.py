"""Bound a request body before parsing it, then refuse values the predict contract cannot hold.

A Function URL passes any body up to 6 MB to the function. Python's ``json`` module recurses once per nesting
level (RecursionError near 1,000), converts integer literals of 4,301+ digits only by raising, reads ``NaN`` and
``Infinity`` as floats and turns ``1e400`` into ``inf``, and accepts ``"\\ud800"`` (a lone surrogate that no
encoder can write back). Each would otherwise surface later as an exception, so it is refused here as the
caller's error (400) instead, naming where it is.

Limits (also in ARCHITECTURE.md, "The endpoint and its swap"):

* ``MAX_BODY_BYTES`` — 6 MiB, the Function URL payload limit (413 above it).
* ``MAX_DEPTH`` — 32 nested arrays/objects; a V1 request needs 3 (``{"instances": [{...}]}``).
* ``MAX_NUMBER_CHARS`` — 64 characters per number literal; a float64 needs at most 24.
* ``MAX_INSTANCES`` — 10,000 instances per request (the serving limit), counted before any conversion.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

MAX_BODY_BYTES = 6 * 1024 * 1024
MAX_DEPTH = 32
MAX_NUMBER_CHARS = 64
MAX_INSTANCES = 10_000

# a string runs to its closing quote or to the end of the text (never fails, so never rescans: linear time)
_STRING = re.compile(r'"[^"\\]*(?:\\[\s\S]?[^"\\]*)*(?:"|\Z)')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_INNERMOST_PAIR = re.compile(r"[\[{][\]}]")
_LONG_NUMBER = re.compile(rf"[-+0-9.eE]{{{MAX_NUMBER_CHARS + 1},}}")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")

# Cheap upper bounds, computed at C speed on the raw bytes, that decide whether the exact scans must run at all
# (a clean 100-row request then costs about what json.loads costs). Each over-approximates: brackets and digits
# inside strings count too, so a false alarm only costs the exact scan, never a wrong answer.
_ONLY_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_OPENING = frozenset(b"[{")
_MARKS = bytes(  # digits and "." → 1, e/E → e, signs → s, anything else → 0
    ord("1") if chr(byte) in "0123456789." else ord("e") if chr(byte) in "eE" else ord("s") if chr(byte) in "+-"
    else ord("0") for byte in range(256))
_NUMBERISH = bytes(ord("1") if chr(byte) in "0123456789.eE+-" else ord("0") for byte in range(256))
_LONG_NUMBER_MARK = b"1" * (MAX_NUMBER_CHARS // 2)  # any literal past the limit holds such a run
_EXPONENT_MARKS = (b"1e1", b"1es1")  # every literal that can overflow a float64 has an exponent or a long run


class RequestRefused(ValueError):  # noqa: N818 - a refusal, not a failure
    """The body breaks a bound or holds a value the contract cannot; ``status`` is the HTTP answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def load_bounded_json(body: bytes) -> Any:
    """Parse ``body`` (UTF-8 JSON) within the bounds; raise ``RequestRefused`` naming the first problem."""
    if len(body) > MAX_BODY_BYTES:
        raise RequestRefused(413, f"the body exceeds {MAX_BODY_BYTES} bytes")
    if not body:
        raise RequestRefused(400, 'the body is empty; send {"instances": [...]}')
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RequestRefused(400, f"the body is not valid UTF-8 (byte {error.start})") from error
    marks = body.translate(_MARKS)
    if _max_depth_bound(body) > MAX_DEPTH or _LONG_NUMBER_MARK in body.translate(_NUMBERISH):
        _check_structure(text)
    may_overflow = any(mark in marks for mark in _EXPONENT_MARKS) or _LONG_NUMBER_MARK in marks
    overflowed: list[str] = []

    def parse_float(literal: str) -> float:
        number = float(literal)
        if math.isinf(number):
            overflowed.append(literal)
        return number

    try:
        document = json.loads(text, parse_constant=_refuse_constant,
                              parse_float=parse_float if may_overflow else float)
    except RequestRefused:
        raise
    except ValueError as error:  # JSONDecodeError, and int() beyond the digit limit should the scan miss one
        raise RequestRefused(400, f"the body is not valid JSON: {error}") from error
    if overflowed or (b"\\u" in body and _SURROGATE_ESCAPE.search(text)):  # only then can a value be unwritable
        check_values(document)
    return document


def _max_depth_bound(body: bytes) -> int:
    """The deepest bracket nesting counting brackets inside strings too (an upper bound of the real depth)."""
    depth = deepest = 0
    for byte in body.translate(None, _ONLY_BRACKETS):
        if byte in _OPENING:
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def check_instance_count(instances: Any) -> None:
    """Refuse more than ``MAX_INSTANCES`` instances before any of them is converted."""
    if isinstance(instances, list) and len(instances) > MAX_INSTANCES:
        raise RequestRefused(400, f"too many instances: {len(instances)} (at most {MAX_INSTANCES} per request)")


def check_values(document: Any) -> None:
    """Refuse non-finite numbers and strings that are not valid Unicode, naming instance and field."""
    for path, value, is_key in _leaves(document, ()):
        if isinstance(value, float) and not math.isfinite(value):
            raise RequestRefused(400, f"{describe(path)}: {value!r} is beyond the range of a float64 number")
        if isinstance(value, str) and not _encodable(value):
            what = f"the field name {value[:64]!a}" if is_key else "the text"
            raise RequestRefused(400, f"{describe(path)}: {what} is not valid Unicode (a lone surrogate)")


def describe(path: tuple[str | int, ...]) -> str:
    """``instance 3, field 'age'`` for a value inside ``instances``; a JSON path otherwise."""
    if len(path) >= 2 and path[0] == "instances" and isinstance(path[1], int):
        where = f"instance {path[1]}"
        if len(path) >= 3:
            where += f", field {_printable(path[2])}"
        if len(path) > 3:
            where += " at " + "".join(f"[{_printable(part)}]" for part in path[3:])
        return where
    return "the body at " + ("".join(f"[{_printable(part)}]" for part in path) or "the top level")


def _check_structure(text: str) -> None:
    """Nesting depth and number literal length, by a scan that never recurses (strings blanked out first)."""
    outside = _STRING.sub('""', text)
    long_number = _LONG_NUMBER.search(outside)
    if long_number is not None:
        raise RequestRefused(400, f"a number literal is longer than {MAX_NUMBER_CHARS} characters "
                                  f"(at character {long_number.start()} outside strings)")
    brackets = _NOT_BRACKET.sub("", outside)
    for _ in range(MAX_DEPTH):  # each pass removes the innermost level: MAX_DEPTH passes empty a bounded text
        if not brackets:
            return
        brackets, removed = _INNERMOST_PAIR.subn("", brackets)
        if not removed:
            raise RequestRefused(400, "the body is not valid JSON: its brackets do not pair up")
    if brackets:
        raise RequestRefused(400, f"the JSON is nested more than {MAX_DEPTH} levels deep")


def _refuse_constant(name: str) -> float:
    raise RequestRefused(400, f"{name} is not a JSON number; send finite numbers (or null for a missing value)")


def _leaves(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], Any, bool]]:
    """Every key (flagged True) and scalar with its path, iteratively (no recursion needed)."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, dict):
            for key in item:
                yield where, key, True
            stack.extend(((*where, key), child) for key, child in reversed(list(item.items())))
        elif isinstance(item, list):
            stack.extend(((*where, index), child) for index, child in reversed(list(enumerate(item))))
        else:
            yield where, item, False


def _encodable(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _printable(part: str | int) -> str:
    if isinstance(part, int):
        return str(part)
    return ascii(part[:64]) if not _encodable(part) else repr(part[:64])
