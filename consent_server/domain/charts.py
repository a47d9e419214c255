"""Charts as SVG markup, drawn on the server from numbers: no script, no other origin.

Pure functions from numbers to text. Every text put in the markup (titles,
labels, tooltips) is escaped here, so a caller may pass anything. Colours are
SVG presentation attributes (``fill=``, ``stroke=``), which a strict
Content-Security-Policy allows, never ``style=`` attributes. Each chart is an
image with an accessible name (``role="img"`` named by its ``<title>``); the
numbers themselves belong in a table beside it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from html import escape

# The drawing's own units; the page scales it to the width it has.
WIDTH = 640
HEIGHT = 300
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 14, 44
PLOT_W = WIDTH - LEFT - RIGHT
PLOT_H = HEIGHT - TOP - BOTTOM
# Axis text and lines: dark enough on white for WCAG AA (7.6:1 and 4.8:1).
TEXT = "#334155"
AXIS = "#64748b"
GRID = "#e2e8f0"
FONT = 13
MAX_X_LABELS = 7


@dataclasses.dataclass(frozen=True)
class Series:
    """One line, or one part of each stacked bar, with its legend label.

    ``dash`` is a stroke-dasharray, so lines differ by more than colour.
    """

    label: str
    values: Sequence[float | None]
    colour: str
    dash: str = ""


def _n(value: float) -> str:
    # Short, stable coordinates: two decimals, no trailing zeros.
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _open(chart_id: str, title: str, summary: str) -> list[str]:
    cid = escape(chart_id)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{cid}"'
        f' viewBox="0 0 {WIDTH} {HEIGHT}" role="img"'
        f' aria-labelledby="{cid}-title {cid}-desc">',
        f'<title id="{cid}-title">{escape(title)}</title>',
        f'<desc id="{cid}-desc">{escape(summary)}</desc>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
    ]


def _slot(count: int) -> float:
    return PLOT_W / max(count, 1)


def _x(index: int, count: int) -> float:
    """The middle of day ``index``'s slot."""
    return LEFT + _slot(count) * (index + 0.5)


def _y(value: float, top: float) -> float:
    return TOP + PLOT_H - (value / top) * PLOT_H if top else TOP + PLOT_H


def _axes(
    labels: Sequence[str],
    ticks: Sequence[float],
    top: float,
    tick_text: Callable[[float], str],
) -> list[str]:
    out = []
    for tick in ticks:
        y = _n(_y(tick, top))
        out.append(
            f'<line x1="{LEFT}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}"'
            f' stroke="{GRID}" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{LEFT - 6}" y="{y}" text-anchor="end" dominant-baseline="middle"'
            f' font-size="{FONT}" fill="{TEXT}">{escape(tick_text(tick))}</text>'
        )
    base = _n(TOP + PLOT_H)
    out.append(
        f'<line x1="{LEFT}" y1="{base}" x2="{WIDTH - RIGHT}" y2="{base}"'
        f' stroke="{AXIS}" stroke-width="1"/>'
    )
    step = max(1, math.ceil(len(labels) / MAX_X_LABELS))
    for i in range(0, len(labels), step):
        x = _n(_x(i, len(labels)))
        out.append(
            f'<text x="{x}" y="{_n(TOP + PLOT_H + 20)}" text-anchor="middle"'
            f' font-size="{FONT}" fill="{TEXT}">{escape(labels[i])}</text>'
        )
    return out


def nice_top(largest: float) -> tuple[float, float]:
    """A round top for a count axis at or above ``largest``, and its tick step
    (1, 2 or 5 times a power of ten, whole numbers only)."""
    if largest <= 0:
        return 1.0, 1.0
    raw = largest / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(1.0, float(step))
    return step * math.ceil(largest / step), step


def rate_chart(
    chart_id: str,
    title: str,
    summary: str,
    labels: Sequence[str],
    series: Sequence[Series],
) -> str:
    """A line chart of shares (0 to 1, shown 0-100 %) per day.

    A ``None`` value (a day with nothing to measure) leaves a gap in its line;
    every measured day also gets a dot, so a day alone between gaps shows.
    """
    count = len(labels)
    out = _open(chart_id, title, summary)
    out += _axes(labels, (0, 0.25, 0.5, 0.75, 1.0), 1.0, lambda t: f"{t * 100:.0f} %")
    for s in series:
        label = escape(s.label)
        dash = f' stroke-dasharray="{escape(s.dash)}"' if s.dash else ""
        runs: list[list[str]] = [[]]
        dots = []
        for i, value in enumerate(s.values):
            if value is None:
                runs.append([])
                continue
            x, y = _n(_x(i, count)), _n(_y(value, 1.0))
            runs[-1].append(f"{x} {y}")
            dots.append(
                f'<circle cx="{x}" cy="{y}" r="3" fill="{escape(s.colour)}"'
                f' data-day="{escape(labels[i])}" data-value="{value:.4f}">'
                f"<title>{escape(labels[i])}: {label} {value * 100:.1f} %</title>"
                "</circle>"
            )
        path = " ".join("M" + " L".join(run) for run in runs if len(run) > 1)
        out.append(f'<g class="series" data-series="{label}">')
        if path:
            out.append(
                f'<path d="{path}" fill="none" stroke="{escape(s.colour)}"'
                f' stroke-width="2.5"{dash}/>'
            )
        out += dots
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def count_chart(
    chart_id: str,
    title: str,
    summary: str,
    labels: Sequence[str],
    series: Sequence[Series],
) -> str:
    """Stacked bars of counts per day: one bar per label, one part per series,
    in the order given from the bottom up; a day of zero has an empty slot.
    """
    count = len(labels)
    totals = [sum(s.values[i] or 0 for s in series) for i in range(count)]
    top, step = nice_top(max(totals, default=0))
    ticks = [step * k for k in range(int(top / step) + 1)]
    out = _open(chart_id, title, summary)
    out += _axes(labels, ticks, top, lambda t: f"{t:.0f}")
    width = max(1.0, _slot(count) * 0.7)
    for i, label in enumerate(labels):
        x = _n(_x(i, count) - width / 2)
        out.append(
            f'<g class="bar" data-day="{escape(label)}" data-total="{totals[i]:g}">'
        )
        bottom = float(TOP + PLOT_H)
        for s in series:
            value = s.values[i] or 0
            if not value:
                continue
            height = value / top * PLOT_H
            bottom -= height
            # A white edge keeps touching parts apart.
            out.append(
                f'<rect x="{x}" y="{_n(bottom)}" width="{_n(width)}"'
                f' height="{_n(height)}" fill="{escape(s.colour)}" stroke="#ffffff"'
                f' stroke-width="1" data-part="{escape(s.label)}"'
                f' data-value="{value:g}">'
                f"<title>{escape(label)}: {escape(s.label)} {value:g}</title></rect>"
            )
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def legend(series: Sequence[Series], kind: str) -> str:
    """A list of the series' labels, each after a small sample of its line
    (``kind="line"``, with its dashes) or its bar colour."""
    items = []
    for s in series:
        colour = escape(s.colour)
        if kind == "line":
            dash = f' stroke-dasharray="{escape(s.dash)}"' if s.dash else ""
            mark = (
                f'<line x1="1" y1="7" x2="29" y2="7" stroke="{colour}"'
                f' stroke-width="3"{dash}/>'
            )
        else:
            mark = f'<rect x="8" y="1" width="14" height="12" fill="{colour}"/>'
        items.append(
            '<li><svg xmlns="http://www.w3.org/2000/svg" width="30" height="14"'
            f' viewBox="0 0 30 14" aria-hidden="true" focusable="false">{mark}</svg>'
            f" {escape(s.label)}</li>"
        )
    return '<ul class="legend">' + "".join(items) + "</ul>"
