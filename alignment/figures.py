"""The charts of one dimension, in one list that both the alignment view and the self-contained HTML
report draw, so that the two always show the same figures: the human ceiling strip, a confusion
matrix per model (per tag and model for multi-label dimensions), the scatters of CLIP's score against
the human mean and against aggregated human shares.

Input: a dimension of a stored report's content (`Report.content["dimensions"][key]`) and, for the
scatters, the per-artwork points (`dashboard_points.scatters` / `share_scatters`, which read the
study's rows); output: [{"kind", "title", "caption", "model", "stand_in", "svg"}], the SVG as text.
"""
from __future__ import annotations

from typing import Any

from .render_svg import ceiling_svg, heatmap_svg, scatter_svg

STAND_IN_NOTE = "stand-in model, random weights"
KINDS = ("ceiling", "confusion", "scatter", "shares")  # the `kind` of every figure this module draws


def ceiling_rows(dim: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """The ceiling strip's rows: the dimension (or, multi-label, each tag) with each person's
    leave-one-out agreement and each model's agreement with the same consensuses."""
    humans, models = dim["humans"], dim["models"]
    if dim["kind"] == "multi":
        parts = [(tag, h, {k: (m.get("tags") or {}).get(tag) or {} for k, m in models.items()})
                 for tag, h in (humans.get("tags") or {}).items()]
    else:
        parts = [(dim["key"], humans, models)]
    rows, metric = [], ""
    for name, h, ms in parts:
        loo = h.get("leave_one_out") or {}
        metric = loo.get("metric") or metric
        rows.append({"name": name,
                     "people": [(p["participant"], p["value"]) for p in loo.get("participants") or []],
                     "models": [(k, (m.get("human_ceiling") or {}).get("model"), bool(models[k].get("is_stand_in")))
                                for k, m in ms.items()]})
    return rows, metric


SVG_NAMESPACE = ' xmlns="http://www.w3.org/2000/svg"'


def _figure(kind: str, title: str, caption: str, svg: str, model: str = "", stand_in: bool = False) -> dict[str, Any]:
    # Inline in HTML an <svg> needs no namespace; without it the self-contained report names no URL at all.
    return {"kind": kind, "title": title, "caption": caption, "svg": svg.replace(SVG_NAMESPACE, "", 1),
            "model": model, "stand_in": stand_in}


def ceiling_figures(dim: dict[str, Any]) -> list[dict[str, Any]]:
    rows, metric = ceiling_rows(dim)
    if not any(r["people"] for r in rows):
        return []
    name = {"kappa": "Cohen's kappa", "alpha": "Krippendorff's alpha"}.get(metric, metric or "agreement")
    return [_figure("ceiling", "Human ceiling: CLIP as one more annotator",
                    "Each grey dot is one person's agreement with the others (leave-one-out); each diamond is a"
                    " model's agreement with the same leave-one-out consensuses. A diamond among the dots agrees"
                    " with people as a typical person does.", ceiling_svg(rows, metric=name))]


def confusion_figures(dim: dict[str, Any]) -> list[dict[str, Any]]:
    """Per model, its confusion matrix against the human majority; for a multi-label dimension one 2×2
    matrix per tag (tag present or not)."""
    out = []
    for key, m in dim["models"].items():
        stand_in = bool(m.get("is_stand_in"))
        if dim["kind"] == "multi":
            parts = [(f"tag “{tag}”", (t.get("vs_majority") or {}).get("confusion"))
                     for tag, t in (m.get("tags") or {}).items()]
        else:
            parts = [("", (m.get("vs_majority") or {}).get("confusion"))]
        for part, confusion in parts:
            if not confusion:
                continue
            svg = heatmap_svg(confusion["labels"], confusion["matrix"], rows_title="people's majority",
                              columns_title=key + (f", {part}" if part else ""))
            out.append(_figure("confusion", f"Confusion matrix{': ' + part if part else ''}",
                               f"{key}{' · ' + part if part else ''} · rows: people's majority label, columns: the"
                               " model's label · shade: share of the row", svg, key, stand_in))
    return out


def scatter_figures(points: dict[str, list[dict[str, Any]]] | None) -> list[dict[str, Any]]:
    """The scatters (`dashboard_points.scatters`) and share scatters (`share_scatters`) of one dimension."""
    out = []
    for kind, items, what in (("scatter", (points or {}).get("scatters") or [], "the people's mean"),
                              ("shares", (points or {}).get("shares") or [], "aggregated human shares")):
        for s in items:
            n = len(s["points"])
            caption = f"{n} artwork{'' if n == 1 else 's'}" + (" (aggregated shares)" if kind == "shares" else "")
            svg = scatter_svg(s["points"], x_title=s["x_title"], y_title=s["y_title"], x_range=s["x_range"],
                              y_range=s["y_range"], caption=caption)
            out.append(_figure(kind, f"{s['model']} against {what}", f"{s['model']} against {what}, one dot per"
                               " artwork", svg, s["model"], bool(s["stand_in"])))
    return out


def dimension_figures(dim: dict[str, Any], points: dict[str, list[dict[str, Any]]] | None) -> list[dict[str, Any]]:
    """Every chart of one dimension, in the order both pages show them."""
    return ceiling_figures(dim) + confusion_figures(dim) + scatter_figures(points)


def empty_figures_note(dim: dict[str, Any]) -> str:
    """The sentence shown where a dimension has no chart."""
    if not dim["n_artworks"]:
        return "No judgements or predictions on this dimension yet: no charts."
    if not dim["models"]:
        return "No model has scored this dimension yet: start a CLIP run to compare it with the people."
    return "Too few judgements per artwork for a chart."
