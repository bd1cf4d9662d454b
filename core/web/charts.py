"""Charts drawn on the server as SVG: no script, nothing from elsewhere, and readable without the picture.

Every chart is an ``<svg role="img">`` named by its ``<title>`` and described by a ``<desc>`` that
says the figures in words; the dashboard also shows each chart's numbers as a table. Colours come
from attributes (the Content-Security-Policy allows no inline styles).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count

from markupsafe import Markup, escape

WIDTH = 720
INK, GRID, GOAL = "#111827", "#d1d5db", "#b91c1c"
SERIES = ("#1d4ed8", "#d97706", "#15803d", "#7c3aed", "#0e7490", "#be185d")
_IDS = count(1)


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float
    shown: str  # the value as written next to the bar ("42 %", "3.5 h")


def _head(title: str, desc: str, height: int) -> tuple[str, str]:
    n = next(_IDS)
    tid, did = f"chart-{n}-title", f"chart-{n}-desc"
    head = (f'<svg class="chart" role="img" aria-labelledby="{tid} {did}" viewBox="0 0 {WIDTH} {height}" '
            f'width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">'
            f'<title id="{tid}">{escape(title)}</title><desc id="{did}">{escape(desc)}</desc>')
    return head, "</svg>"


def bars(title: str, bars_: Sequence[Bar], *, goal: float | None = None, goal_label: str = "",
         scale: float | None = None, colour: str = SERIES[0], empty: str = "no data") -> Markup:
    """Horizontal bars, one per label; an optional goal drawn as a red line."""
    row, label_w = 28, 190
    value_w = min(260, max(60, 8 * max((len(b.shown) for b in bars_), default=0)))
    height = max(1, len(bars_)) * row + 24
    top = max([b.value for b in bars_] + [goal or 0, scale or 0, 1e-9])
    desc = "; ".join(f"{b.label}: {b.shown}" for b in bars_) or empty
    if goal is not None:
        desc += f"; goal {goal_label}"
    head, tail = _head(title, desc, height)
    span = WIDTH - label_w - value_w
    parts = [head]
    for i, b in enumerate(bars_):
        y = 8 + i * row
        w = max(0.0, b.value) / top * span
        parts.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" font-size="13" fill="{INK}">'
                     f'{escape(_short(b.label, 26))}</text>'
                     f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 10}" fill="{colour}" rx="2"/>'
                     f'<text x="{label_w + w + 6:.1f}" y="{y + 16}" font-size="13" fill="{INK}">'
                     f'{escape(b.shown)}</text>')
    if goal is not None:
        x = label_w + goal / top * span
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="2" y2="{height - 18}" stroke="{GOAL}" stroke-width="2" '
                     f'stroke-dasharray="5 3"/><text x="{x:.1f}" y="{height - 4}" text-anchor="middle" font-size="12" '
                     f'fill="{GOAL}">{escape(goal_label)}</text>')
    if not bars_:
        parts.append(f'<text x="{WIDTH / 2}" y="{height / 2 + 4}" text-anchor="middle" font-size="13" fill="{INK}">'
                     f'{escape(empty)}</text>')
    return Markup("".join(parts) + tail)


def columns(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], *,
            percent: bool = False) -> Markup:
    """Vertical columns per day, one colour per series side by side, with a legend and a y-axis maximum."""
    height, left, bottom, top_pad = 240, 44, 36, 26
    plot_h = height - bottom - top_pad
    n = max(1, len(labels))
    top = 1.0 if percent else max([v for _, values in series for v in values] + [1])
    slot = (WIDTH - left - 8) / n
    width = max(1.0, slot * 0.8 / max(1, len(series)))
    totals = [f"{name}: {_fmt(sum(values), percent, average=len(values))}" for name, values in series]
    desc = f"{len(labels)} days from {labels[0] if labels else '-'} to {labels[-1] if labels else '-'}; " + "; ".join(
        totals)
    head, tail = _head(title, desc, height)
    parts = [head, f'<line x1="{left}" x2="{WIDTH}" y1="{top_pad + plot_h}" y2="{top_pad + plot_h}" stroke="{GRID}"/>',
             f'<line x1="{left}" x2="{WIDTH}" y1="{top_pad}" y2="{top_pad}" stroke="{GRID}" stroke-dasharray="3 3"/>',
             f'<text x="{left - 6}" y="{top_pad + 4}" text-anchor="end" font-size="12" fill="{INK}">'
             f'{escape(_fmt(top, percent))}</text>',
             f'<text x="{left - 6}" y="{top_pad + plot_h}" text-anchor="end" font-size="12" fill="{INK}">0</text>']
    for s, (name, values) in enumerate(series):
        colour = SERIES[s % len(SERIES)]
        parts.append(f'<rect x="{left + s * 150}" y="4" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{left + s * 150 + 16}" y="14" font-size="12" fill="{INK}">{escape(name)}</text>')
        for i, v in enumerate(values):
            h = max(0.0, v) / top * plot_h
            x = left + i * slot + slot * 0.1 + s * width
            parts.append(f'<rect x="{x:.1f}" y="{top_pad + plot_h - h:.1f}" width="{width:.1f}" height="{h:.1f}" '
                         f'fill="{colour}"/>')
    every = max(1, round(n / 8))
    for i, label in enumerate(labels):
        if i % every == 0:
            x = left + i * slot + slot / 2
            parts.append(f'<text x="{x:.1f}" y="{height - 14}" text-anchor="middle" font-size="11" fill="{INK}">'
                         f'{escape(label[5:])}</text>')
    return Markup("".join(parts) + tail)


def _fmt(value: float, percent: bool, average: int | None = None) -> str:
    if percent:
        shown = value / average if average else value
        return f"{shown * 100:.0f} %" + (" on average" if average else "")
    return f"{value:g}"


def _short(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"
