"""import_artworks --no-images (issue 16, item 7): image-less artworks with fields and expert labels."""
import io

import pytest
from django.core.management import CommandError, call_command

from annotations.models import Artwork, ExpertLabel


def _manifest(tmp_path, text: str):
    path = tmp_path / "manifest.csv"
    path.write_text(text)
    return str(path)


def test_a_manifest_without_images_creates_and_updates_artworks_with_expert_labels(study, tmp_path):
    Artwork.objects.create(study=study, external_id="known", title="Old title", style="baroque")
    manifest = _manifest(tmp_path, "id,title,origin,generator,expert_origin,expert_style,museum\n"
                                   "known,,human,,human,rococo,Louvre\n"
                                   "new,A new one,ai,dalle,ai,,\n")
    out = io.StringIO()
    call_command("import_artworks", study.slug, "--manifest", manifest, "--no-images", stdout=out)
    assert "artworks: 1 imported" in out.getvalue() and "updated 1 artwork(s)" in out.getvalue()
    known, new = Artwork.objects.get(external_id="known"), Artwork.objects.get(external_id="new")
    assert (known.title, known.origin, known.metadata) == ("Old title", "human", {"museum": "Louvre"})
    assert (new.title, new.origin, new.generator, bool(new.image)) == ("A new one", "ai", "dalle", False)
    labels = {(e.artwork.external_id, e.dimension.key): e.value for e in ExpertLabel.objects.select_related(
        "artwork", "dimension")}
    assert labels == {("known", "origin"): "human", ("known", "style"): "rococo", ("new", "origin"): "ai"}
    # a second import updates the expert label instead of refusing it
    call_command("import_artworks", study.slug, "--manifest",
                 _manifest(tmp_path, "id,expert_origin\nknown,ai\n"), "--no-images", stdout=io.StringIO())
    assert ExpertLabel.objects.get(artwork=known, dimension__key="origin").value == "ai"


def test_bad_rows_of_a_manifest_without_images_are_refused_and_nothing_is_written(study, tmp_path):
    manifest = _manifest(tmp_path, "id,file,expert_origin,expert_colour\n"
                                   "a,a.jpg,human,\n"
                                   "b,,robot,\n"
                                   ",,human,\n"
                                   "c,,human,red\n")
    with pytest.raises(CommandError) as error:
        call_command("import_artworks", study.slug, "--manifest", manifest, "--no-images")
    message = str(error.value)
    assert "row 1, field 'file': --no-images: the manifest names no images" in message
    assert "row 2, field 'expert_origin'" in message
    assert "row 3, field 'id': empty id" in message
    assert "row 4, field 'expert_colour': the study has no dimension 'colour'" in message
    assert not Artwork.objects.filter(study=study).exists()
