"""A model artifact as lineage sees it, and a card's publication as a run.

The artifact is a dataset of type ``MODEL`` at its object (``gs://<bucket>``, the object
path), versioned by its SHA-256, with its card as a facet: which data (the training window),
code (CatBoost's version, the loss) and parameters made it. Run ids are derived from what
the run is about (``run_id``), so the same run always has the same id: a redelivery names
the run it repeats and starts no other.
"""

from __future__ import annotations

from uuid import UUID, uuid5

from attribution.clock import now_utc
from attribution.model_card.card import ModelCard
from attribution.ports import LineageEmitter, LineageRun, ObjectDataset, RunState

# The namespace of this product's run ids (uuid5 of a job's name and what the run is about).
RUN_IDS = UUID("6f0c7f4e-2f57-5a39-9b53-0f3c1f6a2d10")
PUBLICATION_JOB = "model_card_publication"


def run_id(job: str, subject: str) -> UUID:
    """The id of the run of ``job`` about ``subject`` (a batch id, a model's bytes)."""
    return uuid5(RUN_IDS, f"{job}/{subject}")


def model_dataset(card: ModelCard) -> ObjectDataset:
    return ObjectDataset(
        uri=card.model_uri, kind="MODEL", version=card.model_sha256, card=card.to_document()
    )


def publication_job(card: ModelCard) -> str:
    return f"{PUBLICATION_JOB}.{card.system_id or '_unassigned'}"


class PublicationLineage:
    """A card's publication: the model artifact in, the card object out."""

    def __init__(self, emitter: LineageEmitter | None) -> None:
        self.emitter = emitter

    def published(self, card: ModelCard, card_uri: str) -> None:
        if self.emitter is None:
            return
        job = publication_job(card)
        ids = run_id(job, f"{card.model_uri}@{card.model_sha256}")
        inputs = (model_dataset(card),)
        for state in (RunState.START, RunState.COMPLETE):
            outputs = (ObjectDataset(uri=card_uri),) if state is RunState.COMPLETE else ()
            self.emitter.emit(LineageRun(job, ids, state, now_utc(), inputs, outputs))
