"""Issue 16's views of a stored report, as SVG (no script, no network, every text escaped): the
embedding map (PCA of a model's embeddings coloured by a field), the reliability diagram of each
model's calibration, and the prompt-sensitivity small multiple. `model_views(content, key)` gathers
them for the dashboard (one dimension) and the HTML report (key None: every dimension).
"""
from __future__ import annotations

import math

from django.utils.html import escape

from annotations.svg import INK, LINE, MODEL, PERSON, nice_ticks, short, svg_document, svg_number, svg_text

PALETTE = ["#1f6fb2", "#c0392b", "#2e8b57", "#8e44ad", "#d68910", "#17a2b8", "#7f8c8d", "#e84393", "#6d4c41",
           "#00897b"]
OTHER = "#c8c8cc"
MAP_FIELDS = ("origin", "style", "period", "generator")


def map_svg(m: dict, field: str, *, title: str, width: int = 360, height: int = 320) -> str:
    """One dot per artwork at its first two principal components, coloured by `field` (the ten most
    frequent values get colours, the rest grey); the axes say the share of variance they explain."""
    xs, ys, names = m["x"], m["y"], m["artworks"]
    values = m["fields"].get(field, [""] * len(xs))
    counts: dict[str, int] = {}
    for v in values:
        counts[v or "–"] = counts.get(v or "–", 0) + 1
    top = [v for v, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))][:len(PALETTE)]
    colour = {v: PALETTE[i] for i, v in enumerate(top)}
    left, right, top_px, bottom = 34, 12, 26, 34 + 14 * ((len(top) + 2) // 3)
    span_w, span_h = width - left - right, height - top_px - bottom
    finite = [(x, y) for x, y in zip(xs, ys) if svg_number(x) and svg_number(y)]
    lo_x, hi_x = (min(p[0] for p in finite), max(p[0] for p in finite)) if finite else (0.0, 1.0)
    lo_y, hi_y = (min(p[1] for p in finite), max(p[1] for p in finite)) if finite else (0.0, 1.0)
    pad_x, pad_y = (hi_x - lo_x) * 0.05 or 0.5, (hi_y - lo_y) * 0.05 or 0.5
    lo_x, hi_x, lo_y, hi_y = lo_x - pad_x, hi_x + pad_x, lo_y - pad_y, hi_y + pad_y

    def sx(v: float) -> float:
        return left + (v - lo_x) / (hi_x - lo_x) * span_w

    def sy(v: float) -> float:
        return top_px + span_h - (v - lo_y) / (hi_y - lo_y) * span_h

    ev = m.get("explained_variance") or [0, 0]
    body = [f'<rect x="{left}" y="{top_px}" width="{span_w}" height="{span_h}" fill="#fff" stroke="{LINE}"/>',
            svg_text(left, 16, title, fill=INK)]
    for x, y, name, v in zip(xs, ys, names, values):
        if svg_number(x) and svg_number(y):
            shown = v or "–"
            body.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.4" fill="{colour.get(shown, OTHER)}"'
                        f' fill-opacity=".75"><title>{escape(f"{name}: {shown}")}</title></circle>')
    body.append(svg_text(left + span_w / 2, top_px + span_h + 14, f"PC1 ({100 * ev[0]:.1f}% of variance)",
                         anchor="middle", size=10))
    body.append(svg_text(12, top_px + span_h / 2, f"PC2 ({100 * ev[1]:.1f}%)", anchor="middle", size=10,
                         extra=f'transform="rotate(-90 12 {top_px + span_h / 2:.1f})"'))
    for i, v in enumerate(top):
        lx, ly = left + (i % 3) * (span_w / 3), top_px + span_h + 30 + 14 * (i // 3)
        body.append(f'<circle cx="{lx + 4:.1f}" cy="{ly - 4:.1f}" r="4" fill="{colour[v]}"/>')
        body.append(svg_text(lx + 11, ly, f"{short(v, 14)} ({counts[v]})", size=10))
    return svg_document(width, height, f"{title}: embedding map coloured by {field}", body)


def reliability_svg(cal: dict, *, title: str, width: int = 300, height: int = 280) -> str:
    """Reliability diagram: per equal-mass bin, the mean confidence (x) against the share of people
    choosing the model's label (dots) and whether it is the majority's (rings); the diagonal is perfect."""
    left, right, top, bottom = 44, 12, 26, 40
    span_w, span_h = width - left - right, height - top - bottom
    # the x axis starts at the lowest confidence's tenth (a K-label model is never below 1/K), at most 0.5
    confidences = [b["confidence"] for b in cal.get("reliability", []) if svg_number(b["confidence"])]
    lo = min(0.5, math.floor(min(confidences, default=0.0) * 10) / 10)

    def sx(v: float) -> float:
        return left + (v - lo) / (1 - lo) * span_w

    def sy(v: float) -> float:
        return top + span_h - v * span_h

    body = [f'<rect x="{left}" y="{top}" width="{span_w}" height="{span_h}" fill="#fff" stroke="{LINE}"/>',
            svg_text(left, 16, title, fill=INK),
            f'<line x1="{sx(lo):.1f}" y1="{sy(lo):.1f}" x2="{sx(1):.1f}" y2="{sy(1):.1f}" stroke="{PERSON}"'
            ' stroke-dasharray="4 3"/>']
    for tick in nice_ticks(0, 1, 5):
        body.append(svg_text(left - 5, sy(tick) + 4, f"{tick:g}", anchor="end", size=10))
    for tick in nice_ticks(lo, 1, 4):
        body.append(svg_text(sx(tick), top + span_h + 14, f"{tick:g}", anchor="middle", size=10))
    for b in cal.get("reliability", []):
        c, a, m, n, label = b["confidence"], b["accuracy_votes"], b["accuracy_majority"], b["n"], b["bin"]
        if svg_number(c) and svg_number(a):
            body.append(f'<circle cx="{sx(c):.1f}" cy="{sy(a):.1f}" r="4" fill="{MODEL}">'
                        f'<title>{escape(f"bin {label}: n {n}, confidence {c:.3f}, people agreeing {a:.3f}")}'
                        '</title></circle>')
        if svg_number(c) and svg_number(m):
            body.append(f'<circle cx="{sx(c):.1f}" cy="{sy(m):.1f}" r="4" fill="none" stroke="{INK}">'
                        f'<title>{escape(f"bin {label}: majority agrees {m:.3f}")}</title></circle>')
    body.append(svg_text(left + span_w / 2, height - 8, "model's confidence in its label", anchor="middle", size=10))
    body.append(svg_text(12, top + span_h / 2, "agreement", anchor="middle", size=10,
                         extra=f'transform="rotate(-90 12 {top + span_h / 2:.1f})"'))
    return svg_document(width, height, f"{title}: reliability diagram", body)


def prompt_svg(figures: dict, *, title: str, width: int = 300) -> str:
    """One row per prompt template (and the ensemble): its figure as a dot on a shared axis."""
    rows = [(name, f.get("value")) for name, f in figures.items()]
    left, right, top, row_h = 150, 16, 26, 18
    height = top + row_h * len(rows) + 30
    values = [v for _, v in rows if svg_number(v)]
    lo, hi = (min(values + [0.0]), max(values + [1.0])) if values else (0.0, 1.0)
    span_w = width - left - right

    def sx(v: float) -> float:
        return left + (v - lo) / ((hi - lo) or 1) * span_w

    body = [svg_text(4, 16, title, fill=INK)]
    for i, (name, v) in enumerate(rows):
        y = top + row_h * i + 12
        body.append(f'<line x1="{left}" y1="{y - 4}" x2="{left + span_w}" y2="{y - 4}" stroke="{LINE}"/>')
        body.append(svg_text(left - 6, y, short(name, 24), anchor="end", size=10))
        if svg_number(v):
            fill = INK if name == "ensemble" else MODEL
            body.append(f'<circle cx="{sx(v):.1f}" cy="{y - 4}" r="4" fill="{fill}">'
                        f'<title>{escape(f"{name}: {v:.3f}")}</title></circle>')
    for tick in nice_ticks(lo, hi, 4):
        body.append(svg_text(sx(tick), top + row_h * len(rows) + 16, f"{tick:g}", anchor="middle", size=10))
    return svg_document(width, height, f"{title}: prompt sensitivity", body)


def model_views(content: dict | None, key: str | None, colour: str | None = None) -> dict:
    """{"maps": [{"model", "field", "svg", "explained"}], "dimensions": [{"key", "reliability": [...],
    "calibration": [...rows], "prompts": [...]}]} from a stored report; empty lists where it holds none."""
    if not content:
        return {"maps": [], "dimensions": [], "colours": []}
    maps, colours = [], []
    for model, m in (content.get("embedding_maps") or {}).items():
        fields = [f for f in (*MAP_FIELDS, *(f"{p}:{key}" for p in ("majority", "model") if key)) if f in m["fields"]]
        colours += [f for f in m["fields"] if f not in colours]
        if key is None:  # the HTML report's maps: by the artworks' own fields
            fields = [f for f in MAP_FIELDS if f in m["fields"]][:2]
        elif colour:  # the researcher's choice: that field alone (any the report holds)
            fields = [colour] if colour in m["fields"] else []
        for field in fields:
            maps.append({"model": model, "field": field, "explained": m["explained_variance"],
                         "svg": map_svg(m, field, title=f"{short(model, 28)} · {field}")})
    dims = []
    for k, d in content.get("dimensions", {}).items():
        if key is not None and k != key:
            continue
        cal = (d.get("calibration") or {}).get("models", {})
        prompts = (d.get("prompt_sensitivity") or {}).get("models", {})
        if not cal and not prompts:
            continue
        dims.append({
            "key": k, "bins": (d.get("calibration") or {}).get("bins", ""),
            "reliability": [{"model": name, "svg": reliability_svg(c, title=short(name, 36)),
                             "votes": c.get("vs_votes", {}), "majority": c.get("vs_majority", {}), "n": c.get("n"),
                             "entropy": c.get("votes_entropy")} for name, c in cal.items() if c.get("n")],
            "prompts": [{"model": name, "figure": figure, "spread": p.get("spread", {}).get(figure),
                         "svg": prompt_svg({t: f.get(figure) or {} for t, f in p["templates"].items()},
                                           title=f"{short(name, 24)} · {figure}")}
                        for name, p in prompts.items() for figure in p.get("figures", [])],
        })
    return {"maps": maps, "dimensions": dims, "colours": colours}
