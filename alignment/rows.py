"""The rows a report is computed from, as the loader (`alignment.loader`) reads them: plain dicts
with the fields named below (TypedDicts, so a reader and a type checker see them), no model
instances. Types only: no Django, no queries.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypedDict

ARTWORK_STRATA = ("origin", "style", "period", "generator")  # the artwork fields a report stratifies by


class ArtworkRow(TypedDict):
    id: int
    external_id: str
    metadata: Any  # a dict as imported (anything else counts as no metadata)
    origin: str
    style: str
    period: str
    generator: str


class ParticipantRow(TypedDict):
    id: int
    external_id: str
    expertise: dict  # {} where none was stored
    excluded: bool
    exclusion_reason: str


class JudgementRow(TypedDict):
    participant_id: int
    artwork_id: int
    dimension_id: int
    session_id: int | None
    value: Any
    response_ms: int | None
    created_at: datetime  # when it was answered (or imported): the order of a participant's artworks


class ExpertRow(TypedDict):
    artwork_id: int
    dimension_id: int
    value: Any
    is_gold: bool


class PredictionRow(TypedDict):
    artwork_id: int
    dimension_id: int
    model_name: str
    revision: str
    method: str
    probs: Any
    label: Any
    expected: float | None
    prompts_hash: str
    run_id: int | None
    source_id: int | None  # the PredictionImport of an imported prediction
    probe_id: int | None  # the StoredProbe of a transfer prediction
    by_template: dict  # zero-shot: each prompt template's own answer (report_prompts)
    model_key: str  # the model's name in the report (see `loader.model_key`)


class CheckRow(TypedDict):
    participant_id: int
    kind: str
    passed: bool


@dataclass(frozen=True)
class StudyRows:
    """Everything of one study that a report reads, loaded once.

    models: model key -> what it is (model_name, revision, method, prompts_hash, is_stand_in,
        n_predictions), in key order; the report prints it beside each model's figures.
    """

    artworks: dict[int, ArtworkRow]
    participants: dict[int, ParticipantRow]
    judgements: list[JudgementRow]
    experts: list[ExpertRow]
    predictions: list[PredictionRow]
    attention_checks: list[CheckRow]
    models: dict[str, dict]

    def without(self, excluded: set[int]) -> StudyRows:
        """The same rows less the judgements of the excluded participants."""
        return replace(self, judgements=[j for j in self.judgements if j["participant_id"] not in excluded])
