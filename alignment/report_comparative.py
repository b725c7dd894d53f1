"""The report's comparative sections: one per pairwise, best_worst or triplet dimension, under the
report's top-level `comparative` key (docs/report-schema.md).

From `loader.comparative_rows` (no query here): the people's Bradley–Terry scores with bootstrap
intervals (pairwise, best–worst), their consistency on repeated trials, split-half reliability, the
trial noise ceiling and, per model, its agreement with the others' majority on the same trials
(one dot among the people), Spearman between its scores and the people's, and representational
similarity: for triplets, the people's dissimilarity 1 − S (S: how often two artworks were judged
the alike pair) against 1 − cosine of the model's embeddings (or of its aspect probabilities);
for pairwise and best–worst, |θᵢ − θⱼ| against |sᵢ − sⱼ|.
"""
from __future__ import annotations

import hashlib
import json
from collections import defaultdict

import numpy as np

from .stats.comparative import (
    bradley_terry_bootstrap,
    bt_split_half,
    cosine_dissimilarity,
    model_answer,
    repeat_consistency,
    rsa,
    spearman_with_replicates,
    trial_noise_ceiling,
    triplet_similarity,
)


def _answer(choice) -> int | tuple[int, int]:
    return (int(choice[0]), int(choice[1])) if isinstance(choice, list) else int(choice)


def _model_vectors(dim, rows: dict, artworks: list[int]) -> dict[str, np.ndarray]:
    """Model name -> per-artwork vector (n, d) or scores (n,), NaN rows where the model has none."""
    index = {a: i for i, a in enumerate(artworks)}
    found: dict[str, dict[int, np.ndarray]] = defaultdict(dict)
    for p in rows["predictions"]:
        if p["dimension_id"] != dim.pk or p["artwork_id"] not in index:
            continue
        if dim.kind == "triplet":
            if p["probs"]:
                found[f"{p['model_name']} ({dim.extra.get('aspect') or 'prompts'})"][p["artwork_id"]] = \
                    np.array([p["probs"][label] for label in dim.labels], dtype=float)
        elif p["expected"] is not None:
            found[p["model_name"]][p["artwork_id"]] = np.array(p["expected"], dtype=float)
    if dim.kind == "triplet":
        for e in rows["embeddings"]:
            if e["artwork_id"] in index:
                found[e["model_name"]].setdefault(e["artwork_id"], np.asarray(e["vector"], dtype=float))
    vectors = {}
    for name, by_artwork in sorted(found.items()):
        if len(by_artwork) < len(artworks):
            continue  # a model must have answered every artwork of the trials to answer them
        vectors[name] = np.stack([by_artwork[a] for a in artworks])
    return vectors


def comparative_section(dim, answers: list[dict], rows: dict, n_boot: int, seed: int) -> dict:
    """One comparative dimension's section (module docstring); `answers` are its, people excluded."""
    artworks = sorted({int(i) for a in answers for i in a["items"]})
    index = {a: i for i, a in enumerate(artworks)}
    n = len(artworks)
    first = [a for a in answers if a["repeat"] == 0]
    trials = [([index[i] for i in a["items"]], _indexed(a["choice"], index)) for a in first]
    people = [a["participant_id"] for a in first]
    section: dict = {"kind": dim.kind, "question": dim.question, "aspect": dim.extra.get("aspect", ""),
                     "n_answers": len(answers), "n_trials": len({a["trial_id"] for a in first}),
                     "n_participants": len(set(people)), "n_artworks": n,
                     "artworks": [rows["external_ids"][a] for a in artworks],
                     "answers_sha256": answers_sha256(answers, rows)}
    consistency = repeat_consistency([a["participant_id"] for a in answers], [a["trial_id"] for a in answers],
                                     [a["repeat"] for a in answers], [_answer(a["choice"]) for a in answers])
    humans: dict = {"consistency": {k: v for k, v in consistency.items() if k != "per_person"}}
    ceiling = trial_noise_ceiling(people, [a["trial_id"] for a in first], [_answer(a["choice"]) for a in first])
    humans["noise_ceiling"] = {"value": ceiling["ceiling"], "people": sorted(ceiling["people"].values())}
    fit = None
    if dim.kind != "triplet" and n >= 2:
        fit = bradley_terry_bootstrap(dim.kind, trials, n, n_boot=n_boot, seed=seed)
        humans["scores"] = [{"artwork": rows["external_ids"][a], "theta": float(fit["theta"][i]),
                             "ci": [float(x) for x in fit["ci"][i]]} for i, a in enumerate(artworks)]
        humans["split_half"] = bt_split_half(dim.kind, people, trials, n, n_splits=50, seed=seed)
        human_d = np.abs(fit["theta"][:, None] - fit["theta"][None, :])
    else:
        similarity = triplet_similarity(trials, n)
        human_d = 1.0 - similarity
        upper = np.triu_indices(n, k=1)
        humans["similarity"] = {"pairs_seen": int(np.isfinite(similarity[upper]).sum()), "pairs": int(len(upper[0]))}
    section["humans"] = humans
    models = {}
    for name, vectors in _model_vectors(dim, rows, artworks).items():
        model_answers = {}
        for a in first:
            items = [index[i] for i in a["items"]]
            answer = (model_answer(dim.kind, items, scores=vectors) if vectors.ndim == 1
                      else model_answer(dim.kind, items, embeddings=vectors))
            model_answers[a["trial_id"]] = _artwork_answer(answer, artworks)
        agreement = trial_noise_ceiling(people, [a["trial_id"] for a in first], [_answer(a["choice"]) for a in first],
                                        model_answers)
        entry: dict = {"trial_agreement": {"value": agreement["model"], "ceiling": agreement["ceiling"],
                                           "percentile": agreement["ranking"]["percentile"],
                                           "rank": agreement["ranking"]["rank"],
                                           "n_people": agreement["ranking"]["n_raters"]}}
        if vectors.ndim == 1:
            model_d = np.abs(vectors[:, None] - vectors[None, :])
            if fit is not None:
                entry["spearman"] = spearman_with_replicates(fit["theta"], fit["replicates"], vectors)
        else:
            model_d = cosine_dissimilarity(vectors)
        entry["rsa"] = rsa(human_d, model_d, n_boot=n_boot, seed=seed)
        models[name] = entry
    section["models"] = models
    return section


def answers_sha256(answers: list[dict], rows: dict) -> str:
    """sha256 of the answers a section used, by external ids (participant, items in screen order,
    choice, repeat), sorted: the same answers give the same hash in any database."""
    ext, people = rows["external_ids"], rows["participant_ids"]
    lines = sorted(json.dumps([people[a["participant_id"]], [ext[i] for i in a["items"]],
                               [ext[c] for c in a["choice"]] if isinstance(a["choice"], list) else ext[a["choice"]],
                               a["repeat"]], ensure_ascii=False) for a in answers)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def _indexed(choice, index: dict[int, int]):
    return (index[int(choice[0])], index[int(choice[1])]) if isinstance(choice, list) else index[int(choice)]


def _artwork_answer(answer, artworks: list[int]):
    """A model's answer in artwork ids (as people's are stored) from artwork indices."""
    return (artworks[answer[0]], artworks[answer[1]]) if isinstance(answer, tuple) else artworks[answer]


def comparative_sections(rows: dict, excluded: set[int], n_boot: int, seed: int) -> dict:
    """Dimension key -> section, for the study's comparative dimensions that have answers."""
    sections = {}
    for dim in rows["dimensions"]:
        answers = [a for a in rows["answers"]
                   if a["trial__dimension_id"] == dim.pk and a["participant_id"] not in excluded]
        if answers:
            sections[dim.key] = comparative_section(dim, answers, rows, n_boot, seed)
    return sections
