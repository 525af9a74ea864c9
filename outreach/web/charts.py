"""Server-rendered SVG bar charts (no script, no inline style: the page's CSP allows neither).

A chart is a list of bars (label, value, optional class); the SVG scales to its container
(viewBox) and carries a <title> and an aria-label so a screen reader reads the numbers too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
ROW = 30
LABEL_W = 170
VALUE_W = 110


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # what is printed at the bar's end (a count, a percentage)
    css: str = "bar"  # bar, bar-red, bar-orange, bar-yellow, bar-blue, bar-muted


def bar_chart(bars: Sequence[Bar], title: str, maximum: float | None = None) -> Markup:
    """Horizontal bars, one row each, longest = maximum (default: the largest value)."""
    if not bars:
        return Markup("")
    top = maximum if maximum is not None else max((b.value for b in bars), default=0.0)
    top = top or 1.0
    span = WIDTH - LABEL_W - VALUE_W
    height = ROW * len(bars) + 6
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for i, bar in enumerate(bars):
        y = 3 + i * ROW
        length = max(0.0, min(1.0, bar.value / top)) * span
        label = bar.label if len(bar.label) <= 12 else bar.label[:11] + "…"
        parts.append(
            f'<text x="{LABEL_W - 6}" y="{y + 19}" text-anchor="end">{escape(label)}</text>'
            f'<rect class="{escape(bar.css)}" x="{LABEL_W}" y="{y + 3}" width="{length:.1f}" '
            f'height="{ROW - 8}" rx="3"/>'
            f'<text x="{LABEL_W + length + 6:.1f}" y="{y + 19}">{escape(bar.text)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
