"""Dashboard selectors, the last step of alignment's pipeline: a stored report (and, for the points,
the study's rows coded into arrays) turned into what the page shows, figures first as SVG charts,
numbers beside them, optionally for one stratum.

The figures come from the stored report (`Report.content`); a page reads the study's rows once
(`loader.study_rows`) for what the report does not keep: whether the data changed since, and the
per-artwork points of the scatters and a stratum's disagreement list (`dashboard_points`).
"""
from __future__ import annotations

from django.utils.safestring import mark_safe

from annotations.models import Study

from .coding import dimension_arrays_as_reported
from .dashboard_points import disagreements, scatters, share_scatters
from .figures import dimension_figures, empty_figures_note
from .loader import artworks_by_external_id, study_dimension, study_rows
from .models import Report
from .render_report import (
    fmt,
    fmt_ci,
    fmt_stat,
    forest_svg,
    humans_rows,
    kind_name,
    report_html,
    strata_rows,
    stratum_model_figures,
)
from .rows import StudyRows


def dashboard_page(study: Study, content: dict, key: str, stratum: tuple[str, str] | None) -> dict:
    """The dashboard's context for a stored report's content, one dimension `key` and an optional stratum; the
    study's rows are read once, for the staleness note and the dimension's points."""
    rows = study_rows(study)
    return {"strata": strata_options(content), "stale": report_staleness(rows, content),
            "overview": overview(content, stratum), "detail": dimension_detail(study, rows, content, key, stratum)}


def dimension_points(study: Study, report: Report, key: str, stratum: tuple[str, str] | None) -> dict | None:
    """Per artwork, for the report's options: the scatters, the share scatters and the largest
    disagreements of one dimension (None: no such dimension)."""
    dim = study_dimension(study, key)
    if dim is None:
        return None
    content = report.content
    arrays = dimension_arrays_as_reported(dim, study_rows(study), content["options"])
    models = content["dimensions"].get(key, {}).get("models", {})
    return {"report": report.pk, "dimension": key, "stratum": "=".join(stratum) if stratum else None,
            "scatters": scatters(arrays, stratum, models), "shares": share_scatters(arrays, stratum, models),
            "disagreements": disagreements(arrays, stratum)}


def report_points(study: Study, content: dict) -> dict[str, dict]:
    """{dimension key: {"scatters", "shares"}} over all artworks, for the HTML report's scatters (the
    same points as the alignment view's): the study's rows are read once."""
    rows = study_rows(study)
    out = {}
    for key, dim in content["dimensions"].items():
        study_dim = study_dimension(study, key) if dim["n_artworks"] else None
        if study_dim is None:
            continue
        arrays = dimension_arrays_as_reported(study_dim, rows, content["options"])
        out[key] = {"scatters": scatters(arrays, None, dim["models"]),
                    "shares": share_scatters(arrays, None, dim["models"])}
    return out


def report_html_of(study: Study, content: dict) -> str:
    """The self-contained HTML report of a stored report's content, with the same charts as the
    alignment view (its scatters' points read from the study)."""
    return report_html(content, report_points(study, content))


def report_staleness(rows: StudyRows, content: dict) -> list[str]:
    """What changed since the report was computed (counts only: enough to say 'recompute')."""
    notes = []
    judgements, predictions = len(rows.judgements), len(rows.predictions)
    then = content["inputs"]
    if judgements != then["judgements"]["count"]:
        notes.append(f"{judgements} judgements are stored now, {then['judgements']['count']} when it was computed")
    if predictions != then["predictions"]["count"]:
        notes.append(f"{predictions} predictions are stored now, {then['predictions']['count']} when it was computed")
    return notes


def strata_options(content: dict) -> list[dict]:
    """[{"field", "values": [...]}]: strata with figures in at least one dimension."""
    found: dict[str, set] = {}
    for dim in content["dimensions"].values():
        for field, values in dim["strata"].items():
            for value, stratum in values.items():
                if "models" in stratum or "humans" in stratum:
                    found.setdefault(field, set()).add(value)
    return [{"field": field, "values": sorted(values)} for field, values in found.items()]


def stratum_parse(raw: str | None) -> tuple[str, str] | None:
    if not raw or "=" not in raw:
        return None
    field, value = raw.split("=", 1)
    return field, value


def _stratum_of(dim: dict, stratum: tuple[str, str] | None) -> dict | None:
    if stratum is None:
        return None
    return (dim["strata"].get(stratum[0]) or {}).get(stratum[1]) or {"note": "not in this stratum"}


def _model_summary(key: str, m: dict, in_stratum: dict | None) -> dict:
    """A model's headline figures, overall or in a stratum (same names; a stratum has no ceiling and no
    with/without change: "–")."""
    figures = stratum_model_figures((in_stratum.get("models") or {}).get(key) or {}) if in_stratum is not None else m
    vs = figures.get("vs_majority") or {}
    ceiling = figures.get("human_ceiling") or {}
    return {
        "key": key, "stand_in": bool(m.get("is_stand_in")), "n": fmt(figures.get("n_artworks")),
        "accuracy": fmt_stat(vs.get("accuracy")), "kappa": fmt_stat(vs.get("cohen_kappa")),
        "ceiling": (f"{fmt_stat(ceiling.get('model'))} · percentile {fmt(ceiling.get('percentile'), 0)}"
                    f"{' of ' + str(ceiling['n_raters']) + ' people' if ceiling.get('n_raters') else ''}")
        if ceiling.get("model") is not None else "–",
        "spearman": fmt_ci((figures.get("vs_human_mean") or {}).get("spearman")),
        "change": fmt_stat((figures.get("as_annotator") or {}).get("change")),
    }


def overview(content: dict, stratum: tuple[str, str] | None) -> dict:
    """Every dimension's alpha (forest plot) and each model's headline figures."""
    forest, rows = [], []
    for key, dim in content["dimensions"].items():
        part = _stratum_of(dim, stratum)
        alpha = ((part or {}).get("humans") or {}).get("alpha") if stratum else dim["humans"]["alpha"]
        forest.append((key, alpha))
        rows.append({"key": key, "kind": kind_name(dim["kind"]), "level": dim["level"], "alpha": fmt_ci(alpha),
                     "note": (part or {}).get("note", "") if stratum else "",
                     "models": [_model_summary(k, m, part) for k, m in dim["models"].items()]})
    return {"forest": mark_safe(forest_svg(forest, width=470)), "rows": rows}


def _thumbnail_url(artwork) -> str:
    """The card's image: the thumbnail, else (artworks stored before derivatives) the original."""
    if artwork is None or not artwork.image:
        return ""
    return (artwork.thumbnail or artwork.image).url


def _top_items(study: Study, tops: dict[str, list[dict]], dim: dict) -> list[dict]:
    ids = {item["artwork"] for top in tops.values() for item in top}
    images = artworks_by_external_id(study, ids)
    out = []
    for key, top in tops.items():
        items = []
        for item in top:
            model_label = max(item["model"], key=lambda label: item["model"][label] or 0)
            human_label = max(item["humans"], key=lambda label: item["humans"][label] or 0)
            artwork = images.get(item["artwork"])
            items.append({"artwork": item["artwork"], "value": float(item["value"]), "n_votes": item["n_votes"],
                          "model_label": model_label, "model_p": float(item["model"][model_label]),
                          "human_label": human_label, "human_share": float(item["humans"][human_label]),
                          "image": _thumbnail_url(artwork),
                          "title": artwork.title if artwork is not None else ""})
        out.append({"model": key, "stand_in": bool((dim["models"].get(key) or {}).get("is_stand_in")),
                    "items": items})
    return out


def dimension_detail(study: Study, rows: StudyRows, content: dict, key: str,
                     stratum: tuple[str, str] | None) -> dict | None:
    """One dimension: people's figures, the ceiling strip, confusion heatmaps, scatters and the largest
    disagreements (for a stratum: its scatters and disagreements; the rest stays overall)."""
    dim = content["dimensions"].get(key)
    if dim is None:
        return None
    study_dim = study_dimension(study, key) if dim["n_artworks"] else None
    arrays = dimension_arrays_as_reported(study_dim, rows, content["options"]) if study_dim is not None else None
    if arrays is not None:
        points = {"scatters": scatters(arrays, stratum, dim["models"]),
                  "shares": share_scatters(arrays, stratum, dim["models"])}
        tops = disagreements(arrays, stratum) if stratum else {
            k: (m.get("divergence") or {}).get("top") or [] for k, m in dim["models"].items()}
    else:
        points, tops = None, {}
    figures: dict[str, list[dict]] = {"ceiling": [], "confusion": [], "scatter": []}
    for figure in dimension_figures(dim, points):
        figures["scatter" if figure["kind"] == "shares" else figure["kind"]].append(
            figure | {"svg": mark_safe(figure["svg"])})  # render_svg escapes every text
    part = _stratum_of(dim, stratum)
    stratum_rows = []
    if part is not None:
        stratum_rows = [("Krippendorff's alpha (95% CI)", fmt_ci((part.get("humans") or {}).get("alpha"))),
                        ("artworks / judgements / participants",
                         " / ".join(fmt(part.get(k)) for k in ("n_artworks", "n_judgements", "n_participants")))]
        if part.get("note"):
            stratum_rows.append(("note", part["note"]))
    return {
        "key": key, "kind": kind_name(dim["kind"]), "level": dim["level"], "labels": dim["labels"],
        "notes": dim["notes"],
        "humans": humans_rows(dim["humans"]), "stratum": part, "stratum_rows": stratum_rows,
        "figures": figures, "no_figures": "" if any(figures.values()) else empty_figures_note(dim),
        "disagreements": _top_items(study, {k: v for k, v in tops.items() if v}, dim),
        "strata": strata_rows(dim), "experts": dim.get("experts"),
    }
