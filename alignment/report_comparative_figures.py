"""The comparative sections as a page shows them (dashboard and HTML report): tables of text and three
inline SVG figures per dimension, from the stored report content only (no query).

- scores: each artwork's Bradley–Terry score with its 95% interval, highest first;
- people: each person's agreement with the others' majority on the same trials (grey dots), the
  noise ceiling (their mean, a line) and each model (a coloured dot): the model among the people;
- rsa: each model's representational similarity with the people (Spearman's rho, 95% interval).
Every text that reaches an SVG is escaped.
"""
from __future__ import annotations

from html import escape

from .render_report import fmt, fmt_ci

WIDTH = 640
COLOURS = ("#8a3b12", "#1f6f8b", "#6a4c93", "#2e7d32")
KIND_NAMES = {"pairwise": "pairwise comparison", "best_worst": "best–worst", "triplet": "odd one out"}


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value


def _interval_rows_svg(rows: list[tuple[str, float, float | None, float | None]], lo: float, hi: float,
                       label: str, reference: float | None = None) -> str:
    """One row per (label, estimate, low, high): a dot and its interval on a common axis [lo, hi]."""
    left, right, top, row_h = 210, 20, 24, 16
    span = WIDTH - left - right
    hi = hi if hi > lo else lo + 1

    def x(v: float) -> float:
        return left + (min(max(v, lo), hi) - lo) / (hi - lo) * span

    height = top + row_h * len(rows) + 12
    parts = [f'<svg class="chart" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" '
             f'aria-label="{escape(label)}">']
    for tick in (lo, (lo + hi) / 2, hi):
        parts.append(f'<line x1="{x(tick):.1f}" y1="{top - 6}" x2="{x(tick):.1f}" y2="{height - 8}" stroke="#e3e1dc"/>'
                     f'<text x="{x(tick):.1f}" y="{top - 10}" font-size="10" text-anchor="middle">{tick:.2f}</text>')
    if reference is not None and _finite(reference):
        parts.append(f'<line x1="{x(reference):.1f}" y1="{top - 6}" x2="{x(reference):.1f}" y2="{height - 8}" '
                     'stroke="#888" stroke-dasharray="3 3"/>')
    for k, (name, value, low, high) in enumerate(rows):
        y = top + k * row_h + row_h / 2
        shown = name if len(name) <= 32 else name[:31] + "…"
        parts.append(f'<text x="{left - 8}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{escape(shown)}</text>')
        if low is not None and high is not None and _finite(low) and _finite(high):
            parts.append(f'<line x1="{x(low):.1f}" y1="{y:.1f}" x2="{x(high):.1f}" y2="{y:.1f}" stroke="#8a3b12"/>')
        if _finite(value):
            parts.append(f'<circle cx="{x(value):.1f}" cy="{y:.1f}" r="3.5" fill="#8a3b12"/>')
    parts.append("</svg>")
    return "".join(parts)


def scores_svg(scores: list[dict]) -> str:
    ordered = sorted(scores, key=lambda s: -s["theta"])
    values = [v for s in ordered for v in (s["theta"], *s["ci"]) if _finite(v)]
    if not values:
        return ""
    return _interval_rows_svg([(s["artwork"], s["theta"], *s["ci"]) for s in ordered], min(values), max(values),
                              "Bradley–Terry scores with 95% intervals")


def people_svg(people: list[float], ceiling: float | None, models: dict[str, float]) -> str:
    """The people's agreements as dots on one line, the ceiling as a dashed line, each model a coloured dot."""
    left, right, height = 20, 20, 70 + 14 * len(models)
    span = WIDTH - left - right

    def x(v: float) -> float:
        return left + min(max(v, 0.0), 1.0) * span

    parts = [f'<svg class="chart" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" '
             'aria-label="each person&#x27;s agreement with the others&#x27; majority, and the models&#x27;">']
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<line x1="{x(tick):.1f}" y1="14" x2="{x(tick):.1f}" y2="50" stroke="#e3e1dc"/>'
                     f'<text x="{x(tick):.1f}" y="62" font-size="10" text-anchor="middle">{tick:g}</text>')
    for value in people:
        if _finite(value):
            parts.append(f'<circle cx="{x(value):.1f}" cy="32" r="3" fill="#999" fill-opacity=".6"/>')
    if ceiling is not None and _finite(ceiling):
        parts.append(f'<line x1="{x(ceiling):.1f}" y1="10" x2="{x(ceiling):.1f}" y2="54" stroke="#333" '
                     'stroke-dasharray="4 3"/>')
    for k, (name, value) in enumerate(models.items()):
        colour = COLOURS[k % len(COLOURS)]
        if _finite(value):
            parts.append(f'<circle cx="{x(value):.1f}" cy="32" r="6" fill="{colour}" class="model-dot"/>')
        parts.append(f'<circle cx="{left + 4}" cy="{76 + 14 * k}" r="4" fill="{colour}"/><text x="{left + 14}" '
                     f'y="{80 + 14 * k}" font-size="11">{escape(name)} ({fmt(value)})</text>')
    parts.append("</svg>")
    return "".join(parts)


def rsa_svg(models: dict[str, dict]) -> str:
    rows = [(name, m["rsa"]["value"], *m["rsa"]["ci"]) for name, m in models.items() if m.get("rsa")]
    if not rows:
        return ""
    return _interval_rows_svg(rows, -1.0, 1.0, "representational similarity (Spearman's rho) with 95% intervals",
                              reference=0.0)


def comparative_view(content: dict) -> list[dict]:
    """One entry per comparative dimension of a stored report: its rows of text and its SVG figures."""
    sections = []
    for key, d in (content.get("comparative") or {}).items():
        humans = d["humans"]
        rows = [("answers / trials / people / artworks",
                 f"{d['n_answers']} / {d['n_trials']} / {d['n_participants']} / {d['n_artworks']}"),
                ("noise ceiling (agreement with the others' majority)", fmt(humans["noise_ceiling"]["value"])),
                ("consistency on repeated trials",
                 f"{fmt(humans['consistency']['mean'])} ({humans['consistency']['n_repeats']} repeats)")]
        if "split_half" in humans:
            rows.append(("split-half reliability of the scores", fmt(humans["split_half"]["value"])))
        if "similarity" in humans:
            rows.append(("artwork pairs seen together", f"{humans['similarity']['pairs_seen']} of "
                                                        f"{humans['similarity']['pairs']}"))
        models = [{"name": name, "agreement": fmt(m["trial_agreement"]["value"]),
                   "percentile": fmt(m["trial_agreement"]["percentile"]),
                   "spearman": fmt_ci(m.get("spearman")), "rsa": fmt_ci(m.get("rsa"))}
                  for name, m in d["models"].items()]
        sections.append({
            "key": key, "kind": KIND_NAMES.get(d["kind"], d["kind"]), "question": d["question"],
            "aspect": d.get("aspect", ""), "rows": rows, "models": models,
            "scores_svg": scores_svg(humans.get("scores", [])),
            "people_svg": people_svg(humans["noise_ceiling"]["people"], humans["noise_ceiling"]["value"],
                                     {name: m["trial_agreement"]["value"] for name, m in d["models"].items()}),
            "rsa_svg": rsa_svg(d["models"]),
        })
    return sections
