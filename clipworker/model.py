"""Loading a CLIP checkpoint once per process, and embedding images and texts with it.

`get_clip(name, cache_dir=...)` is what workers call: the first call loads (lazily, never at import
time), later calls in the same process get the same `LoadedClip`. Embeddings come back as float32
numpy arrays of unit rows; scoring them is `clipworker.scoring`'s business.

No Django here: the model name, device and cache folder are passed in (from settings.CLIP_MODEL,
settings.CLIP_DEVICE and settings.VAR_DIR by the caller).
"""
from __future__ import annotations

import gc
import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from clipworker import tiny
from clipworker.catalog import STAND_IN_NAME, ModelUnavailable
from clipworker.families import FAMILIES, Family, family_of

STAND_IN_FOLDER = "tiny-clip"  # under cache_dir


def resolve_device(device: str = "auto") -> tuple[torch.device, torch.dtype]:
    """"auto" is CUDA in half precision when there is a GPU, else CPU in float32."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    resolved = torch.device(device)
    return resolved, (torch.float16 if resolved.type == "cuda" else torch.float32)


@dataclass(eq=False)
class LoadedClip:
    model: torch.nn.Module
    processor: object  # the image processor (CLIPImageProcessor or its PIL twin)
    tokenizer: object
    device: torch.device
    dtype: torch.dtype
    name: str
    revision: str
    is_stand_in: bool
    logit_scale: float
    family: str = "clip"  # clipworker.families: how the logits become probabilities (runs: softmax over labels)
    _text_cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    _text_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_parts(cls, model, processor, tokenizer, *, name: str, revision: str = "",
                   device: str = "auto", is_stand_in: bool = False, family: str = "clip") -> LoadedClip:
        """Wrap an already built model (e.g. `tiny.build_random_clip()`), moving it to `device`."""
        torch_device, dtype = resolve_device(device)
        model = model.to(device=torch_device, dtype=dtype).eval()
        return cls(
            model=model, processor=processor, tokenizer=tokenizer, device=torch_device,
            dtype=dtype, name=name, revision=revision, is_stand_in=is_stand_in,
            logit_scale=float(model.logit_scale.detach().float().exp()), family=family,
        )

    @property
    def dim(self) -> int:
        config = self.model.config  # SigLIP has no projection: its embedding is the vision tower's width
        return int(getattr(config, "projection_dim", None) or config.vision_config.hidden_size)

    # Images -------------------------------------------------------------------------------------
    def preprocess(self, images: Sequence) -> torch.Tensor:
        """PIL images -> pixel values (n, 3, H, W) on the CPU; safe to call from another thread."""
        return self.processor(images=list(images), return_tensors="pt")["pixel_values"]

    def embed_pixels(self, pixel_values: torch.Tensor) -> np.ndarray:
        """One image forward: (n, 3, H, W) pixel values -> (n, d) float32 unit rows."""
        with torch.inference_mode():
            pixel_values = pixel_values.to(device=self.device, dtype=self.dtype)
            return _unit_rows(_features(self.model.get_image_features(pixel_values=pixel_values)))

    def embed_images(self, images: Sequence, *, batch_size: int = 32) -> np.ndarray:
        """PIL images -> (n, d) float32 L2-normalised embeddings, `batch_size` images per forward."""
        out = [self.embed_pixels(self.preprocess(images[i:i + batch_size]))
               for i in range(0, len(images), batch_size)]
        return np.concatenate(out) if out else np.zeros((0, self.dim), np.float32)

    # Texts --------------------------------------------------------------------------------------
    def embed_texts(self, texts: Sequence[str], *, batch_size: int = 256) -> np.ndarray:
        """Texts -> (n, d) float32 L2-normalised embeddings; each distinct text is embedded once.

        The cache lives as long as this LoadedClip, i.e. the worker process: prompts are few.
        """
        with self._text_lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._text_cache))
            for i in range(0, len(missing), batch_size):
                chunk = missing[i:i + batch_size]
                sigmoid = FAMILIES[self.family].scores == "sigmoid"  # SigLIP: max_length padding, no mask
                tokens = self.tokenizer(
                    chunk, padding="max_length" if sigmoid else True, truncation=True,
                    max_length=self.model.config.text_config.max_position_embeddings,
                    return_tensors="pt",
                ).to(self.device)
                mask = {} if sigmoid else {"attention_mask": tokens["attention_mask"]}
                with torch.inference_mode():
                    rows = _unit_rows(_features(self.model.get_text_features(input_ids=tokens["input_ids"], **mask)))
                self._text_cache.update(zip(chunk, rows))
            if not texts:
                return np.zeros((0, self.dim), np.float32)
            return np.stack([self._text_cache[t] for t in texts])


def _features(output) -> torch.Tensor:
    # transformers 5.x returns an output object whose pooler_output is the projected embedding;
    # 4.x returned the tensor itself.
    return output if isinstance(output, torch.Tensor) else output.pooler_output


def _unit_rows(features: torch.Tensor) -> np.ndarray:
    # Normalised in float32 whatever the model's dtype, so fp16 runs lose no more than they must.
    x = features.detach().float()
    x = x / x.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    return x.cpu().numpy()


# Loading ----------------------------------------------------------------------------------------
def _offline() -> bool:
    return any(os.environ.get(var, "").strip().lower() in ("1", "true", "yes", "on")
               for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def _unavailable(name: str, why: str) -> ModelUnavailable:
    return ModelUnavailable(
        f"CLIP model {name!r} is not available here ({why}). Either download it where there is a "
        f"network (`hf download {name}`, or `from_pretrained` then `save_pretrained` of the model, "
        f"tokenizer and image processor into one folder), copy it here and list that folder in "
        f"CLIP_MODELS (or make it CLIP_MODEL); or set HF_HOME to a Hugging Face cache that already "
        f"holds it (with HF_HUB_OFFLINE=1 to stop network attempts). Tests and demos without any "
        f"checkpoint can use CLIP_MODEL={STAND_IN_NAME}."
    )


def _missing_folder(path: str) -> ModelUnavailable:
    return ModelUnavailable(
        f"CLIP model folder {path!r} does not exist. List in CLIP_MODELS (or make CLIP_MODEL) a folder "
        f"that holds a saved CLIP checkpoint (config.json, weights, tokenizer and "
        f"preprocessor_config.json), a Hugging Face hub id, or {STAND_IN_NAME} for the offline stand-in."
    )


def _folder_revision(folder: Path, *, content: bool) -> str:
    """A local folder's revision: a hash of config.json and the weight files.

    `content=True` hashes the weights' bytes (the small stand-in); otherwise their names, sizes and
    modification times, which changes whenever the weights are replaced, without reading gigabytes.
    """
    digest = hashlib.sha256()
    config = folder / "config.json"
    if config.is_file():
        digest.update(config.read_bytes())
    for path in sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin")):
        if content:
            digest.update(path.read_bytes())
        else:
            stat = path.stat()
            digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    for name in ("tokenizer.json", "preprocessor_config.json"):
        if content and (folder / name).is_file():
            digest.update((folder / name).read_bytes())
    return ("sha256:" if content else "local:") + digest.hexdigest()[:16]


def _hub_commit(name: str, offline: bool) -> str | None:
    """Fetch (or find in the cache) the hub id's config.json; the commit it came from, if known."""
    from transformers.utils.hub import cached_file

    parts = Path(cached_file(name, "config.json", local_files_only=offline) or "").parts
    if "snapshots" in parts and parts.index("snapshots") + 1 < len(parts):
        return parts[parts.index("snapshots") + 1]
    return None


def load_clip(name_or_path: str, *, device: str = "auto", cache_dir: Path) -> LoadedClip:
    """Load a CLIP checkpoint: a hub id, a local folder, or the stand-in `artalign/tiny-clip`.

    The stand-in is built (once) under `cache_dir / "tiny-clip"` (cache_dir: e.g. settings.VAR_DIR;
    it is not used for other models); hub ids go through the Hugging Face cache (HF_HOME). With
    HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) set, only local files are used. A checkpoint that cannot
    be had raises ModelUnavailable saying how to provide it.
    """
    import transformers
    from transformers import AutoConfig, AutoImageProcessor, AutoTokenizer

    torch_device, dtype = resolve_device(device)
    is_stand_in = name_or_path == STAND_IN_NAME
    source = tiny.build_tiny_clip(Path(cache_dir) / STAND_IN_FOLDER) if is_stand_in else Path(name_or_path).expanduser()
    is_folder = source.is_dir()
    offline = _offline() and not is_folder
    if not is_folder and (source.is_absolute() or name_or_path.startswith((".", "~"))):
        raise _missing_folder(name_or_path)
    src = str(source) if is_folder else name_or_path
    is_stand_in = is_stand_in or (source / tiny.STAND_IN_MARKER).is_file()

    try:
        # First the config alone: a hub id that cannot be had fails here, after one round of the
        # hub's retries rather than one per file.
        revision = None if is_folder else _hub_commit(name_or_path, offline)
        kwargs = {"local_files_only": offline}
        if revision:
            kwargs["revision"] = revision  # all three parts from the same commit
        family = _run_family(name_or_path, AutoConfig.from_pretrained(src, **kwargs).model_type)
        model = getattr(transformers, family.model_class).from_pretrained(src, dtype=dtype, **kwargs)
        processor = AutoImageProcessor.from_pretrained(src, **kwargs)
        tokenizer = AutoTokenizer.from_pretrained(src, **kwargs)
    except OSError as exc:
        why = "offline and not in the local cache" if offline else f"{type(exc).__name__}: {exc}"
        raise _unavailable(name_or_path, why.splitlines()[0]) from exc
    except Exception as exc:  # network errors from huggingface_hub/httpx are not OSErrors
        if type(exc).__module__.split(".")[0] in ("huggingface_hub", "httpx", "requests"):
            raise _unavailable(name_or_path, f"{type(exc).__name__}: {exc}".splitlines()[0]) from exc
        raise
    if is_folder:
        revision = _folder_revision(source, content=is_stand_in)
    return LoadedClip.from_parts(
        model, processor, tokenizer, name=name_or_path, revision=revision or "unknown",
        device=str(torch_device), is_stand_in=is_stand_in, family=family.key,
    )


def _run_family(name: str, model_type: str) -> Family:
    """The family of a checkpoint a run can load (CLIP, OpenCLIP in transformers format, MetaCLIP 2,
    SigLIP); runs score softmax over labels, for SigLIP the softmax of s·cos + b (b cancels)."""
    try:
        family = family_of(model_type)
    except ValueError as exc:
        raise _unavailable(name, str(exc)) from None
    if family.key == "siglip2":
        raise _unavailable(name, "SigLIP 2's variable-size patches are not in the run pipeline yet: score it with"
                                 " clipworker.families.load_family and bring the answers with import_predictions")
    return family


_loaded: OrderedDict[tuple[str, str], LoadedClip] = OrderedDict()  # least recently used first
_loading = threading.Lock()


def checkpoint_key(name_or_path: str, cache_dir: Path) -> str:
    """What a name loads: a folder's real path (the stand-in's too), else the hub id as given.

    Every spelling of one folder (relative, with `..`, through a link, the stand-in's name) is one key.
    """
    if name_or_path == STAND_IN_NAME:
        return str((Path(cache_dir) / STAND_IN_FOLDER).resolve())
    folder = Path(name_or_path).expanduser()
    return str(folder.resolve()) if folder.is_dir() else name_or_path


def get_clip(name_or_path: str, *, device: str = "auto", cache_dir: Path, max_loaded: int = 2) -> LoadedClip:
    """The process's LoadedClip for (checkpoint, device), loaded on first use and kept.

    At most `max_loaded` models stay loaded: loading another drops the least recently used (a model
    takes gigabytes; a worker asked for many in turn must not keep them all). Keyed by the resolved
    checkpoint (`checkpoint_key`) and device ("auto" becomes "cuda" or "cpu"), so "auto" and "cuda"
    share one model but "cuda" and "cuda:0" do not: pass the same spelling everywhere (settings.CLIP_DEVICE).
    """
    key = (checkpoint_key(name_or_path, cache_dir), str(resolve_device(device)[0]))
    with _loading:  # one load at a time; a model is big and loading it twice wastes minutes
        if key in _loaded:
            _loaded.move_to_end(key)
            return _loaded[key]
        if len(_loaded) >= max(1, max_loaded):  # drop first: the new model need not fit beside them all
            while len(_loaded) >= max(1, max_loaded):
                _loaded.popitem(last=False)
            gc.collect()
            if torch.cuda.is_available():
                torch.cuda.empty_cache()  # hand the dropped weights' memory back for the next model
        _loaded[key] = load_clip(name_or_path, device=device, cache_dir=cache_dir)
        return _loaded[key]


def keep_loaded(clip: LoadedClip, *, cache_dir: Path) -> None:
    """Make an already built model (the benchmark's, in memory) what get_clip(clip.name) returns here."""
    with _loading:
        _loaded[(checkpoint_key(clip.name, cache_dir), str(clip.device))] = clip


def loaded_checkpoints() -> list[tuple[str, str]]:
    """(checkpoint, device) of the models this process holds, least recently used first."""
    with _loading:
        return list(_loaded)


def forget_loaded() -> None:
    """Drop the process's loaded models (tests; a worker never needs it)."""
    with _loading:
        _loaded.clear()

