"""The CLIP models by name, without loading any: the stand-in's name and note, and the error a model
that cannot be had raises. No torch and no Django here, so that the web side of a run (pages, API,
`run_clip --help`) names models without importing the worker side (`clipworker.model`).
"""

STAND_IN_NAME = "artalign/tiny-clip"
STAND_IN_NOTE = "stand-in model, random weights: its answers mean nothing"


class ModelUnavailable(RuntimeError):
    """The checkpoint is neither a local folder nor in the Hugging Face cache, and cannot be fetched."""
