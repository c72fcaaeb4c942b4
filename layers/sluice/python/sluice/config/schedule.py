"""Schedule expressions checked the way EventBridge checks them (rate and cron), so a bad one fails in the
configuration and not at ``cdk deploy``.

rate(value unit): a positive whole value; unit minute|hour|day, singular for 1 and plural otherwise.
cron(minutes hours day-of-month month day-of-week year): six fields, and exactly one of day-of-month and
day-of-week is ``?``.
"""

from __future__ import annotations

import re

RATE = re.compile(r"^rate\((?P<value>\d+) (?P<unit>minutes?|hours?|days?)\)$")
CRON = re.compile(r"^cron\((?P<fields>[^()]+)\)$")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minutes", 0, 59, ()),
    ("hours", 0, 23, ()),
    ("day-of-month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 1, 7, _DAYS),
    ("year", 1970, 2199, ()),
)
_SPECIALS: dict[str, re.Pattern[str]] = {
    "day-of-month": re.compile(r"^(L|LW|\d{1,2}W)$"),
    "day-of-week": re.compile(r"^(\d|[A-Z]{3})(#[1-5]|L)$|^L$"),
}


def schedule_problem(expression: str) -> str | None:
    """Why EventBridge would refuse ``expression``, or None when it is valid."""
    if expression.startswith("rate("):
        return _rate_problem(expression)
    if expression.startswith("cron("):
        return _cron_problem(expression)
    return "must be rate(value unit) or cron(minutes hours day-of-month month day-of-week year)"


def _rate_problem(expression: str) -> str | None:
    match = RATE.match(expression)
    if match is None:
        return "rate() takes a whole number and a unit: rate(5 minutes), rate(1 hour), rate(7 days)"
    value, unit = int(match["value"]), match["unit"]
    if value < 1:
        return "a rate must be at least 1"
    if (value == 1) == unit.endswith("s"):
        return f"use {'the singular' if value == 1 else 'the plural'}: rate({value} " \
               f"{unit.rstrip('s') if value == 1 else unit + 's'})"
    return None


def _cron_problem(expression: str) -> str | None:
    match = CRON.match(expression)
    fields = match["fields"].split() if match else []
    if len(fields) != len(_FIELDS):
        return "cron() takes six fields: minutes hours day-of-month month day-of-week year"
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        return "exactly one of day-of-month and day-of-week must be '?'"
    for value, (name, low, high, names) in zip(fields, _FIELDS, strict=True):
        problem = _field_problem(value.upper(), name, low, high, names)
        if problem:
            return f"{name} {value!r}: {problem}"
    return None


def _field_problem(value: str, name: str, low: int, high: int, names: tuple[str, ...]) -> str | None:
    if value == "?":
        return None if name in ("day-of-month", "day-of-week") else "'?' is only for day-of-month or day-of-week"
    for part in value.split(","):
        special = _SPECIALS.get(name)
        if special is not None and special.match(part):
            continue
        base, _, step = part.partition("/")
        if step and (not step.isdigit() or int(step) < 1):
            return f"the step {step!r} must be a positive whole number"
        if base == "*":
            continue
        for bound in base.split("-", 1):
            number = _number(bound, names)
            if number is None or not low <= number <= high:
                allowed = f"{low}-{high}" + (f" or {names[0]}-{names[-1]}" if names else "")
                return f"{bound!r} is not in {allowed}"
    return None


def _number(text: str, names: tuple[str, ...]) -> int | None:
    if text.isdigit():
        return int(text)
    if text in names:
        return names.index(text) + 1
    return None
