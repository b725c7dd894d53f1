"""Hand-written SVG drawing: the primitives every chart of ArtAlign is made of, and the progress
page's histogram. No plotting library, no script, no network; every text is escaped.

It lives in the lowest app so that the progress page draws its own chart; alignment's charts
(`alignment.render_svg`) are made of the same primitives.
"""
from __future__ import annotations

import math

from django.utils.html import escape

INK, MUTED, LINE, ACCENT = "#1d1d1f", "#6b6b70", "#e3e1dc", "#8a3b12"
PERSON, MODEL, STAND_IN = "#9a9aa0", "#1f6fb2", "#c0392b"
FONT = 'font-family="system-ui, sans-serif"'


def svg_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def svg_document(width: float, height: float, label: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{escape(label)}" {FONT}>'
            f'<title>{escape(label)}</title>' + "".join(body) + "</svg>")


def svg_text(x: float, y: float, text, *, anchor: str = "start", size: int = 11, fill: str = MUTED,
          extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}" text-anchor="{anchor}" {extra}>'
            f'{escape(str(text))}</text>')


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (1, 2 or 5 times a power of ten apart)."""
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(1, count - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    start = math.ceil(lo / step - 1e-9) * step
    ticks, value = [], start
    while value <= hi + 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks


def short(text: str, limit: int = 22) -> str:
    text = str(text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


# Bars -------------------------------------------------------------------------------------------------
def histogram_svg(bins: list[tuple[str, int]], *, x_title: str, y_title: str, highlight_from: int | None = None,
                  width: int = 520, height: int = 220) -> str:
    """Vertical bars, one per (label, count); bars from index `highlight_from` on in the accent colour."""
    left, right, top, bottom = 44, 12, 14, 44
    span_w, span_h = width - left - right, height - top - bottom
    peak = max([count for _, count in bins] + [1])
    ticks = nice_ticks(0, peak, 4)
    y_max = max(ticks[-1], peak)
    slot = span_w / max(1, len(bins))
    body = []
    for tick in ticks:
        y = top + span_h - tick / y_max * span_h
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{LINE}"/>')
        body.append(svg_text(left - 6, y + 4, f"{tick:g}", anchor="end"))
    for i, (label, count) in enumerate(bins):
        h = count / y_max * span_h
        x = left + i * slot + slot * 0.12
        colour = ACCENT if highlight_from is not None and i >= highlight_from else PERSON
        body.append(f'<rect x="{x:.1f}" y="{top + span_h - h:.1f}" width="{slot * 0.76:.1f}" height="{h:.1f}" '
                    f'fill="{colour}"><title>{escape(f"{label}: {count}")}</title></rect>')
        if count:
            body.append(svg_text(x + slot * 0.38, top + span_h - h - 3, count, anchor="middle", size=10, fill=INK))
        body.append(svg_text(left + (i + 0.5) * slot, top + span_h + 14, label, anchor="middle", size=10))
    body.append(svg_text(left + span_w / 2, height - 8, x_title, anchor="middle"))
    body.append(svg_text(12, top + span_h / 2, y_title, anchor="middle",
                      extra=f'transform="rotate(-90 12 {top + span_h / 2:.1f})"'))
    return svg_document(width, height, f"{y_title} by {x_title}", body)
