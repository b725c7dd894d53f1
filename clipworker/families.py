"""Model families behind one loader interface: CLIP, MetaCLIP 2, SigLIP, SigLIP 2 (transformers classes).

OpenCLIP checkpoints (LAION, DFN) are loaded in the transformers format their authors publish beside
the open_clip one (a `CLIPModel` config): they are the "clip" family here. `open_clip` itself is not
needed (it imports torchvision, whose registry wheels do not load beside this machine's CPU torch).

A family says how its logits become label probabilities:
- contrastive (CLIP, MetaCLIP 2): logits_k = s <x, t_k>, P = softmax over the labels ("softmax");
- sigmoid (SigLIP, SigLIP 2): logits_k = s <x, t_k> + b, each label scored on its own by σ(logits_k).
  Comparing them with vote shares needs a distribution over labels, chosen per run and recorded:
  "softmax" (softmax of the logits; b cancels) or "sigmoid" (σ(logits_k) / Σ_j σ(logits_j)).
`s` is the model's `logit_scale.exp()`, `b` its `logit_bias`. `label_probabilities` computes these from
unit embeddings; `FamilyModel.forward_probabilities` from the family's own forward (`logits_per_image`).

Stand-ins: `build_tiny_family(family, folder)` saves a tiny random model of the family's real
architecture (with the tiny CLIP's BPE tokenizer: any tokenizer feeds any text tower), marked stand-in
like `tiny.build_tiny_clip`; their answers mean nothing, their plumbing is the real one.
"""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from . import tiny

NORMALISATIONS = ("softmax", "sigmoid")


@dataclass(frozen=True)
class Family:
    key: str  # the config's model_type
    name: str
    model_class: str  # in transformers
    scores: str  # "softmax" (contrastive) or "sigmoid"
    text_padding: str | bool  # SigLIP's text tower was trained on max_length padding
    text_max_length: int


FAMILIES = {
    "clip": Family("clip", "CLIP / OpenCLIP (transformers format)", "CLIPModel", "softmax", True, 77),
    "metaclip_2": Family("metaclip_2", "MetaCLIP 2", "MetaClip2Model", "softmax", True, 77),
    "siglip": Family("siglip", "SigLIP", "SiglipModel", "sigmoid", "max_length", 64),
    "siglip2": Family("siglip2", "SigLIP 2", "Siglip2Model", "sigmoid", "max_length", 64),
}


def family_of(model_type: str) -> Family:
    try:
        return FAMILIES[model_type]
    except KeyError:
        raise ValueError(f"model type {model_type!r} is not a supported family"
                         f" ({', '.join(FAMILIES)})") from None


def run_scoring(family_key: str) -> dict:
    """What a run records about its scores: runs take the softmax over labels of the model's logits
    (for sigmoid families s·cos + b, where b cancels: the "softmax" normalisation)."""
    family = family_of(family_key)
    how = ("softmax over labels of s·cos" if family.scores == "softmax"
           else "softmax over labels of s·cos + b (the bias cancels)")
    return {"family": family.key, "scores": family.scores, "normalisation": "softmax", "how": how}


def label_probabilities(image_emb: np.ndarray, text_emb: np.ndarray, *, logit_scale: float, logit_bias: float = 0.0,
                        scores: str = "softmax", normalisation: str = "softmax") -> np.ndarray:
    """(n, K) label probabilities from unit image rows (n, d) and unit label rows (K, d).

    Contrastive families: softmax(s <x, t>). Sigmoid families: softmax(s <x, t> + b) or the
    normalised sigmoids σ(s <x, t> + b) / Σ σ(...), per `normalisation`.
    """
    if normalisation not in NORMALISATIONS:
        raise ValueError(f"normalisation must be one of {NORMALISATIONS}")
    logits = logit_scale * (np.asarray(image_emb, dtype=np.float64) @ np.asarray(text_emb, dtype=np.float64).T)
    if scores == "sigmoid":
        logits = logits + logit_bias
        if normalisation == "sigmoid":
            sig = 1.0 / (1.0 + np.exp(-logits))
            return sig / sig.sum(axis=1, keepdims=True)
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _pooled(output) -> torch.Tensor:
    return output if isinstance(output, torch.Tensor) else output.pooler_output


def _unit(features: torch.Tensor) -> np.ndarray:
    x = features.detach().float()
    return (x / x.norm(dim=-1, keepdim=True).clamp_min(1e-12)).cpu().numpy()


@dataclass(eq=False)
class FamilyModel:
    """A loaded model of any family, with what scoring needs: unit embeddings, s, b, the family."""

    model: torch.nn.Module
    processor: object
    tokenizer: object
    family: Family
    name: str
    is_stand_in: bool

    @property
    def logit_scale(self) -> float:
        return float(self.model.logit_scale.detach().float().exp())

    @property
    def logit_bias(self) -> float:
        bias = getattr(self.model, "logit_bias", None)
        return float(bias.detach().float().reshape(-1)[0]) if bias is not None else 0.0

    def _texts(self, texts: Sequence[str]) -> dict:
        kwargs: dict = {"padding": self.family.text_padding, "truncation": True,
                        "max_length": self.family.text_max_length, "return_tensors": "pt"}
        tokens = self.tokenizer(list(texts), **kwargs)
        keep = ("input_ids",) if self.family.scores == "sigmoid" else ("input_ids", "attention_mask")
        return {k: tokens[k] for k in keep}

    def _images(self, images: Sequence) -> dict:
        return dict(self.processor(images=list(images), return_tensors="pt"))

    def embed_images(self, images: Sequence) -> np.ndarray:
        with torch.inference_mode():
            return _unit(_pooled(self.model.get_image_features(**self._images(images))))

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        with torch.inference_mode():
            return _unit(_pooled(self.model.get_text_features(**self._texts(texts))))

    def probabilities(self, images: Sequence, texts: Sequence[str], normalisation: str = "softmax") -> np.ndarray:
        """Zero-shot label probabilities through the embeddings (what a run stores)."""
        return label_probabilities(self.embed_images(images), self.embed_texts(texts), logit_scale=self.logit_scale,
                                   logit_bias=self.logit_bias, scores=self.family.scores,
                                   normalisation=normalisation)

    def metadata(self, normalisation: str) -> dict:
        """What a prediction of this model records about how its scores became probabilities."""
        how = ("softmax over labels of s·cos" if self.family.scores == "softmax" else
               "softmax over labels of s·cos + b" if normalisation == "softmax" else
               "sigmoid(s·cos + b) per label, divided by their sum")
        return {"family": self.family.key, "scores": self.family.scores, "normalisation": normalisation,
                "how": how, "logit_scale": self.logit_scale, "logit_bias": self.logit_bias,
                "is_stand_in": self.is_stand_in}


def load_family(src: str | Path) -> FamilyModel:
    """Any supported family from a local folder or hub id (its config's model_type picks the class)."""
    import transformers
    from transformers import AutoConfig, AutoImageProcessor, AutoTokenizer

    config = AutoConfig.from_pretrained(str(src))
    family = family_of(config.model_type)
    model = getattr(transformers, family.model_class).from_pretrained(str(src)).eval()
    return FamilyModel(model=model, processor=AutoImageProcessor.from_pretrained(str(src)),
                       tokenizer=AutoTokenizer.from_pretrained(str(src)), family=family, name=str(src),
                       is_stand_in=(Path(src) / tiny.STAND_IN_MARKER).is_file())


# Stand-ins -------------------------------------------------------------------------------------------
def _small(hidden: int = 32) -> dict:
    return {"hidden_size": hidden, "intermediate_size": 2 * hidden, "num_hidden_layers": 1, "num_attention_heads": 2}


def _tiny_parts(family: str, tokenizer):
    import transformers as t

    ids = {"bos_token_id": tokenizer.bos_token_id, "eos_token_id": tokenizer.eos_token_id,
           "pad_token_id": tokenizer.pad_token_id}
    text = {"vocab_size": len(tokenizer), **ids, **_small()}
    if family == "siglip":
        config = t.SiglipConfig(text_config={**text, "max_position_embeddings": 64},
                                vision_config={"image_size": 32, "patch_size": 16, **_small()})
        processor = t.SiglipImageProcessorPil(size={"height": 32, "width": 32})
    elif family == "siglip2":
        config = t.Siglip2Config(text_config={**text, "max_position_embeddings": 64},
                                 vision_config={"num_patches": 16, "patch_size": 8, **_small()})
        processor = t.Siglip2ImageProcessorPil(patch_size=8, max_num_patches=16)
    elif family == "metaclip_2":
        config = t.MetaClip2Config(text_config={**text, "max_position_embeddings": 77, "projection_dim": 16},
                                   vision_config={"image_size": 32, "patch_size": 16, "projection_dim": 16, **_small()},
                                   projection_dim=16)
        processor = t.CLIPImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    else:
        raise ValueError(f"no stand-in for family {family!r} here (the CLIP one is tiny.build_tiny_clip)")
    return getattr(t, FAMILIES[family].model_class), config, processor


def build_tiny_family(family: str, folder: Path, *, seed: int = 0) -> Path:
    """Make (once) a tiny random model of `family` in `folder`; returns the folder."""
    folder = Path(folder)
    if (folder / tiny.STAND_IN_MARKER).is_file():
        return folder
    tokenizer = tiny.build_tiny_tokenizer()
    model_class, config, processor = _tiny_parts(family, tokenizer)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = model_class(config).eval()
        with torch.no_grad():  # trained-like temperature and bias (random init gives s = 1, b = 0)
            model.logit_scale.fill_(float(np.log(10.0)))
            if getattr(model, "logit_bias", None) is not None:
                model.logit_bias.fill_(-2.0)
    folder.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        model.save_pretrained(building)
        tokenizer.save_pretrained(building)
        processor.save_pretrained(building)
        (building / tiny.STAND_IN_MARKER).write_text(
            f"Offline stand-in of the {FAMILIES[family].name} architecture with random weights (seed {seed});"
            " its answers mean nothing.\n")
        building.rename(folder)
    except OSError:
        shutil.rmtree(building, ignore_errors=True)
        if not (folder / tiny.STAND_IN_MARKER).is_file():
            raise
    return folder
