"""The alignment dashboard: the latest stored report as charts, by stratum, with the largest disagreements."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from alignment.figures import KINDS
from alignment.models import Report
from alignment.reports import ReportOptions
from annotations.models import Study
from tests.conftest import perception_study
from tests.researcher_cast import STAND_IN, reported_study_build, viewer_of

FAST = ReportOptions(n_boot=100, min_stratum_items=4)


@pytest.fixture(scope="module")
def reported_media(module_db, tmp_path_factory) -> Path:
    """The study with its owner, judged, predicted and reported: built once for the module (module_db),
    each test's writes rolled back."""
    return reported_study_build(tmp_path_factory.mktemp("dashboard"), FAST)


@pytest.fixture
def reported(reported_media, db, settings):
    settings.MEDIA_ROOT = reported_media
    return Study.objects.get(slug="perception")


@pytest.fixture
def owner(reported):
    return reported.owner


@pytest.fixture
def study(reported):
    """Another study, with nothing judged and no report."""
    return perception_study("unreported")


def test_the_dashboard_draws_alpha_ceiling_confusion_scatter_and_disagreements(client, owner, reported):
    client.force_login(owner)
    response = client.get(reverse("alignment:dashboard", args=[reported.slug]) + "?dimension=origin")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("<svg") >= 4
    assert 'id="ceiling-chart"' in page and 'id="confusions"' in page and 'id="scatters"' in page
    assert "stand-in model, random weights" in page
    assert 'id="disagreements"' in page and "/media/artworks/" in page


def test_a_stratum_filters_the_figures_scatters_and_disagreements(client, owner, reported):
    client.force_login(owner)
    url = reverse("alignment:dashboard", args=[reported.slug])
    page = client.get(url + "?dimension=origin&stratum=origin=ai")
    detail = page.context["detail"]
    assert page.context["stratum"] == ("origin", "ai")
    assert detail["stratum_rows"][1][1].startswith("6 / ")
    assert [len(s["svg"].split("<circle")) - 1 for s in detail["figures"]["scatter"] if s["kind"] == "scatter"] == [6]
    ai = {f"art-{i:03d}" for i in range(1, 12, 2)}
    assert {item["artwork"] for group in detail["disagreements"] for item in group["items"]} <= ai
    rows = {row["key"]: row for row in page.context["overview"]["rows"]}
    stratum_alpha = reported.alignment_reports.get().content["dimensions"]["origin"]["strata"]["origin"]["ai"]
    assert rows["origin"]["alpha"].startswith(f"{stratum_alpha['humans']['alpha']['value']:.3f}")


def test_without_a_report_the_owner_is_offered_the_compute_form_and_the_viewer_is_not(client, study, owner, outsider):
    study.owner = owner
    study.save()
    viewer_of(study, outsider)
    client.force_login(owner)
    page = client.get(reverse("alignment:dashboard", args=[study.slug])).content.decode()
    assert "No report yet" in page and 'id="report-form"' in page
    response = client.post(reverse("alignment:report_compute", args=[study.slug]), {"seed": 0, "n_boot": 10,
                           "exclude_fast_ms": 500, "min_stratum_items": 10}, follow=True)
    assert "has no judgements" in response.content.decode() and not study.alignment_reports.exists()
    client.force_login(outsider)
    assert 'id="report-form"' not in client.get(reverse("alignment:dashboard", args=[study.slug])).content.decode()
    assert client.post(reverse("alignment:report_compute", args=[study.slug]), {"seed": 0}).status_code == 403


def test_the_compute_button_stores_a_report_and_the_page_shows_the_latest(client, owner, reported, tmp_path):
    client.force_login(owner)
    response = client.post(reverse("alignment:report_compute", args=[reported.slug]),
                           {"seed": 3, "n_boot": 20, "exclude_fast_ms": 0, "min_stratum_items": 4})
    assert response.status_code == 302 and Report.objects.count() == 2
    page = client.get(reverse("alignment:dashboard", args=[reported.slug]))
    assert page.context["report"] == Report.objects.order_by("-id").first()
    assert page.context["content"]["options"]["seed"] == 3 and page.context["stale"] == []


def test_a_report_older_than_the_data_says_so(client, owner, reported):
    from annotations.models import Judgement

    Judgement.objects.filter(participant__external_id="speedy").delete()
    client.force_login(owner)
    stale = client.get(reverse("alignment:dashboard", args=[reported.slug])).context["stale"]
    assert stale and "judgements are stored now" in stale[0]


def test_chart_text_is_escaped_and_undefined_values_are_left_out():
    from alignment import render_svg as charts

    svg = charts.scatter_svg([(0.1, 0.2, "<script>"), (None, 0.3, "x"), (float("nan"), 1, "y")],
                             x_title="a & b", y_title="c")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and svg.count("<circle") == 1
    ceiling = charts.ceiling_svg([{"name": "style", "people": [("p", 0.5), ("q", None)],
                                   "models": [(STAND_IN, 0.2, True)]}], metric="kappa")
    assert ceiling.count("<circle") == 1 and ceiling.count("<path") == 1 and "random weights" in ceiling
    heat = charts.heatmap_svg(["a", "b", "unused"], [[2, 1, 0], [0, 3, 0], [0, 0, 0]])
    assert "unused" not in heat and heat.count("</rect>") == 4  # the cells (the legend's swatches have no title)
    assert charts.nice_ticks(0, 1, 6) == [0, 0.2, 0.4, 0.6, 0.8, 1.0] and charts.nice_ticks(0, 1, 5) == [0, 0.5, 1]


# The charts of alignment/figures.py (other sections draw their own and are checked by their tests).
CHART = re.compile(r'<figure class="chart-figure"[^>]*?data-kind="(' + "|".join(KINDS) + ')"')
INTERNAL = re.compile(r"cohen_kappa|human_share_field|\(s\)|\['|\bNone\b|\bmulti\b(?!-)")


def test_the_html_report_draws_the_same_charts_as_the_alignment_view_for_every_dimension(client, owner, reported):
    from alignment.dashboard import report_html_of

    client.force_login(owner)
    report = reported.alignment_reports.get()
    html = report_html_of(reported, report.content)
    parts = re.split(r'<section class="dimension"[^>]*data-dimension="([^"]+)">', html)
    sections = dict(zip(parts[1::2], parts[2::2], strict=True))  # each dimension's part, up to the next one
    assert set(sections) == set(report.content["dimensions"])
    pages = {}
    for key, dim in report.content["dimensions"].items():
        pages[key] = client.get(reverse("alignment:dashboard", args=[reported.slug]) + f"?dimension={key}")
        on_page = CHART.findall(pages[key].content.decode())
        assert on_page == CHART.findall(sections[key]), key
        if dim["kind"] == "multi":  # one 2×2 matrix per tag and model, beside the ceiling strip
            assert on_page.count("confusion") == len(dim["humans"]["tags"]) * len(dim["models"]) > 1
    assert {"ceiling", "confusion", "scatter"} <= {kind for page in pages.values()
                                                   for kind in CHART.findall(page.content.decode())}
    for text in [html, *(page.content.decode() for page in pages.values())]:
        assert not INTERNAL.search(re.sub(r"<svg.*?</svg>", "", text, flags=re.S)), INTERNAL.search(text)
