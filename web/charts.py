"""Charts drawn on the server as inline SVG: data in, markup out (pure, no I/O).

Every chart is an `<svg role="img">` named by its `<title>` and described by its `<desc>` (the
text alternative, written by the caller in the page's language); pages show the table behind
each chart next to it. Series are told apart by a pattern as well as a colour, and each bar
carries its total as text, so colour is never the only carrier of meaning. Every colour has a
contrast of at least 4.5:1 against white.

Right to left (Arabic), the x axis is mirrored: the first category, or the earliest year,
sits on the right, where a reader starts, so the chart reads in the same order as the page and
the table beside it. Text keeps its logical anchors (`start`, `end`) under `direction="rtl"`,
which the mirroring relies on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

Formatter = Callable[[float], str]

# Dark enough for 4.5:1 on white: blue, green, red, purple, brown, slate, teal.
PALETTE = ("#0b4f8a", "#1d6b34", "#9b1c1c", "#6a3d9a", "#7a4a00", "#3d4f5f", "#005f5f")
PATTERNS = ("solid", "hatch", "dots", "cross", "lines", "backhatch", "grid")
INK, GRID, FONT = "#1b2733", "#c9d2dc", 12
# Where the plot of a column or line chart lies in its 640-unit-wide drawing.
_LEFT, _TOP, _PLOT_WIDTH, _WIDTH = 64.0, 24.0, 560.0, 640.0


@dataclass(frozen=True)
class Series:
    """One stack of a bar chart (or the only one): its label and one value per category."""

    label: str
    values: tuple[float, ...]


@dataclass(frozen=True)
class ChartText:
    """What a chart says in words: its accessible name, text alternative, empty message."""

    title: str
    summary: str
    empty: str


@dataclass(frozen=True)
class Bar:
    """A drawn segment, in LTR coordinates before mirroring (tests measure these)."""

    category: int
    series: int
    x: float
    y: float
    width: float
    height: float


class _Canvas:
    """Collects SVG elements; mirrors x coordinates when drawing right to left."""

    def __init__(self, width: float, height: float, *, rtl: bool) -> None:
        self.width, self.height, self.rtl = width, height, rtl
        self.parts: list[str] = []

    def x(self, x: float, width: float = 0.0) -> float:
        return self.width - x - width if self.rtl else x

    def rect(self, x: float, y: float, w: float, h: float, fill: str, tip: str = "") -> None:
        title = f"<title>{escape(tip)}</title>" if tip else ""
        self.parts.append(
            f'<rect x="{_n(self.x(x, w))}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" '
            f'fill="{fill}" stroke="#ffffff" stroke-width="1">{title}</rect>'
        )

    def line(self, x1: float, y1: float, x2: float, y2: float, colour: str = GRID) -> None:
        self.parts.append(
            f'<line x1="{_n(self.x(x1))}" y1="{_n(y1)}" x2="{_n(self.x(x2))}" y2="{_n(y2)}" '
            f'stroke="{colour}" stroke-width="1"/>'
        )

    def text(
        self, x: float, y: float, content: str, anchor: str = "start", css: str = "label"
    ) -> None:
        self.parts.append(
            f'<text x="{_n(self.x(x))}" y="{_n(y)}" text-anchor="{anchor}" class="{css}" '
            f'font-size="{FONT}" fill="{INK}">{escape(content)}</text>'
        )

    def svg(self, key: str, text: ChartText, defs: str = "") -> str:
        direction = "rtl" if self.rtl else "ltr"
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(self.width)} '
            f'{_n(self.height)}" width="{_n(self.width)}" height="{_n(self.height)}" '
            f'role="img" aria-labelledby="{key}-title" aria-describedby="{key}-desc" '
            f'direction="{direction}" class="chart-svg" data-chart={quoteattr(key)}>'
            f'<title id="{key}-title">{escape(text.title)}</title>'
            f'<desc id="{key}-desc">{escape(text.summary)}</desc>'
            f"<defs>{defs}</defs>{''.join(self.parts)}</svg>"
        )


def _n(value: float) -> str:
    """A coordinate as SVG wants it: at most two decimals, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text


def _pattern(key: str, index: int) -> tuple[str, str]:
    """The `<pattern>` definition and the fill of series `index` (its colour and pattern)."""
    colour = PALETTE[index % len(PALETTE)]
    kind = PATTERNS[index % len(PATTERNS)]
    if kind == "solid":
        return "", colour
    marks = {
        "hatch": '<path d="M0 8 L8 0" stroke="#ffffff" stroke-width="2"/>',
        "dots": '<circle cx="4" cy="4" r="1.8" fill="#ffffff"/>',
        "cross": '<path d="M0 8 L8 0 M0 0 L8 8" stroke="#ffffff" stroke-width="1.5"/>',
        "lines": '<path d="M0 4 H8" stroke="#ffffff" stroke-width="2"/>',
        "backhatch": '<path d="M0 0 L8 8" stroke="#ffffff" stroke-width="2"/>',
        "grid": '<path d="M4 0 V8 M0 4 H8" stroke="#ffffff" stroke-width="1.5"/>',
    }[kind]
    pid = f"{key}-p{index}"
    definition = (
        f'<pattern id="{pid}" width="8" height="8" patternUnits="userSpaceOnUse">'
        f'<rect width="8" height="8" fill="{colour}"/>{marks}</pattern>'
    )
    return definition, f"url(#{pid})"


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above `value` (the top of an axis)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value - 1e-9:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def _ticks(top: float, *, integer: bool) -> list[float]:
    """Gridlines from 0 to `top` at a round step (a whole one when counting things)."""
    for count in (4, 5, 2, 1):
        step = top / count
        mantissa = step / 10 ** math.floor(math.log10(step))
        round_step = any(math.isclose(mantissa, m) for m in (1, 2, 2.5, 5))
        if round_step and (not integer or math.isclose(step, round(step))):
            return [step * i for i in range(count + 1)]
    return [0.0, top]


def _empty(key: str, text: ChartText, *, rtl: bool) -> str:
    canvas = _Canvas(480, 60, rtl=rtl)
    canvas.text(16, 34, text.empty)
    return canvas.svg(key, text)


def _legend(
    canvas: _Canvas, series: Sequence[Series], fills: list[str], top: float, left: float
) -> None:
    for index, item in enumerate(series):
        y = top + index * 22
        canvas.rect(left, y, 16, 16, fills[index])
        canvas.text(left + 24, y + 13, item.label)


def _definitions(key: str, count: int) -> tuple[str, list[str]]:
    defs, fills = [], []
    for index in range(count):
        definition, fill = _pattern(key, index)
        defs.append(definition)
        fills.append(fill)
    return "".join(defs), fills


def column_layout(
    categories: Sequence[str], series: Sequence[Series], *, plot_height: float = 220.0
) -> tuple[list[Bar], float]:
    """The stacked columns of a vertical bar chart in LTR coordinates, and the axis top.

    A segment's height is its value's share of the axis top times the plot height, so heights
    are proportional to values.
    """
    totals = [sum(s.values[i] for s in series) for i in range(len(categories))]
    top = nice_ceiling(max(totals, default=0.0))
    slot = _PLOT_WIDTH / max(len(categories), 1)
    width = min(slot * 0.6, 80.0)
    bars = []
    for c in range(len(categories)):
        x = _LEFT + c * slot + (slot - width) / 2
        base = _TOP + plot_height
        for s, item in enumerate(series):
            height = item.values[c] / top * plot_height
            if item.values[c] > 0:
                bars.append(Bar(c, s, x, base - height, width, height))
            base -= height
    return bars, top


def column_chart(
    *,
    key: str,
    text: ChartText,
    categories: Sequence[str],
    series: Sequence[Series],
    fmt: Formatter,
    rtl: bool = False,
) -> str:
    """Vertical bars, stacked when there are several series (a histogram with one)."""
    _check(categories, series)
    totals = [sum(s.values[i] for s in series) for i in range(len(categories))]
    if not categories or not any(totals):
        return _empty(key, text, rtl=rtl)
    plot = 220.0
    bars, top = column_layout(categories, series, plot_height=plot)
    legend_rows = len(series) if len(series) > 1 else 0
    canvas = _Canvas(_WIDTH, _TOP + plot + 48 + legend_rows * 22, rtl=rtl)
    defs, fills = _definitions(key, len(series))
    whole = all(float(v).is_integer() for s in series for v in s.values)
    for tick in _ticks(top, integer=whole):
        y = _TOP + plot - tick / top * plot
        canvas.line(_LEFT, y, _LEFT + _PLOT_WIDTH, y)
        canvas.text(_LEFT - 8, y + 4, fmt(tick), anchor="end", css="tick")
    for bar in bars:
        item = series[bar.series]
        tip = f"{categories[bar.category]} · {item.label}: {fmt(item.values[bar.category])}"
        canvas.rect(bar.x, bar.y, bar.width, bar.height, fills[bar.series], tip)
    slot = _PLOT_WIDTH / len(categories)
    for c, name in enumerate(categories):
        middle = _LEFT + c * slot + slot / 2
        total_y = _TOP + plot - totals[c] / top * plot - 6
        canvas.text(middle, total_y, fmt(totals[c]), anchor="middle", css="value")
        canvas.text(middle, _TOP + plot + 18, name, anchor="middle", css="category")
    canvas.line(_LEFT, _TOP + plot, _LEFT + _PLOT_WIDTH, _TOP + plot, INK)
    if legend_rows:
        _legend(canvas, series, fills, _TOP + plot + 36, _LEFT)
    return canvas.svg(key, text, defs)


def row_chart(
    *,
    key: str,
    text: ChartText,
    categories: Sequence[str],
    series: Sequence[Series],
    fmt: Formatter,
    rtl: bool = False,
) -> str:
    """Horizontal stacked bars, each under its category's name (long names stay readable)."""
    _check(categories, series)
    totals = [sum(s.values[i] for s in series) for i in range(len(categories))]
    if not categories or not any(totals):
        return _empty(key, text, rtl=rtl)
    top = nice_ceiling(max(totals))
    left, span, row = 16.0, 560.0, 44.0
    defs, fills = _definitions(key, len(series))
    height = 16 + len(categories) * row + 8 + len(series) * 22 + 8
    canvas = _Canvas(_WIDTH, height, rtl=rtl)
    for c, name in enumerate(categories):
        y = 16 + c * row
        canvas.text(left, y + 12, name, css="category")
        x = left
        for s, item in enumerate(series):
            width = item.values[c] / top * span
            if width > 0:
                tip = f"{name} · {item.label}: {fmt(item.values[c])}"
                canvas.rect(x, y + 18, width, 18, fills[s], tip)
            x += width
        canvas.text(x + 6, y + 32, fmt(totals[c]), css="value")
    _legend(canvas, series, fills, 16 + len(categories) * row + 8, left)
    return canvas.svg(key, text, defs)


def line_chart(
    *,
    key: str,
    text: ChartText,
    categories: Sequence[str],
    values: Sequence[float | None],
    fmt: Formatter,
    top: float = 1.0,
    rtl: bool = False,
) -> str:
    """A line through the known values (None leaves a gap), each point labelled."""
    if len(values) != len(categories):
        raise ValueError("one value per category")
    if not any(v is not None for v in values):
        return _empty(key, text, rtl=rtl)
    plot = 220.0
    canvas = _Canvas(_WIDTH, _TOP + plot + 40, rtl=rtl)
    for tick in _ticks(top, integer=False):
        y = _TOP + plot - tick / top * plot
        canvas.line(_LEFT, y, _LEFT + _PLOT_WIDTH, y)
        canvas.text(_LEFT - 8, y + 4, fmt(tick), anchor="end", css="tick")
    slot = _PLOT_WIDTH / len(categories)
    points: list[tuple[float, float] | None] = [
        None if v is None else (_LEFT + c * slot + slot / 2, _TOP + plot - min(v, top) / top * plot)
        for c, v in enumerate(values)
    ]
    run: list[tuple[float, float]] = []
    for point in [*points, None]:
        if point is not None:
            run.append(point)
            continue
        if len(run) > 1:
            coords = " ".join(f"{_n(canvas.x(x))},{_n(y)}" for x, y in run)
            canvas.parts.append(
                f'<polyline points="{coords}" fill="none" stroke="{PALETTE[0]}" stroke-width="3"/>'
            )
        run = []
    for c, name in enumerate(categories):
        middle = _LEFT + c * slot + slot / 2
        canvas.text(middle, _TOP + plot + 18, name, anchor="middle", css="category")
        point, value = points[c], values[c]
        if point is not None and value is not None:
            canvas.parts.append(
                f'<circle cx="{_n(canvas.x(point[0]))}" cy="{_n(point[1])}" r="5" '
                f'fill="{PALETTE[0]}"><title>{escape(f"{name}: {fmt(value)}")}</title></circle>'
            )
            canvas.text(point[0], point[1] - 10, fmt(value), anchor="middle", css="value")
    canvas.line(_LEFT, _TOP + plot, _LEFT + _PLOT_WIDTH, _TOP + plot, INK)
    return canvas.svg(key, text)


def _check(categories: Sequence[str], series: Sequence[Series]) -> None:
    for item in series:
        if len(item.values) != len(categories):
            raise ValueError(f"series {item.label!r} needs one value per category")
        if any(v < 0 for v in item.values):
            raise ValueError(f"series {item.label!r} has a negative value")
