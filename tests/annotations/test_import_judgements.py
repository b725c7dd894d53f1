import pytest
from django.core.management import CommandError, call_command

from annotations.models import Artwork, Judgement, Participant
from tests.factories import write_csv

HEADER = ["participant", "artwork", "dimension", "value", "response_ms", "created_at"]


@pytest.fixture
def artworks(study):
    return [Artwork.objects.create(study=study, external_id=f"a{i}") for i in (1, 2)]


def import_rows(study, tmp_path, rows, *flags):
    path = write_csv(tmp_path / "judgements.csv", rows, HEADER)
    call_command("import_judgements", study.slug, str(path), *flags)


def row(participant="p1", artwork="a1", dimension="style", value="baroque", response_ms="", created_at=""):
    return dict(participant=participant, artwork=artwork, dimension=dimension, value=value,
                response_ms=response_ms, created_at=created_at)


def test_long_csv_stores_one_judgement_per_row_with_canonical_values(study, artworks, tmp_path):
    import_rows(study, tmp_path, [
        row(value="Baroque", response_ms="2300", created_at="2025-03-01T10:00:00"),
        row(dimension="content", value="persons;portrait"),
        row(dimension="aesthetic", value="6"),
        row(participant="p2", dimension="origin", value="ai"),
    ])
    stored = {(j.participant.external_id, j.dimension.key): j
              for j in Judgement.objects.select_related("participant", "dimension")}
    assert stored["p1", "style"].value == "baroque" and stored["p1", "style"].response_ms == 2300
    assert stored["p1", "style"].created_at.isoformat() == "2025-03-01T10:00:00+00:00"
    assert stored["p1", "content"].value == ["persons", "portrait"]
    assert stored["p1", "aesthetic"].value == 6
    assert Participant.objects.get(external_id="p2").source == "import"


def test_each_bad_row_is_named_and_nothing_is_stored(study, artworks, tmp_path):
    with pytest.raises(CommandError) as error:
        import_rows(study, tmp_path, [
            row(),
            row(dimension="colour", value="red"),
            row(artwork="a2", value="vaporwave"),
            row(artwork="a2", dimension="aesthetic", value="12"),
            row(artwork="a2", dimension="content", value="persons;dragons"),
            row(artwork="zz"),
            row(participant="p2", response_ms="fast", created_at="yesterday"),
            row(),
        ])
    message = str(error.value)
    for expected in [
        "row 2, field 'dimension': the study has no dimension 'colour'",
        "row 3, field 'value': 'vaporwave' is not one of the labels",
        "row 4, field 'value': '12' is outside the scale 1-7 for dimension 'aesthetic' (rating)",
        "row 5, field 'value': 'dragons' is not one of the labels",
        "row 6, field 'artwork': no artwork 'zz' in the study",
        "row 7, field 'response_ms': 'fast' is not a whole number",
        "row 7, field 'created_at': 'yesterday' is not an ISO 8601 date-time",
        "row 8, field 'value': a second judgement for the same participant, artwork and dimension (first in row 1)",
    ]:
        assert expected in message
    assert not Judgement.objects.exists() and not Participant.objects.exists()


def test_missing_columns_are_named(study, tmp_path):
    path = write_csv(tmp_path / "j.csv", [{"participant": "p", "artwork": "a"}])
    with pytest.raises(CommandError, match="field 'dimension': required column is missing"):
        call_command("import_judgements", study.slug, str(path))


def test_create_artworks_makes_image_less_artworks_for_unknown_ids(study, tmp_path):
    import_rows(study, tmp_path, [row(artwork="new-1"), row(artwork="new-1", dimension="period", value="XV century")],
                "--create-artworks")
    artwork = Artwork.objects.get(external_id="new-1")
    assert not artwork.image and artwork.judgements.count() == 2


def test_reimporting_the_same_file_adds_nothing_and_a_changed_value_is_refused(study, artworks, tmp_path):
    import_rows(study, tmp_path, [row()])
    import_rows(study, tmp_path, [row()])
    assert Judgement.objects.count() == 1
    with pytest.raises(CommandError, match="already stored as 'baroque'"):
        import_rows(study, tmp_path, [row(value="rococo")])
    assert Judgement.objects.get().value == "baroque"


def test_a_file_that_is_not_utf8_gets_a_clear_error(study, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("participant,artwork,dimension,value\np1,a1,style,rococó\n".encode("latin-1"))
    with pytest.raises(CommandError, match="not UTF-8 text"):
        call_command("import_judgements", study.slug, str(path))
