"""Researcher study pages: create from the template, edit the study file, upload, open/close, link, access."""
import io
import zipfile

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from annotations.editing import study_spec_dump, study_update
from annotations.models import Artwork, Study
from tests.annotations.crowd_cast import artworks_add
from tests.factories import image_bytes
from tests.researcher_cast import aligned_study, viewer_of


@pytest.fixture
def owned(study, owner):
    study.owner = owner
    study.save()
    return study


def manifest_upload(rows: list[str]) -> SimpleUploadedFile:
    return SimpleUploadedFile("manifest.csv", ("\n".join(rows) + "\n").encode(), content_type="text/csv")


def zip_upload(names: list[str]) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i, name in enumerate(names):
            archive.writestr(f"images/{name}", image_bytes((40 * i % 255, 120, 200)))
    return SimpleUploadedFile("images.zip", buffer.getvalue(), content_type="application/zip")


def test_a_researcher_creates_a_study_from_the_template_and_owns_it(client, owner, db):
    client.force_login(owner)
    assert client.get(reverse("annotations:study_create")).status_code == 200
    response = client.post(reverse("annotations:study_create"),
                           {"slug": "my-study", "title": "My study", "template": "clip-art-perception"})
    assert response.status_code == 302
    assert response["Location"] == reverse("annotations:study_detail", args=["my-study"])
    study = Study.objects.get(slug="my-study")
    assert study.owner == owner and study.title == "My study" and study.template == "clip-art-perception"
    assert study.dimensions.count() == 7
    assert "my-study" in client.get(reverse("annotations:study_list")).content.decode()


def test_a_taken_slug_is_refused_with_its_reason(client, owner, owned):
    client.force_login(owner)
    response = client.post(reverse("annotations:study_create"), {"slug": owned.slug, "template": "clip-art-perception"})
    assert response.status_code == 400 and "already exists" in response.content.decode()


def test_a_study_file_with_problems_lists_every_problem_and_changes_nothing(client, owner, owned):
    client.force_login(owner)
    text = client.get(reverse("annotations:study_edit", args=[owned.slug])).context["form"]["spec"].value()
    broken = text.replace("kind: single", "kind: triple", 1).replace("items_per_session: 20", "items_per_session: 0")
    response = client.post(reverse("annotations:study_edit", args=[owned.slug]), {"spec": broken})
    page = response.content.decode()
    assert response.status_code == 400 and "Not saved: 2 problems" in page
    assert "&#x27;triple&#x27; is not one of" in page and "items_per_session" in page
    owned.refresh_from_db()
    assert owned.items_per_session == 20


def test_editing_the_study_file_changes_labels_prompts_and_session_settings(client, owner, owned):
    client.force_login(owner)
    spec = study_spec_dump(owned)
    spec["items_per_session"] = 12
    style = next(d for d in spec["dimensions"] if d["key"] == "style")
    style["labels"] = ["baroque", "impressionism", "cubism"]
    style["prompts"] = ["a {label} painting"]
    spec["dimensions"] = [d for d in spec["dimensions"] if d["key"] != "aesthetic"]
    response = client.post(reverse("annotations:study_edit", args=[owned.slug]), {"spec": yaml.safe_dump(spec)})
    assert response.status_code == 302
    owned.refresh_from_db()
    assert owned.items_per_session == 12
    assert owned.dimensions.get(key="style").labels == ["baroque", "impressionism", "cubism"]
    assert owned.dimensions.get(key="style").prompts == ["a {label} painting"]
    assert not owned.dimensions.filter(key="aesthetic").exists()
    assert owned.dimensions.get(key="deformation").extra["human_share_field"] == "defects"  # kept as given


def test_a_judged_dimension_keeps_its_kind_and_the_labels_in_use(owned, tmp_path):
    from annotations.editing import StudyChangeRefused

    aligned_study(owned, tmp_path, predictions=False)
    spec = study_spec_dump(owned)
    spec["dimensions"] = [d for d in spec["dimensions"] if d["key"] != "aesthetic"]
    next(d for d in spec["dimensions"] if d["key"] == "style")["labels"] = ["baroque", "cubism"]
    with pytest.raises(StudyChangeRefused) as refused:
        study_update(owned, spec)
    assert any("'aesthetic': it has judgements" in e for e in refused.value.errors)
    assert any("'style'" in e and "'impressionism'" in e for e in refused.value.errors)
    assert owned.dimensions.count() == 7


def test_a_manifest_with_one_bad_row_shows_that_row_and_imports_nothing(client, owner, owned):
    client.force_login(owner)
    manifest = manifest_upload(["id,file,title,origin", "a1,a1.png,One,human", "a2,a2.png,Two,martian",
                                "a3,a3.png,Three,ai"])
    response = client.post(reverse("annotations:study_upload", args=[owned.slug]),
                           {"which": "artworks", "manifest": manifest,
                            "images": zip_upload(["a1.png", "a2.png", "a3.png"])})
    page = response.content.decode()
    assert response.status_code == 400 and "Nothing was imported: 1 problem" in page
    assert response.context["failed"][0].row == 2 and response.context["failed"][0].field == "origin"
    assert "&#x27;martian&#x27; is not &#x27;human&#x27; or &#x27;ai&#x27;" in page
    assert owned.artworks.count() == 0


def test_a_good_manifest_with_a_zip_imports_the_artworks_and_judgements_follow(client, owner, owned):
    client.force_login(owner)
    manifest = manifest_upload(["id,file,title,origin", "a1,a1.png,One,human", "a2,a2.png,Two,ai"])
    response = client.post(reverse("annotations:study_upload", args=[owned.slug]),
                           {"which": "artworks", "manifest": manifest, "images": zip_upload(["a1.png", "a2.png"])})
    assert response.status_code == 200 and "Imported 2 artworks" in response.content.decode()
    assert set(owned.artworks.values_list("external_id", "origin")) == {("a1", "human"), ("a2", "ai")}
    assert all(a.image for a in owned.artworks.all())
    judgements = SimpleUploadedFile("j.csv", b"participant,artwork,dimension,value\n"
                                             b"p1,a1,origin,human\np1,a2,origin,ai\n")
    response = client.post(reverse("annotations:study_upload", args=[owned.slug]),
                           {"which": "judgements", "judgements": judgements})
    assert "Imported 2 judgements" in response.content.decode()


def test_an_upload_that_is_not_a_table_is_refused(client, owner, owned):
    client.force_login(owner)
    response = client.post(reverse("annotations:study_upload", args=[owned.slug]),
                           {"which": "artworks", "manifest": SimpleUploadedFile("m.exe", b"MZ")})
    assert response.status_code == 400 and "expected a .csv or .parquet file" in response.content.decode()


def test_opening_needs_artworks_and_the_participant_link_carries_prolific_placeholders(client, owner, owned):
    client.force_login(owner)
    status_url = reverse("annotations:study_status", args=[owned.slug])
    Study.objects.filter(pk=owned.pk).update(completion_code="C0DE42")  # the template's is a placeholder
    response = client.post(status_url, {"status": "open"}, follow=True)
    assert "no artworks yet" in response.content.decode()
    owned.refresh_from_db()
    assert owned.status == "draft"
    artworks_add(owned, 2)
    client.post(status_url, {"status": "open"})
    owned.refresh_from_db()
    assert owned.status == "open"
    page = client.get(reverse("annotations:study_detail", args=[owned.slug]))
    assert page.context["participant_link"] == (
        f"http://testserver/s/{owned.slug}/?PROLIFIC_PID={{{{%PROLIFIC_PID%}}}}&STUDY_ID={{{{%STUDY_ID%}}}}"
        "&SESSION_ID={{%SESSION_ID%}}")
    client.post(status_url, {"status": "closed"})
    owned.refresh_from_db()
    assert owned.status == "closed"
    assert client.get(f"/s/{owned.slug}/?participant=late").status_code == 403


def test_a_viewer_reads_every_page_but_changes_nothing(client, owner, outsider, owned):
    viewer_of(owned, outsider)
    client.force_login(outsider)
    for name in ("study_detail", "study_edit", "study_upload", "study_progress"):
        assert client.get(reverse(f"annotations:{name}", args=[owned.slug])).status_code == 200, name
    assert owned.slug in client.get(reverse("annotations:study_list")).content.decode()
    artworks_add(owned, 1)
    assert client.post(reverse("annotations:study_status", args=[owned.slug]), {"status": "open"}).status_code == 403
    assert client.post(reverse("annotations:study_edit", args=[owned.slug]), {"spec": "x: 1"}).status_code == 403
    assert client.post(reverse("annotations:study_upload", args=[owned.slug]), {"which": "artworks"}).status_code == 403
    assert client.post(reverse("annotations:study_members", args=[owned.slug]),
                       {"username": "outsider", "role": "owner"}).status_code == 403
    owned.refresh_from_db()
    assert owned.status == "draft" and owned.members.get().role == "viewer"


def test_an_owner_adds_and_removes_a_viewer(client, owner, outsider, owned):
    client.force_login(owner)
    client.post(reverse("annotations:study_members", args=[owned.slug]), {"username": "outsider", "role": "viewer"})
    assert owned.members.get().user == outsider
    client.post(reverse("annotations:study_members", args=[owned.slug]), {"remove": "outsider"})
    assert not owned.members.exists()


STUDY_PAGES = ["annotations:study_detail", "annotations:study_edit", "annotations:study_upload",
               "annotations:study_progress", "annotations:study_progress_json", "clipworker:run_list",
               "alignment:dashboard", "alignment:exports"]


@pytest.mark.parametrize("name", STUDY_PAGES)
def test_an_outsider_researcher_gets_404_on_every_study_page(client, outsider, owned, name):
    client.force_login(outsider)
    assert client.get(reverse(name, args=[owned.slug])).status_code == 404


@pytest.mark.parametrize("name", STUDY_PAGES)
def test_an_annotator_session_is_sent_to_login_from_every_study_page(client, owned, name):
    artworks_add(owned, 1)
    Study.objects.filter(pk=owned.pk).update(status="open")
    assert client.get(f"/s/{owned.slug}/?participant=annotator-1").status_code == 200  # a crowd session
    response = client.get(reverse(name, args=[owned.slug]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_annotator_pages_show_no_researcher_navigation(client, owner, owned):
    artworks_add(owned, 1)
    Study.objects.filter(pk=owned.pk).update(status="open")
    client.force_login(owner)  # even a logged-in researcher trying their own link
    page = client.get(f"/s/{owned.slug}/?participant=tester").content.decode()
    assert "<header>" not in page and reverse("annotations:study_list") not in page
    assert Artwork.objects.count() == 1
