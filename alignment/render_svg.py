"""Hand-written SVG charts of the alignment dashboard (renderers: report JSON and points in, SVG out):
no plotting library, no script, no network.

Each function returns one `<svg>` element as text with its colours inline, so a chart renders the
same inside a page, a self-contained HTML file or on its own. Every text is escaped. Values that are
None or not finite are left out of a chart (never drawn at 0). The drawing primitives (and the
progress page's histogram) are `annotations.svg`'s, the lowest app's, so both apps draw alike.
"""
from __future__ import annotations

import math

from django.utils.html import escape

from annotations.svg import (
    ACCENT,
    INK,
    LINE,
    MODEL,
    PERSON,
    STAND_IN,
    nice_ticks,
    short,
    svg_document,
    svg_number,
    svg_text,
)

__all__ = ["ceiling_svg", "heatmap_svg", "scatter_svg", "bar_svg", "nice_ticks"]

CHAR_W = 6.6  # px per character of 11 px system-ui, a generous mean: labels are budgeted, never clipped
LABEL_MAX = 40  # characters of a label drawn in full; a longer one is shortened with "…" (its cell's title keeps it)
SLANT = 0.7071  # cos 45°: column labels are drawn at 45°


# The human ceiling: the model as one dot among the people ---------------------------------------------------
def ceiling_svg(rows: list[dict], *, metric: str, width: int = 720) -> str:
    """A strip chart: per row (a dimension or a tag) each person's leave-one-out agreement as a grey
    dot and each model's agreement with the same leave-one-out consensuses as a coloured diamond.

    rows: [{"name", "people": [(participant, value)], "models": [(model key, value, is_stand_in)]}]
    """
    values = ([v for r in rows for _, v in r["people"] if svg_number(v)]
              + [v for r in rows for _, v, _ in r["models"] if svg_number(v)])
    lo = min([0.0] + values)
    lo = math.floor(lo * 5) / 5
    hi = 1.0
    left = max(110, 20 + 7.2 * max([len(short(r["name"], LABEL_MAX)) for r in rows] + [0]))  # 12 px names, whole
    right, top, row_h = 24, 40, 46
    height = top + row_h * len(rows) + 44
    span = width - left - right

    def x(v: float) -> float:
        return left + (v - lo) / (hi - lo) * span

    stand_ins = {stand_in for r in rows for _, _, stand_in in r["models"]}
    body = [svg_text(10, 16, "●", fill=PERSON, size=13), svg_text(24, 16, "a person (against the others)")]
    legend_x = 220
    if False in stand_ins:
        body += [svg_text(legend_x, 16, "◆", fill=MODEL, size=13),
                 svg_text(legend_x + 14, 16, "a model (against the same consensuses)")]
        legend_x += 250
    if True in stand_ins:
        body += [svg_text(legend_x, 16, "◆", fill=STAND_IN, size=13),
                 svg_text(legend_x + 14, 16, "stand-in model, random weights")]
    for tick in nice_ticks(lo, hi, 6):
        body.append(f'<line x1="{x(tick):.1f}" y1="{top - 8}" x2="{x(tick):.1f}" y2="{height - 36}" stroke="{LINE}"/>')
        body.append(svg_text(x(tick), height - 22, f"{tick:g}", anchor="middle"))
    body.append(svg_text(left + span / 2, height - 5, f"leave-one-out agreement ({metric})", anchor="middle"))
    for i, row in enumerate(rows):
        y = top + row_h * i + row_h / 2
        body.append(svg_text(left - 10, y + 4, short(row["name"], LABEL_MAX), anchor="end", size=12, fill=INK))
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{LINE}" '
                    f'stroke-dasharray="2 3"/>')
        for j, (person, value) in enumerate(row["people"]):
            if svg_number(value):
                jitter = ((j * 7) % 11 - 5) * 1.6
                body.append(f'<circle cx="{x(value):.1f}" cy="{y + jitter:.1f}" r="4" fill="{PERSON}" '
                            f'fill-opacity=".75"><title>{escape(f"{person}: {value:.3f}")}</title></circle>')
        for k, (model, value, stand_in) in enumerate(row["models"]):
            if not svg_number(value):
                continue
            cx, cy, colour = x(value), y - 12 + 24 * (k % 2), STAND_IN if stand_in else MODEL
            title = f"{model}: {value:.3f}" + (" (stand-in, random weights)" if stand_in else "")
            body.append(f'<path d="M{cx:.1f} {cy - 7:.1f} L{cx + 7:.1f} {cy:.1f} L{cx:.1f} {cy + 7:.1f} '
                        f'L{cx - 7:.1f} {cy:.1f} Z" fill="{colour}" stroke="#fff" stroke-width="1">'
                        f'<title>{escape(title)}</title></path>')
    return svg_document(width, height, f"Human ceiling ({metric}): each model among the people", body)


# Confusion matrix ---------------------------------------------------------------------------------------


def heatmap_svg(labels: list[str], matrix: list[list[int]], *, rows_title: str = "human majority",
                columns_title: str = "model") -> str:
    """Counts as a heatmap, shaded by share of the row (a row's recall), with a colour legend; labels
    unused on both sides are left out so that a 19-style matrix stays readable.

    Every label is drawn whole inside the SVG: column labels at 45° with room budgeted above the
    matrix and to its right, row labels right-aligned in a margin as wide as the longest."""
    used = [i for i in range(len(labels))
            if sum(matrix[i]) or sum(row[i] for row in matrix)]
    if not used:
        used = list(range(len(labels)))
    names = {i: short(labels[i], LABEL_MAX) for i in used}
    cell = 64 if len(used) <= 4 else 48 if len(used) <= 10 else 34
    longest = max(len(names[i]) for i in used)
    left = 24 + CHAR_W * longest
    rows_caption = f"rows: {rows_title}"
    columns_caption = f"columns: {short(columns_title, 60)}"
    top = 44 + CHAR_W * longest * SLANT
    grid_right = left + cell * len(used)
    # the last column's label runs up and right from its cell's centre
    label_right = max(left + c * cell + cell / 2 + 4 + CHAR_W * len(names[j]) * SLANT for c, j in enumerate(used))
    legend_w = 160
    width = max(grid_right, label_right, CHAR_W * max(len(columns_caption), len(rows_caption)) + 20,
                left + legend_w + 110) + 16
    legend_y = top + cell * len(used) + 18
    height = legend_y + 38
    body = [svg_text(10, 16, columns_caption, fill=INK), svg_text(10, 32, rows_caption, fill=INK)]
    for c, j in enumerate(used):
        cx = left + c * cell + cell / 2
        body.append(svg_text(cx + 4, top - 6, names[j], size=11,
                             extra=f'class="col-label" transform="rotate(-45 {cx + 4:.1f} {top - 6:.1f})"'))
    for r, i in enumerate(used):
        total = sum(matrix[i][j] for j in range(len(labels)))
        y = top + r * cell
        body.append(svg_text(left - 8, y + cell / 2 + 4, names[i], anchor="end", size=11, extra='class="row-label"'))
        for c, j in enumerate(used):
            count = matrix[i][j]
            share = count / total if total else 0.0
            colour = f"rgba(138,59,18,{0.06 + 0.94 * share:.3f})" if count else "#fbfaf8"
            edge = f' stroke="{INK}" stroke-width="1.2"' if i == j else f' stroke="{LINE}"'
            title = f"{labels[i]} → {labels[j]}: {count} ({share:.0%} of the row)"
            body.append(f'<rect x="{left + c * cell:.1f}" y="{y:.1f}" width="{cell}" height="{cell}" '
                        f'fill="{colour}"{edge}>'
                        f'<title>{escape(title)}</title></rect>')
            if count:
                body.append(svg_text(left + c * cell + cell / 2, y + cell / 2 + 4, count, anchor="middle", size=11,
                                     fill="#fff" if share > 0.55 else INK))
    # The colour legend: the shade of a cell against the share of its row it holds.
    steps = 5  # swatches, not a gradient: a gradient needs an id, and ids repeat when a page has several matrices
    for k in range(steps):
        share = k / (steps - 1)
        body.append(f'<rect class="legend" x="{left + k * legend_w / steps:.1f}" y="{legend_y:.1f}" '
                    f'width="{legend_w / steps:.1f}" height="10" fill="rgba(138,59,18,{0.06 + 0.94 * share:.3f})" '
                    f'stroke="{LINE}"/>')
    body.append(svg_text(left, legend_y + 24, "0%", size=10))
    body.append(svg_text(left + legend_w, legend_y + 24, "100%", anchor="end", size=10))
    body.append(svg_text(left + legend_w + 8, legend_y + 9, "share of the row", size=10))
    return svg_document(width, height, f"Confusion matrix: {rows_title} (rows) against {columns_title} (columns)", body)


# Scatter ------------------------------------------------------------------------------------------------
def scatter_svg(points: list[tuple[float, float, str]], *, x_title: str, y_title: str,
                x_range: tuple[float, float] | None = None, y_range: tuple[float, float] | None = None,
                caption: str = "", colour: str = MODEL, width: int = 420, height: int = 320) -> str:
    """One dot per (x, y, name); the name shows on hover."""
    points = [(x, y, name) for x, y, name in points if svg_number(x) and svg_number(y)]
    left, right, top, bottom = 52, 14, 26 if caption else 12, 44
    span_w, span_h = width - left - right, height - top - bottom

    def bounds(given, values):
        if given:
            return given
        if not values:
            return (0.0, 1.0)
        lo, hi = min(values), max(values)
        pad = (hi - lo) * 0.06 or 0.5
        return (lo - pad, hi + pad)

    x_lo, x_hi = bounds(x_range, [p[0] for p in points])
    y_lo, y_hi = bounds(y_range, [p[1] for p in points])

    def sx(v):
        return left + (v - x_lo) / (x_hi - x_lo) * span_w

    def sy(v):
        return top + span_h - (v - y_lo) / (y_hi - y_lo) * span_h

    body = [f'<rect x="{left}" y="{top}" width="{span_w}" height="{span_h}" fill="#fff" stroke="{LINE}"/>']
    if caption:
        body.append(svg_text(left, 16, caption, fill=INK))
    for tick in nice_ticks(x_lo, x_hi, 5):
        body.append(f'<line x1="{sx(tick):.1f}" y1="{top}" x2="{sx(tick):.1f}" y2="{top + span_h}" stroke="{LINE}"/>')
        body.append(svg_text(sx(tick), top + span_h + 14, f"{tick:g}", anchor="middle", size=10))
    for tick in nice_ticks(y_lo, y_hi, 5):
        body.append(f'<line x1="{left}" y1="{sy(tick):.1f}" x2="{left + span_w}" y2="{sy(tick):.1f}" stroke="{LINE}"/>')
        body.append(svg_text(left - 5, sy(tick) + 4, f"{tick:g}", anchor="end", size=10))
    for x, y, name in points:
        body.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3.6" fill="{colour}" fill-opacity=".7">'
                    f'<title>{escape(f"{name}: {x:.3g}, {y:.3g}")}</title></circle>')
    if not points:
        body.append(svg_text(left + span_w / 2, top + span_h / 2, "no artwork has both values", anchor="middle"))
    body.append(svg_text(left + span_w / 2, height - 8, x_title, anchor="middle"))
    body.append(svg_text(14, top + span_h / 2, y_title, anchor="middle",
                      extra=f'transform="rotate(-90 14 {top + span_h / 2:.1f})"'))
    return svg_document(width, height, f"{y_title} against {x_title}", body)


def bar_svg(fraction: float, *, width: int = 320, height: int = 14, label: str = "") -> str:
    """A progress bar (0..1) as SVG, for places without CSS."""
    fraction = min(max(fraction if svg_number(fraction) else 0.0, 0.0), 1.0)
    return svg_document(width, height, label or f"{fraction:.0%}", [
        f'<rect width="{width}" height="{height}" rx="3" fill="{LINE}"/>',
        f'<rect width="{width * fraction:.1f}" height="{height}" rx="3" fill="{ACCENT}"/>'])
