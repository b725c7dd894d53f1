"""A study plan (`alignment.planning.study_plan`) as text (the command), table rows and an SVG chart
(the plan page): width of alpha's interval against the number of artworks, a line per N."""
from __future__ import annotations

from html import escape

PALETTE = ("#1b6ca8", "#d1495b", "#2a9d8f", "#e9a03b", "#6c4f9c", "#555555", "#8ab17d", "#b5651d")


def _fmt(value, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def plan_rows(section: dict, target: float) -> list[dict]:
    """One row per (N, M): what the page's table and the text show."""
    out = []
    for r in section["rows"]:
        ceiling = r.get("ceiling_percentile") or {}
        out.append({"n": r["n_judges"], "m": r["n_artworks"], "participants": r["n_participants"],
                    "width": _fmt(r["ci_width"]), "sd": _fmt(r["ci_width_sd"]),
                    "reached": r["ci_width"] is not None and r["ci_width"] <= target,
                    "ceiling": (f"{_fmt(ceiling['mean'], 0)} [{_fmt(ceiling['range95'][0], 0)}, "
                                f"{_fmt(ceiling['range95'][1], 0)}]") if ceiling else "–"})
    return out


def plan_text(plan: dict) -> str:
    target = plan["request"]["target_width"]
    lines = [f"Study {plan['study']}: target width of alpha's 95% interval {target}"
             f" ({plan['request']['replications']} simulated studies per cell)"]
    for key, s in plan["dimensions"].items():
        source = (f"pilot alpha {_fmt(s['alpha'])}" if s["source"] == "pilot" else f"stated alpha {_fmt(s['alpha'])}")
        model = f"; model {s['model']} knows {_fmt(s['model_knows'], 2)}" if s.get("model") else ""
        lines += ["", f"{key} ({s['kind']}, {s['level']}): {source}, {s['per_person']} artworks per person{model}",
                  f"{'N':>4} {'M':>5} {'people':>7} {'width':>7} {'sd':>7}  model percentile mean [95% range]"]
        for row in plan_rows(s, target):
            lines.append(f"{row['n']:>4} {row['m']:>5} {row['participants']:>7} {row['width']:>7} {row['sd']:>7}"
                         f"  {row['ceiling']}{'  *' if row['reached'] else ''}")
        per_n = ", ".join(f"N={n}: M={m if m is not None else '> grid'}"
                          for n, m in s["smallest_artworks_per_n"].items())
        lines.append(f"smallest M reaching {target}: {per_n}")
    rec = plan.get("recommendation")
    lines.append("")
    if rec and rec.get("reached"):
        lines.append(f"Smallest design for every dimension: N={rec['n_judges']} per artwork, M={rec['n_artworks']}"
                     f" artworks (widest interval {_fmt(rec['widest'])}). Cost: {rec['cost']}.")
    elif rec:
        lines.append(rec["note"])
    return "\n".join(lines) + "\n"


def plan_svg(section: dict, target: float, width: int = 420, height: int = 240) -> str:
    """Mean interval width (y) against M (x, evenly spaced), a line per N, the target dashed."""
    rows = [r for r in section["rows"] if r["ci_width"] is not None]
    ms = sorted({r["n_artworks"] for r in rows})
    ns = sorted({r["n_judges"] for r in rows})
    if not rows or len(ms) < 1:
        return ""
    left, right, top, bottom = 48, 70, 12, 34
    top_y = max(max(r["ci_width"] for r in rows), target) * 1.1

    def x(m: int) -> float:
        return left + (ms.index(m) / max(1, len(ms) - 1)) * (width - left - right)

    def y(v: float) -> float:
        return top + (1 - v / top_y) * (height - top - bottom)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
             f' role="img" aria-label="Width of alpha\'s 95% interval by number of artworks, one line per N">',
             f'<line x1="{left}" y1="{y(0)}" x2="{width - right}" y2="{y(0)}" stroke="#999"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{y(0)}" stroke="#999"/>',
             f'<line x1="{left}" y1="{y(target):.1f}" x2="{width - right}" y2="{y(target):.1f}" stroke="#333"'
             f' stroke-dasharray="4 3"/><text x="{width - right + 4}" y="{y(target) + 4:.1f}" font-size="11">target'
             f' {target:g}</text>']
    for m in ms:
        parts.append(f'<text x="{x(m):.1f}" y="{height - bottom + 14}" font-size="11" text-anchor="middle">{m}</text>')
    parts.append(f'<text x="{(left + width - right) / 2}" y="{height - 4}" font-size="11" text-anchor="middle">'
                 'artworks (M)</text>')
    for tick in (0, top_y / 2, top_y / 1.1):
        parts.append(f'<text x="{left - 4}" y="{y(tick) + 4:.1f}" font-size="11" text-anchor="end">{tick:.2f}</text>')
    for i, n in enumerate(ns):
        colour = PALETTE[i % len(PALETTE)]
        points = [(x(r["n_artworks"]), y(r["ci_width"])) for r in sorted(rows, key=lambda r: r["n_artworks"])
                  if r["n_judges"] == n]
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        last_x, last_y = points[-1]
        parts.append(f'<text x="{last_x + 4:.1f}" y="{last_y + 4:.1f}" font-size="11" fill="{colour}">'
                     f'{escape(f"N={n}")}</text>')
    parts.append("</svg>")
    return "".join(parts)
