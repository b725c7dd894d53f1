"""The demo's comparative part: a second study on the demo's synthetic images (a study judges either
one artwork at a time or trials), with simulated answers written as a comparative judgements file.

Simulated people prefer undeformed images (latent appeal +1 against −1, plus a little per look and
Gumbel noise: Bradley–Terry choices), and in a triplet mostly pick the image of another look as the
odd one out. Clearly not real people: it exists so the comparative figures have something to show.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from .comparative import design_tuples

SPEC = {
    "title": "Demo: comparative judgements on the synthetic paintings",
    "description": "Which of two is more appealing, and which of three is the odd one out (by style).",
    "instructions": "Each screen shows two or three images. Click the one the question asks for, or press its"
                    " number (1, 2, 3; the arrow keys for left and right).",
    "completion_code": "DEMO-COMPARE",
    "items_per_session": 8,
    "target_judgements_per_item": 3,
    "questionnaire": False,
    "dimensions": [
        {"key": "appeal", "kind": "pairwise", "question": "Which image is more appealing?",
         "prompts": ["a beautiful painting", "a masterpiece of art"],
         "negative_prompts": ["an ugly, distorted image"], "appearances": 4, "repeats": 1},
        {"key": "odd", "kind": "triplet", "question": "Which image is the odd one out?", "aspect": "style",
         "appearances": 3, "repeats": 1},
    ],
}
LOOK_APPEAL = {"dots": 0.3, "facets": 0.0, "grid": -0.2, "chiaroscuro": 0.5}


def demo_manifest_for_comparative(manifest: Path, path: Path) -> Path:
    """The demo manifest less its expert labels (they label the item study's dimensions)."""
    with manifest.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    columns = [c for c in rows[0] if not c.startswith("expert_")]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def demo_comparative_write(path: Path, manifest: Path, *, participants: int = 10, seed: int = 0) -> Path:
    """Write simulated answers to the demo set (its manifest) as a comparative judgements file."""
    rng = np.random.default_rng(seed)
    with manifest.open(encoding="utf-8") as handle:
        artworks = list(csv.DictReader(handle))
    names = [row["file"] for row in artworks]
    looks = [row["file"].split("_")[1] for row in artworks]
    theta = np.array([(1.0 if row["origin"] == "human" else -1.0) + LOOK_APPEAL.get(look, 0.0)
                      for row, look in zip(artworks, looks)])
    pairs = design_tuples(len(names), 2, 4, seed=seed)
    triplets = design_tuples(len(names), 3, 3, seed=seed + 1)
    rows = []
    for p in range(1, participants + 1):
        person = f"simulated-{p:02d}"
        mine = list(rng.choice(len(pairs), 6, replace=False))
        for k in mine + mine[:1]:  # the first pair again at the end: each person's consistency
            shown = [int(i) for i in rng.permutation(pairs[k])]
            chosen = shown[int(np.argmax(theta[shown] + rng.gumbel(size=2)))]
            rows.append(_row(person, "appeal", shown, [chosen], names, rng))
        for k in rng.choice(len(triplets), 4, replace=False):
            shown = [int(i) for i in rng.permutation(triplets[k])]
            odd = [i for i in shown if sum(looks[i] == looks[j] for j in shown) == 1]
            chosen = odd[0] if len(odd) == 1 and rng.random() < 0.85 else int(rng.choice(shown))
            rows.append(_row(person, "odd", shown, [chosen], names, rng))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["participant", "dimension", "items", "choice", "response_ms",
                                                    "positions"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def _row(person: str, dimension: str, shown: list[int], chosen: list[int], names: list[str], rng) -> dict:
    return {"participant": person, "dimension": dimension, "items": ";".join(names[i] for i in shown),
            "choice": ";".join(names[i] for i in chosen), "response_ms": int(rng.integers(900, 5000)),
            "positions": ";".join(str(shown.index(i) + 1) for i in chosen)}
