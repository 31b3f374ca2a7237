"""Which registered card a REF names, as ``cards show`` and ``cards export`` read it."""

from __future__ import annotations

from attribution.bootstrap import App
from attribution.errors import PermanentError
from attribution.model_card.card import ModelCard

REF_HELP = (
    "card id or model sha256 (or an 8+ char prefix of either), file name, object name or gs:// URI"
)


def registered_card(app: App, reference: str) -> ModelCard:
    """The card REF names: what the registry resolves (card id or sha256, or a prefix of
    either; file name); an object name or gs:// URI is resolved by its file name, and must
    be the card's."""
    if "/" not in reference:
        return app.registry.resolve(reference)
    card = app.registry.resolve(reference.rsplit("/", 1)[-1])
    if card.model_uri == reference or card.model_uri.endswith(f"/{reference.lstrip('/')}"):
        return card
    raise PermanentError(
        "unknown_model",
        f"no card matches model reference {reference!r}: the newest card of that file name "
        f"is for {card.model_uri}",
    )
