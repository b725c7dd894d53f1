import numpy as np
import pytest
from django.core.management import CommandError, call_command

from annotations.models import Artwork
from clipworker.models import Embedding

REAL_COLUMN = "ViT-L/14@336px"


def test_both_real_parquet_files_become_a_study_with_style_period_and_origin_and_no_images(study, realdata):
    call_command("import_embeddings", study.slug, "--parquet", str(realdata / "ai_pastiche.parquet"),
                 "--column", REAL_COLUMN, "--id-column", "generated_image", "--model-name", REAL_COLUMN,
                 "--create-artworks", "--set", "origin=ai", "--set", "source=AI-Pastiche",
                 "--map", "generator=generative_model")
    call_command("import_embeddings", study.slug, "--parquet", str(realdata / "ngd.parquet"),
                 "--column", REAL_COLUMN, "--id-column", "objectid", "--model-name", REAL_COLUMN,
                 "--create-artworks", "--set", "origin=human", "--set", "source=National Gallery of Art")
    assert study.artworks.filter(origin="ai").count() == 953
    assert study.artworks.filter(origin="human").count() == 953
    assert not study.artworks.exclude(image="").exists()
    pastiche = study.artworks.get(external_id="0002.webp")
    assert (pastiche.style, pastiche.period, pastiche.generator) == ("renaissance", "XVI century", "ChatGPT4.0")
    assert pastiche.metadata["authenticity"] == pytest.approx(0.2)
    nga = study.artworks.get(external_id="46141")
    assert (nga.title, nga.style, nga.school) == ("Queen Zenobia Addressing Her Soldiers", "Baroque", "Venetian")
    vectors = np.stack([e.array() for e in Embedding.objects.filter(model_name=REAL_COLUMN)])
    assert vectors.shape == (1906, 768)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)


def test_real_vectors_are_stored_normalised_in_the_files_direction(study, realdata):
    import pandas as pd

    call_command("import_embeddings", study.slug, "--parquet", str(realdata / "ngd.parquet"), "--column", REAL_COLUMN,
                 "--id-column", "objectid", "--model-name", "L14", "--create-artworks")
    first = pd.read_parquet(realdata / "ngd.parquet").iloc[0]
    raw = np.asarray(first[REAL_COLUMN], dtype=float)
    stored = Embedding.objects.get(artwork__external_id=str(first["objectid"])).array()
    np.testing.assert_allclose(stored, raw / np.linalg.norm(raw), atol=1e-6)


def write_npy(tmp_path, matrix, ids):
    np.save(tmp_path / "emb.npy", np.asarray(matrix))
    (tmp_path / "ids.txt").write_text("\n".join(ids))
    return ["--npy", str(tmp_path / "emb.npy"), "--ids", str(tmp_path / "ids.txt")]


def test_npy_with_an_id_list_matches_existing_artworks(study, tmp_path):
    for name in ("a", "b"):
        Artwork.objects.create(study=study, external_id=name)
    call_command("import_embeddings", study.slug, *write_npy(tmp_path, [[3.0, 4.0], [0.0, 2.0]], ["a", "b"]),
                 "--model-name", "my-clip")
    np.testing.assert_allclose(Embedding.objects.get(artwork__external_id="a").array(), [0.6, 0.8])


def test_unknown_ids_and_bad_vectors_are_row_errors_and_nothing_is_stored(study, tmp_path):
    Artwork.objects.create(study=study, external_id="a")
    args = write_npy(tmp_path, [[1.0, 0.0], [np.nan, 1.0], [0.0, 0.0]], ["a", "ghost", "a"])
    with pytest.raises(CommandError) as error:
        call_command("import_embeddings", study.slug, *args, "--model-name", "m")
    message = str(error.value)
    assert "row 2, field 'id': no artwork 'ghost' in the study" in message
    assert "row 2, field 'embedding': contains NaN" in message
    assert "row 3, field 'embedding': is all zeros" in message
    assert "row 3, field 'id': 'a' repeats row 1" in message
    assert not Embedding.objects.exists()


def test_a_missing_embedding_column_is_named(study, realdata):
    with pytest.raises(CommandError, match="field 'vec': required column is missing"):
        call_command("import_embeddings", study.slug, "--parquet", str(realdata / "ngd.parquet"), "--column", "vec",
                     "--id-column", "objectid", "--model-name", "m")
