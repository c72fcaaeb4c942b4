"""Small, dependency-free SVG charts for model cards: lines and scatters, a heatmap, horizontal bars."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 380, 300
LEFT, RIGHT, TOP, BOTTOM = 58, 16, 34, 46
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e")
FONT = 'font-family="Helvetica,Arial,sans-serif"'


@dataclass(frozen=True)
class Series:
    """One line (or scatter) of ``(x, y)`` points."""

    name: str
    points: Sequence[Sequence[float]]
    scatter: bool = False
    dashed: bool = False


def xy_chart(
    title: str,
    series: Sequence[Series],
    x_label: str,
    y_label: str,
    *,
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
    reference: Sequence[Sequence[float]] | None = None,
) -> str:
    """Lines/scatters on shared axes; ``reference`` is a dashed grey guide line (e.g. the diagonal)."""
    xs = [p[0] for s in series for p in s.points] or [0.0, 1.0]
    ys = [p[1] for s in series for p in s.points] or [0.0, 1.0]
    x0, x1 = x_range or _padded(min(xs), max(xs))
    y0, y1 = y_range or _padded(min(ys), max(ys))

    def sx(x: float) -> float:
        return LEFT + (x - x0) / (x1 - x0) * (WIDTH - LEFT - RIGHT)

    def sy(y: float) -> float:
        return HEIGHT - BOTTOM - (y - y0) / (y1 - y0) * (HEIGHT - TOP - BOTTOM)

    parts = [_frame(title, x_label, y_label), _ticks(x0, x1, y0, y1, sx, sy)]
    if reference:
        parts.append(_polyline([(sx(x), sy(y)) for x, y in reference], "#999999", dashed=True))
    for index, item in enumerate(series):
        color = PALETTE[index % len(PALETTE)]
        mapped = [(sx(p[0]), sy(p[1])) for p in item.points]
        if item.scatter:
            parts.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.6" fill="{color}" fill-opacity="0.6"/>'
                         for x, y in mapped)
        elif mapped:
            parts.append(_polyline(mapped, color, dashed=item.dashed))
    if len(series) > 1:
        parts.append(_legend([item.name for item in series]))
    return _svg(title, parts)


def heatmap(title: str, labels: Sequence[str], matrix: Sequence[Sequence[int]], x_label: str, y_label: str) -> str:
    """A confusion-matrix style grid: darker cells hold more rows; each cell shows its count."""
    n = max(len(labels), 1)
    size = min((WIDTH - LEFT - RIGHT) / n, (HEIGHT - TOP - BOTTOM) / n)
    peak = max((value for row in matrix for value in row), default=0) or 1
    parts = [_frame(title, x_label, y_label)]
    for r, row in enumerate(matrix):
        for c, value in enumerate(row):
            shade = value / peak
            x, y = LEFT + c * size, TOP + r * size
            fill = f"rgb({int(255 - 200 * shade)},{int(255 - 140 * shade)},{int(255 - 60 * shade)})"
            ink = "#ffffff" if shade > 0.6 else "#222222"
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{size:.1f}" height="{size:.1f}" fill="{fill}" '
                         f'stroke="#ffffff"/>')
            parts.append(_text(x + size / 2, y + size / 2 + 4, str(value), size=12, anchor="middle", fill=ink))
    for index, label in enumerate(labels):
        centre = LEFT + (index + 0.5) * size
        parts.append(_text(centre, TOP + n * size + 14, _short(label), size=10, anchor="middle"))
        parts.append(_text(LEFT - 4, TOP + (index + 0.5) * size + 3, _short(label), size=10, anchor="end"))
    return _svg(title, parts)


def bar_chart(title: str, items: Sequence[tuple[str, float, float]], x_label: str) -> str:
    """Horizontal bars ``(label, value, error)``, largest first, with error whiskers."""
    items = list(items)[:12] or [("(none)", 0.0, 0.0)]
    left = 150
    high = max(max(value + error for _, value, error in items), 1e-12)
    low = min(min(value - error for _, value, error in items), 0.0)
    band = (HEIGHT - TOP - BOTTOM) / len(items)

    def sx(x: float) -> float:
        return left + (x - low) / (high - low) * (WIDTH - left - RIGHT)

    parts = [_frame(title, x_label, "")]
    parts.append(f'<line x1="{sx(0):.1f}" y1="{TOP}" x2="{sx(0):.1f}" y2="{HEIGHT - BOTTOM}" stroke="#888888"/>')
    for index, (label, value, error) in enumerate(items):
        y = TOP + index * band
        x_a, x_b = sorted((sx(0), sx(value)))
        parts.append(f'<rect x="{x_a:.1f}" y="{y + band * 0.15:.1f}" width="{max(x_b - x_a, 1):.1f}" '
                     f'height="{band * 0.7:.1f}" fill="{PALETTE[0]}"/>')
        if error > 0:
            mid = y + band / 2
            parts.append(f'<line x1="{sx(value - error):.1f}" y1="{mid:.1f}" x2="{sx(value + error):.1f}" '
                         f'y2="{mid:.1f}" stroke="#333333"/>')
        parts.append(_text(left - 4, y + band / 2 + 3, _short(label, 24), size=10, anchor="end"))
    parts.append(_text(sx(low), HEIGHT - BOTTOM + 14, f"{low:.3g}", size=10, anchor="middle"))
    parts.append(_text(sx(high), HEIGHT - BOTTOM + 14, f"{high:.3g}", size=10, anchor="end"))
    return _svg(title, parts)


def _svg(title: str, parts: list[str]) -> str:
    body = "".join(parts)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}"><title>{escape(title)}</title>'
            f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>{body}</svg>')


def _frame(title: str, x_label: str, y_label: str) -> str:
    plot = (f'<rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" height="{HEIGHT - TOP - BOTTOM}" '
            f'fill="none" stroke="#cccccc"/>')
    parts = [plot, _text(WIDTH / 2, 20, title, size=14, anchor="middle", weight="bold"),
             _text((LEFT + WIDTH - RIGHT) / 2, HEIGHT - 8, x_label, size=11, anchor="middle")]
    if y_label:
        middle = (TOP + HEIGHT - BOTTOM) / 2
        parts.append(f'<text x="14" y="{middle:.1f}" {FONT} font-size="11" text-anchor="middle" '
                     f'transform="rotate(-90 14 {middle:.1f})">{escape(y_label)}</text>')
    return "".join(parts)


def _ticks(
    x0: float, x1: float, y0: float, y1: float, sx: Callable[[float], float], sy: Callable[[float], float]
) -> str:
    parts = []
    for value in _tick_values(x0, x1):
        x = sx(value)
        parts.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{HEIGHT - BOTTOM}" stroke="#eeeeee"/>')
        parts.append(_text(x, HEIGHT - BOTTOM + 14, _number(value), size=10, anchor="middle"))
    for value in _tick_values(y0, y1):
        y = sy(value)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#eeeeee"/>')
        parts.append(_text(LEFT - 5, y + 3, _number(value), size=10, anchor="end"))
    return "".join(parts)


def _tick_values(low: float, high: float, count: int = 5) -> list[float]:
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(count + 2) if first + i * step <= high + step * 1e-9]


def _padded(low: float, high: float) -> tuple[float, float]:
    if high - low < 1e-12:
        return low - 1.0, high + 1.0
    pad = (high - low) * 0.05
    return low - pad, high + pad


def _polyline(points: list[tuple[float, float]], color: str, *, dashed: bool) -> str:
    coordinates = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dash = ' stroke-dasharray="5,4"' if dashed else ""
    return f'<polyline points="{coordinates}" fill="none" stroke="{color}" stroke-width="2"{dash}/>'


def _legend(names: list[str]) -> str:
    parts = []
    for index, name in enumerate(names):
        y = TOP + 12 + index * 14
        color = PALETTE[index % len(PALETTE)]
        parts.append(f'<rect x="{WIDTH - RIGHT - 120}" y="{y - 8}" width="10" height="10" fill="{color}"/>')
        parts.append(_text(WIDTH - RIGHT - 106, y + 1, _short(name, 18), size=10))
    return "".join(parts)


def _text(x: float, y: float, content: str, *, size: int, anchor: str = "start", fill: str = "#222222",
          weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" {FONT} font-size="{size}" text-anchor="{anchor}" fill="{fill}" '
            f'font-weight="{weight}">{escape(content)}</text>')


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:.0f}"


def _short(label: str, limit: int = 14) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
