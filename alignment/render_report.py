"""A report's content as CSV (one long table) or self-contained HTML (inline CSS, inline SVG).

Both read only the JSON content built by `alignment.reports`, so a stored report renders the same
whenever it is rendered.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import mark_safe

from .figures import dimension_figures, empty_figures_note

CSV_COLUMNS = ("dimension", "section", "model", "stratum", "statistic", "value", "ci_low", "ci_high")
SKIP_KEYS = {"n_boot", "ci_level", "ties_seed"}


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _walk(node, path: str = "") -> Iterator[tuple[str, float, float | None, float | None]]:
    """(statistic path, value, ci_low, ci_high) for every number under `node`; an estimate with an
    interval ({"value", "ci"}) is one row; lists (confusion matrices, per-item lists) are left out."""
    if not isinstance(node, dict):
        return
    if "value" in node and "ci" in node:
        low, high = (node["ci"] or [None, None])
        if _number(node["value"]):
            yield path, node["value"], low, high
        if _number(node.get("n")):
            yield f"{path}.n", node["n"], None, None
        return
    for key, value in node.items():
        if key in SKIP_KEYS:
            continue
        here = f"{path}.{key}" if path else key
        if _number(value):
            yield here, value, None, None
        elif isinstance(value, dict):
            yield from _walk(value, here)


def csv_rows(content: dict) -> Iterator[tuple]:
    """The long table: one row per figure, see CSV_COLUMNS."""
    for key, dim in content["dimensions"].items():
        for statistic, value, low, high in _walk(dim["humans"]):
            yield key, "humans", "", "", statistic, value, low, high
        for statistic, value, low, high in _walk(dim.get("experts") or {}):
            yield key, "experts", "", "", statistic, value, low, high
        for model, figures in dim["models"].items():
            for statistic, value, low, high in _walk(figures):
                yield key, "models", model, "", statistic, value, low, high
        shares = dim.get("shares") or {}
        for model, figures in (shares.get("models") or {}).items():
            for statistic, value, low, high in _walk(figures.get("spearman") or {}, "spearman"):
                yield key, "shares", model, "", statistic, value, low, high
            for field, values in (figures.get("strata") or {}).items():
                for group, stratum in values.items():
                    for statistic, value, low, high in _walk(stratum):
                        yield key, "shares", model, f"{field}={group}", statistic, value, low, high
        for field, values in dim["strata"].items():
            for group, stratum in values.items():
                where = f"{field}={group}"
                for statistic, value, low, high in _walk({k: v for k, v in stratum.items() if k != "models"}):
                    yield key, "strata", "", where, statistic, value, low, high
                for model, figures in (stratum.get("models") or {}).items():
                    for statistic, value, low, high in _walk(figures):
                        yield key, "strata", model, where, statistic, value, low, high


def report_csv(content: dict) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in csv_rows(content):
        writer.writerow(["" if cell is None else repr(cell) if isinstance(cell, float) else cell for cell in row])
    return buffer.getvalue()


# HTML ---------------------------------------------------------------------------------------------------
def fmt(value, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def fmt_stat(value) -> str:
    """A statistic (kappa, accuracy, rho, a change): always three decimals, also when stored as an int
    (a kappa of exactly 0 is stored as 0), so that every row of a table reads alike."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    return fmt(value)


# What a page shows for the report's keys: a reader sees these names, never the JSON's.
KIND_NAMES = {"single": "single choice", "multi": "multi-label", "binary": "yes / no", "rating": "rating",
              "pairwise": "pairwise comparison", "best_worst": "best–worst", "triplet": "odd one out"}
STAT_NAMES = {"accuracy": "accuracy", "cohen_kappa": "Cohen's kappa", "macro_f1": "macro-F1",
              "spearman": "Spearman's rho"}
METRIC_NAMES = {"kappa": "Cohen's kappa", "alpha": "Krippendorff's alpha", "mean over tags": "mean over tags"}


def kind_name(kind: str) -> str:
    return KIND_NAMES.get(kind, kind.replace("_", " "))


def fmt_ci(estimate: dict | None) -> str:
    if not estimate:
        return "–"
    low, high = estimate.get("ci") or (None, None)
    text = fmt_stat(estimate.get("value"))
    return text if low is None else f"{text} [{fmt_stat(low)}, {fmt_stat(high)}]"


def forest_svg(rows: list[tuple[str, dict]], width: int = 640) -> str:
    """A forest plot: one row per (name, {"value", "ci"}), a dot and its interval, on [-0.25, 1]."""
    row_h, left, right, top = 22, 190, 20, 24
    lo = min([-0.25] + [e["ci"][0] for _, e in rows if e and e.get("ci") and e["ci"][0] is not None])
    hi = 1.0
    span = width - left - right

    def x(v: float) -> float:
        return left + (v - lo) / (hi - lo) * span

    height = top + row_h * len(rows) + 10
    parts = [f'<svg class="chart" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="estimates with 95% intervals">']
    for tick in (0.0, 0.5, 1.0) + ((lo,) if lo < -0.25 else ()):
        parts.append(f'<line x1="{x(tick):.1f}" y1="{top - 6}" x2="{x(tick):.1f}" y2="{height - 6}" class="grid"/>'
                     f'<text x="{x(tick):.1f}" y="{top - 10}" class="tick">{tick:g}</text>')
    for i, (name, estimate) in enumerate(rows):
        y = top + row_h * i + row_h / 2
        parts.append(f'<text x="{left - 8}" y="{y + 4:.1f}" class="name">{escape(name)}</text>')
        if not estimate or estimate.get("value") is None:
            parts.append(f'<text x="{left}" y="{y + 4:.1f}" class="na">not defined</text>')
            continue
        low, high = estimate.get("ci") or (None, None)
        if low is not None:
            parts.append(f'<line x1="{x(low):.1f}" y1="{y:.1f}" x2="{x(high):.1f}" y2="{y:.1f}" class="ci"/>')
        parts.append(f'<circle cx="{x(estimate["value"]):.1f}" cy="{y:.1f}" r="4" class="dot"/>')
    parts.append("</svg>")
    return "".join(parts)


def _model_rows(dim: dict) -> list[dict]:
    rows = []
    for name, m in dim["models"].items():
        vs = m.get("vs_majority") or {}
        annot = m.get("as_annotator") or {}
        ceiling = m.get("human_ceiling") or {}
        rows.append({
            "name": name, "method": m.get("method"), "stand_in": bool(m.get("is_stand_in")),
            "n": fmt(m.get("n_artworks")), "accuracy": fmt_stat(vs.get("accuracy")),
            "macro_f1": fmt_stat(vs.get("macro_f1")), "kappa": fmt_stat(vs.get("cohen_kappa")),
            "alpha_without": fmt_ci(annot.get("without")) if "without" in annot else fmt(None),
            "alpha_with": fmt_ci(annot.get("with")) if "with" in annot else fmt(None),
            "ceiling": (f"{fmt_stat(ceiling.get('model'))} "
                        f"({METRIC_NAMES.get(ceiling.get('metric'), ceiling.get('metric'))}), percentile "
                        f"{fmt(ceiling.get('percentile'), 0)} of {ceiling.get('n_raters')}")
            if ceiling.get("n_raters") else "–",
            "spearman": fmt_ci((m.get("vs_human_mean") or {}).get("spearman")),
            "experts": fmt_stat((m.get("vs_experts") or {}).get("accuracy")),
            "auc": fmt_stat((m.get("signal_detection") or {}).get("auc")),
            "jsd": fmt_stat((m.get("divergence") or {}).get("mean")),
            "top": (m.get("divergence") or {}).get("top") or [],
        })
    return rows


def strata_rows(dim: dict) -> list[dict]:
    rows = []
    for field, values in dim["strata"].items():
        for group, s in values.items():
            models = "; ".join(f"{name}: " + ", ".join(f"{STAT_NAMES.get(k, k)} "
                                                       f"{fmt_ci(v) if isinstance(v, dict) else fmt_stat(v)}"
                                                       for k, v in _stratum_headline(fig).items())
                               for name, fig in (s.get("models") or {}).items())
            rows.append({"stratum": f"{field} = {group}", "n": fmt(s.get("n_artworks", s.get("n_participants"))),
                         "alpha": fmt_ci((s.get("humans") or {}).get("alpha")), "models": models,
                         "note": s.get("note") or ""})
    return rows


def stratum_model_figures(figures: dict) -> dict:
    """A model's figures in a stratum under the overall figures' names. Reports stored before 2026-12
    named them flat (accuracy, cohen_kappa, spearman, vs_experts_*); they render as they did."""
    if not figures or "vs_majority" in figures:
        return figures
    flat = {"accuracy", "cohen_kappa"} & figures.keys()
    experts = {k.removeprefix("vs_experts_"): v for k, v in figures.items() if k.startswith("vs_experts_")}
    return {"n_artworks": figures.get("n_artworks"),
            "vs_majority": {k: figures[k] for k in ("accuracy", "cohen_kappa") if k in flat} if flat else None,
            "vs_human_mean": {"spearman": figures["spearman"]} if "spearman" in figures else None,
            "vs_experts": experts or None}


def _stratum_headline(figures: dict) -> dict:
    """A model's figures in a stratum as the report's strata table lists them."""
    figures = stratum_model_figures(figures)
    out = {}
    vs = figures.get("vs_majority")
    if vs is not None:
        out |= {"accuracy": vs.get("accuracy"), "cohen_kappa": vs.get("cohen_kappa")}
    if figures.get("vs_human_mean") is not None:
        out["spearman"] = figures["vs_human_mean"].get("spearman")
    return out


def _shares(dim: dict) -> dict | None:
    shares = dim.get("shares")
    if not shares:
        return None
    rows = []
    for name, m in shares["models"].items():
        rows.append({"model": name, "stratum": "all", "spearman": fmt_ci(m["spearman"]),
                     "n": fmt(m["spearman"].get("n"))})
        for field, values in m["strata"].items():
            for group, s in values.items():
                rows.append({"model": name, "stratum": f"{field} = {group}", "spearman": fmt_ci(s.get("spearman")),
                             "n": fmt((s.get("spearman") or {}).get("n", s.get("n")))})
    return {"field": shares["field"], "label": shares["label"], "n": shares["n_artworks"], "note": shares["note"],
            "rows": rows}


def humans_rows(humans: dict) -> list[tuple[str, str]]:
    rows = [("Krippendorff's alpha (95% CI)", fmt_ci(humans.get("alpha"))),
            ("judgements / participants / artworks",
             f"{humans.get('n_judgements')} / {humans.get('n_participants')} / {humans.get('n_artworks')}")]
    fleiss = humans.get("fleiss_kappa")
    if isinstance(fleiss, dict):
        note = f" ({fleiss['note']})" if fleiss.get("note") else ""
        rows.append(("Fleiss' kappa", fmt_stat(fleiss.get("value")) + note))
    for label, key in (("percent agreement", "percent_agreement"), ("pairwise Cohen's kappa", "pairwise_cohen_kappa")):
        if key in humans:
            rows.append((label, fmt_stat(humans[key])))
    loo = humans.get("leave_one_out")
    if isinstance(loo, dict):
        metric = loo.get("metric", "mean over tags")
        rows.append((f"leave-one-out agreement, median ({METRIC_NAMES.get(metric, metric)})",
                     fmt_stat(loo.get("median"))))
    split = humans.get("split_half")
    if isinstance(split, dict):
        rows.append(("split-half reliability (Spearman–Brown)", fmt_stat(split.get("value"))))
    sdt = humans.get("signal_detection")
    if sdt:
        rows.append(("people: hit rate / false alarms / d′ / AUC",
                     " / ".join(fmt_stat(sdt[k]) for k in ("hit_rate", "false_alarm_rate", "d_prime", "auc"))))
    if humans.get("note"):
        rows.append(("note", humans["note"]))
    return rows


def report_html(content: dict, points: dict[str, dict] | None = None) -> str:
    """Self-contained HTML: inline CSS and SVG, no scripts, no external URLs. It draws the same charts
    as the alignment view (`figures.dimension_figures`); `points` ({dimension key: {"scatters",
    "shares"}}, from `dashboard.report_points`) adds the per-artwork scatters, which the stored content
    does not keep."""
    dims = content["dimensions"]
    forest = [(key, d["humans"]["alpha"]) for key, d in dims.items()]
    sections = [{
        "key": key, "kind": kind_name(d["kind"]), "level": d["level"], "humans": humans_rows(d["humans"]),
        "tags": forest_svg([(tag, h["alpha"]) for tag, h in d["humans"].get("tags", {}).items()])
        if d["humans"].get("tags") else "",
        "experts": d.get("experts"), "models": _model_rows(d), "strata": strata_rows(d), "shares": _shares(d),
        "notes": d.get("notes") or [], "empty": not d["n_artworks"],
        "figures": [f | {"svg": mark_safe(f["svg"])}  # render_svg escapes every text
                    for f in dimension_figures(d, (points or {}).get(key))],
        "no_figures": empty_figures_note(d),
    } for key, d in dims.items()]
    for section in sections:
        section["tags"] = mark_safe(section["tags"])
    return render_to_string("alignment/report.html", {
        "content": content, "forest": mark_safe(forest_svg(forest)), "sections": sections,
        "inputs": content["inputs"], "exclusions": content["exclusions"], "attention": content["attention_checks"],
    })
