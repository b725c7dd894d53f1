import json

from clipworker.model import _folder_revision
from clipworker.tiny import STAND_IN_MARKER, build_random_clip, build_tiny_clip, build_tiny_tokenizer


def test_tiny_clip_folder_holds_a_complete_marked_checkpoint(tiny_folder):
    names = {p.name for p in tiny_folder.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "preprocessor_config.json",
            STAND_IN_MARKER} <= names
    config = json.loads((tiny_folder / "config.json").read_text())
    assert config["artalign_stand_in"] is True
    assert config["model_type"] == "clip"


def test_building_again_into_a_complete_folder_changes_nothing(tiny_folder):
    before = {p.name: p.stat().st_mtime_ns for p in tiny_folder.iterdir()}
    assert build_tiny_clip(tiny_folder) == tiny_folder
    assert {p.name: p.stat().st_mtime_ns for p in tiny_folder.iterdir()} == before


def test_two_builds_with_the_same_seed_are_identical(tiny_folder, tmp_path):
    other = build_tiny_clip(tmp_path / "again")
    assert _folder_revision(other, content=True) == _folder_revision(tiny_folder, content=True)


def test_any_text_tokenises_without_unknown_tokens():
    tokenizer = build_tiny_tokenizer()
    ids = tokenizer("Zwölf QUIRKY wörds: jxq 1725 🎨 baroque!").input_ids
    assert ids[0] == tokenizer.bos_token_id and ids[-1] == tokenizer.eos_token_id
    assert tokenizer.eos_token_id not in ids[1:-1]  # the unknown token is end-of-text
    assert tokenizer.decode(ids, skip_special_tokens=True) == "zwölf quirky wörds : jxq 1 7 2 5 🎨 baroque !"


def test_art_words_are_single_tokens_as_clip_makes_them():
    tokenizer = build_tiny_tokenizer()
    tokens = tokenizer.convert_ids_to_tokens(tokenizer("A painting in the style of Impressionism").input_ids)
    assert tokens == ["<|startoftext|>", "a</w>", "painting</w>", "in</w>", "the</w>", "style</w>",
                      "of</w>", "impressionism</w>", "<|endoftext|>"]


def test_random_clip_has_the_vit_b32_shape():
    model, processor, tokenizer = build_random_clip("ViT-B/32")
    vision, text = model.config.vision_config, model.config.text_config
    assert (vision.hidden_size, vision.num_hidden_layers, vision.num_attention_heads,
            vision.patch_size, vision.image_size) == (768, 12, 12, 32, 224)
    assert (text.hidden_size, text.num_hidden_layers, text.num_attention_heads, text.vocab_size,
            text.max_position_embeddings) == (512, 12, 8, 49408, 77)
    assert model.config.projection_dim == 512
    assert len(tokenizer) < text.vocab_size
    assert sum(p.numel() for p in model.parameters()) > 150e6
