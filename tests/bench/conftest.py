"""The benchmarks' tests run on the tiny CLIP of the worker's tests (tests/clipworker/conftest.py)."""
from tests.clipworker.conftest import clip  # noqa: F401  (a fixture, used by name)
