"""A Hugging Face model card: ``huggingface_hub``'s ``ModelCard`` with ``ModelCardData``
metadata, its ``model-index`` holding the expected figures (the held-out games of the
training window) and the realized ones (graded games, with their date range). Building it
fetches nothing and pushes nothing; the CLI also sets ``HF_HUB_OFFLINE`` before it imports
``huggingface_hub``."""

from __future__ import annotations

from collections.abc import Sequence

from huggingface_hub import EvalResult, ModelCardData
from huggingface_hub import ModelCard as HubModelCard

from attribution.card_exports.figures import Figure, Realized
from attribution.model_card.card import ModelCard
from attribution.model_card.interface import PredictionType


def _task(card: ModelCard) -> str:
    if card.prediction_type is PredictionType.OVER_PROBABILITY:
        return "tabular-classification"
    return "tabular-regression"


def _results(
    card: ModelCard, figures: Sequence[Figure], *, dataset: str, split: str
) -> list[EvalResult]:
    """Figures as model-index results; ``verified`` is the Hub's own evaluation: never ours."""
    return [
        EvalResult(
            task_type=_task(card),
            dataset_type=f"{card.system_id or 'unassigned'}-{split}",
            dataset_name=dataset,
            dataset_split=split,
            metric_type=figure.metric,
            metric_name=figure.name,
            metric_value=figure.value,
            verified=False,
        )
        for figure in figures
    ]


def hugging_face_card(
    card: ModelCard, expected: Sequence[Figure], realized: Sequence[Realized]
) -> HubModelCard:
    window = f"{card.training_start_date} to {card.training_end_date}"
    results = _results(
        card,
        expected,
        dataset=f"held-out games, training window {window}",
        split="holdout",
    )
    for part in realized:
        span = f"{part.first_game} to {part.last_game}"
        results += _results(
            card,
            part.figures,
            dataset=f"graded {part.role} predictions, games {span} ({part.basis})",
            split=f"realized-{part.role}",
        )
    data = ModelCardData(
        model_name=card.model_file_name,
        library_name="catboost",
        pipeline_tag=_task(card),
        tags=["catboost", _task(card), f"system:{card.system_id or 'unassigned'}"],
        eval_results=results or None,
        model_attribution={
            "card_id": card.card_id,
            "model_sha256": card.model_sha256,
            "model_uri": card.model_uri,
            "system_id": card.system_id,
            "status": card.status.value,
        },
    )
    return HubModelCard(f"---\n{data.to_yaml()}\n---\n\n{_body(card, expected, realized)}")


def _body(card: ModelCard, expected: Sequence[Figure], realized: Sequence[Realized]) -> str:
    lines = [
        f"# {card.model_file_name}",
        "",
        f"A CatBoost model of system `{card.system_id or 'unassigned'}`: "
        f"{_what_it_predicts(card)}.",
        "",
        "## Model details",
        "",
        f"- card id: `{card.card_id}` ({card.status.value})",
        f"- artifact: `{card.model_uri}`, SHA-256 `{card.model_sha256}`, {card.size_bytes} bytes",
        f"- trained: {card.trained_at or 'not declared'}, on games from "
        f"{card.training_start_date or '?'} to {card.training_end_date or '?'}",
        f"- CatBoost {card.catboost_version or '?'}, loss {card.loss_function or '?'}, "
        f"{card.tree_count} trees",
    ]
    if card.missing_facts:
        lines.append(f"- not declared: {', '.join(card.missing_facts)}")
    if card.features:
        lines += ["", "## Inputs", "", "| # | feature | type |", "|---|---|---|"]
        lines += [f"| {f.index} | `{f.name}` | {f.type.value} |" for f in card.features]
        lines += ["", f"Missing numbers: `nan_mode` {card.nan_mode or '?'}."]
    lines += ["", "## Expected performance (declared in the artifact)", ""]
    lines += [f"- {f.name}: {f.value:g}" for f in expected] or ["- none declared"]
    lines += ["", "## Realized performance", ""]
    if not realized:
        lines.append("No results are graded yet.")
    for part in realized:
        lines += [
            f"As {part.role}, games {part.first_game} to {part.last_game} ({part.basis}):",
            "",
            *(f"- {f.name}: {f.value:g}" for f in part.figures),
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"


def _what_it_predicts(card: ModelCard) -> str:
    if card.prediction_type is PredictionType.OVER_PROBABILITY:
        return "the probability that a player's points go OVER the line"
    if card.prediction_type is PredictionType.POINTS:
        return "a player's points, compared with the line"
    return "an output this product cannot serve"
