"""Build a model card from an artifact's bytes and its object's metadata.

Declared facts come from CatBoost model metadata first, then the object's custom
metadata, then CatBoost's own ``train_finish_time`` for ``trained_at``. Where two
sources disagree, the card records the conflict and which source won.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from attribution.errors import PermanentError
from attribution.limits import (
    SYSTEM_ID_PATTERN,
    SYSTEM_ID_RULE,
    shown_value,
    trained_at_problem,
)
from attribution.model_card.card import (
    DECLARED_FACTS,
    OPTIONAL_FACTS,
    CardStatus,
    FactConflict,
    FactSource,
    ModelCard,
    required_facts,
    seal,
)
from attribution.model_card.interface import ModelInterface
from attribution.model_card.interface_reading import interface_of
from attribution.model_card.profile import (
    PROFILE_METADATA_KEY,
    ProfileError,
    TrainingProfile,
    parse_profile,
)
from attribution.objects import StoredObject

CATBOOST_MAGIC = b"CBM1"
_VERSION_PATTERN = re.compile(r"tags/v?(\d+\.\d+(?:\.\d+)?)")


@dataclass(frozen=True)
class LoadedModel:
    """The intrinsic facts CatBoost itself reports about a loaded model."""

    metadata: dict[str, str]
    catboost_version: str | None
    loss_function: str | None
    tree_count: int
    feature_names: tuple[str, ...]
    params: dict[str, Any]
    interface: ModelInterface


def parse_date(raw: str, *, fact: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise PermanentError(
            "bad_metadata", f"{fact}={raw!r} is not a date (expected YYYY-MM-DD)"
        ) from None


def parse_timestamp(raw: str, *, fact: str) -> datetime:
    text = raw.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise PermanentError(
            "bad_metadata", f"{fact}={raw!r} is not a timestamp (expected RFC 3339)"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_number(raw: str, *, fact: str, low: float, high: float) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise PermanentError("bad_metadata", f"{fact}={raw!r} is not a number") from None
    if not low <= value <= high:
        raise PermanentError("bad_metadata", f"{fact}={raw!r} is outside [{low:g}, {high:g}]")
    return value


def parse_fact(fact: str, raw: str) -> Any:
    """Turn one declared fact's string into its typed value, or raise a clear error."""
    if fact == "system_id":
        value = raw.strip()
        if not re.fullmatch(SYSTEM_ID_PATTERN, value):
            raise PermanentError(
                "bad_metadata", f"system_id={shown_value(raw)} must be {SYSTEM_ID_RULE}"
            )
        return value
    if fact in ("training_start_date", "training_end_date"):
        return parse_date(raw, fact=fact)
    if fact == "expected_mae":
        return parse_number(raw, fact=fact, low=0.0, high=1e6)
    if fact == "expected_hit_rate":
        return parse_number(raw, fact=fact, low=0.0, high=100.0)
    if fact == "trained_at":
        return parse_timestamp(raw, fact=fact)
    if fact == "expected_brier_score":
        return parse_number(raw, fact=fact, low=0.0, high=1.0)
    if fact == "expected_log_loss":
        return parse_number(raw, fact=fact, low=0.0, high=1e6)
    raise KeyError(fact)


def load_catboost(data: bytes) -> LoadedModel:
    from catboost import CatBoost, CatBoostError

    if not data.startswith(CATBOOST_MAGIC):
        raise PermanentError("not_catboost", "the file is not a CatBoost binary model (.cbm)")
    _check_length(data)
    model = CatBoost()
    try:
        model.load_model(blob=data)
    except CatBoostError as exc:
        raise PermanentError("corrupt_model", f"CatBoost could not load the file: {exc}") from None
    metadata = {str(k): str(v) for k, v in model.get_metadata().items()}
    params = _training_params(metadata)
    return LoadedModel(
        metadata=metadata,
        catboost_version=_catboost_version(metadata),
        loss_function=_loss_function(params, metadata),
        tree_count=int(model.tree_count_ or 0),
        feature_names=tuple(str(n) for n in (model.feature_names_ or ())),
        params=params,
        interface=interface_of(model, metadata),
    )


# The parts that may follow a model's core, as the core names them: CatBoost's tables for
# categorical features (CTRs), and its text and embedding processing.
_CTR_PART = b"static_provider_v1"
# In the core's flatbuffer (TModelCore), the field that lists those parts.
_MODEL_PART_IDS_FIELD = 3


def _check_length(data: bytes) -> None:
    """Refuse a file shorter or longer than its own structure says: CatBoost loads some
    truncations silently, and crashes the process on others (a model whose categorical
    tables are cut short).

    A .cbm starts with ``CBM1`` and the little-endian uint32 size of the model core that
    follows; the core lists the parts written after it. Categorical tables (CTRs) are a
    uint32 count, then that many tables, each a uint32 size and that many bytes. A model
    with no parts ends with its core; one whose only part is its CTRs ends with them. (Text
    and embedding parts have layouts of their own, and are not measured here.)
    """
    header = len(CATBOOST_MAGIC) + 4
    if len(data) < header:
        raise PermanentError("corrupt_model", f"the file is truncated: {len(data)} bytes")
    core = int.from_bytes(data[len(CATBOOST_MAGIC) : header], "little")
    end_of_core = header + core
    if len(data) < end_of_core:
        raise PermanentError(
            "corrupt_model",
            f"the file is truncated: {len(data)} bytes, but its header declares a "
            f"{core}-byte model core after the {header}-byte header",
        )
    parts = _model_part_ids(memoryview(data)[header:end_of_core])
    if parts is None:
        return  # an unreadable core: CatBoost's own verification says what is wrong
    if not parts:
        end, exact = end_of_core, True
    elif parts[0] == _CTR_PART:
        end, exact = _ctr_tables_end(data, end_of_core), len(parts) == 1
    else:
        return
    if end > len(data):
        raise PermanentError(
            "corrupt_model",
            f"the file is truncated: {len(data)} bytes, but its categorical feature tables "
            f"end at byte {end}",
        )
    if exact and end < len(data):
        raise PermanentError(
            "corrupt_model",
            f"the file has {len(data) - end} bytes after the end of the model (byte {end}): "
            "it is not the file CatBoost wrote",
        )


def _ctr_tables_end(data: bytes, start: int) -> int:
    """Where the CTR tables starting at ``start`` end (past the file's end if cut short)."""
    if len(data) < start + 4:
        return start + 4
    count = int.from_bytes(data[start : start + 4], "little")
    offset = start + 4
    for _ in range(count):
        if len(data) < offset + 4:
            return offset + 4
        offset += 4 + int.from_bytes(data[offset : offset + 4], "little")
    return offset


def _model_part_ids(core: memoryview) -> list[bytes] | None:
    """The part ids a model core lists (its flatbuffer's ModelPartIds), or None if the core
    cannot be read that far."""
    try:
        root = int.from_bytes(core[0:4], "little")
        vtable = root - int.from_bytes(core[root : root + 4], "little", signed=True)
        vtable_size = int.from_bytes(core[vtable : vtable + 2], "little")
        slot = vtable + 4 + 2 * _MODEL_PART_IDS_FIELD
        if slot + 2 > vtable + vtable_size:
            return []
        field = int.from_bytes(core[slot : slot + 2], "little")
        if field == 0:
            return []
        position = root + field
        vector = position + int.from_bytes(core[position : position + 4], "little")
        count = int.from_bytes(core[vector : vector + 4], "little")
        if vector + 4 + 4 * count > len(core):
            return None
        ids: list[bytes] = []
        for index in range(count):
            at = vector + 4 + 4 * index
            text = at + int.from_bytes(core[at : at + 4], "little")
            length = int.from_bytes(core[text : text + 4], "little")
            if text + 4 + length > len(core):
                return None
            ids.append(bytes(core[text + 4 : text + 4 + length]).rstrip(b"\0"))
        return ids
    except (IndexError, ValueError):
        return None


def _training_params(metadata: Mapping[str, str]) -> dict[str, Any]:
    try:
        params = json.loads(metadata.get("params", "{}"))
    except json.JSONDecodeError:
        return {}
    flat = params.get("flat_params") if isinstance(params, dict) else None
    return dict(flat) if isinstance(flat, dict) else {}


def _catboost_version(metadata: Mapping[str, str]) -> str | None:
    match = _VERSION_PATTERN.search(metadata.get("catboost_version_info", ""))
    return match.group(1) if match else None


def _loss_function(params: Mapping[str, Any], metadata: Mapping[str, str]) -> str | None:
    if isinstance(params.get("loss_function"), str):
        return str(params["loss_function"])
    try:
        full = json.loads(metadata.get("params", "{}"))
        return str(full["loss_function"]["type"])
    except (json.JSONDecodeError, KeyError, TypeError):
        return None


@dataclass(frozen=True)
class DeclaredFacts:
    values: dict[str, Any]
    sources: dict[str, FactSource]
    conflicts: tuple[FactConflict, ...]


def resolve_declared_facts(
    catboost_metadata: Mapping[str, str], object_metadata: Mapping[str, str]
) -> DeclaredFacts:
    values: dict[str, Any] = {}
    sources: dict[str, FactSource] = {}
    conflicts: list[FactConflict] = []
    for fact in (*DECLARED_FACTS, *OPTIONAL_FACTS):
        candidates: list[tuple[FactSource, str, Any]] = []
        for source, raw in (
            (FactSource.CATBOOST_METADATA, catboost_metadata.get(fact)),
            (FactSource.OBJECT_METADATA, object_metadata.get(fact)),
        ):
            if raw is not None and raw.strip():
                candidates.append((source, raw, parse_fact(fact, raw)))
        if fact == "trained_at" and "train_finish_time" in catboost_metadata:
            raw = catboost_metadata["train_finish_time"]
            candidates.append(
                (FactSource.CATBOOST_TRAIN_FINISH_TIME, raw, parse_fact("trained_at", raw))
            )
        if not candidates:
            continue
        chosen_source, _, chosen_value = candidates[0]
        values[fact] = chosen_value
        sources[fact] = chosen_source
        declared = [c for c in candidates if c[0] is not FactSource.CATBOOST_TRAIN_FINISH_TIME]
        if len({c[2] for c in declared}) > 1:
            conflicts.append(
                FactConflict.model_validate(
                    {"fact": fact, "chosen": chosen_source} | {c[0].value: c[1] for c in declared}
                )
            )
    return DeclaredFacts(values=values, sources=sources, conflicts=tuple(conflicts))


def extract_card(
    data: bytes,
    obj: StoredObject,
    *,
    max_bytes: int,
    loader: Callable[[bytes], LoadedModel] = load_catboost,
    now: datetime | None = None,
) -> ModelCard:
    """Build the sealed card for ``data`` stored as ``obj``; raise PermanentError if it is bad.

    The card's md5 is the one the object store reports (GCS computes it on upload and the
    finalize event carries it), so a card costs one SHA-256 and one CatBoost load. A
    ``trained_at`` before the training window ends, or in the future (``now``, default the
    clock, beyond ``attribution.limits.TRAINED_AT_CLOCK_SKEW``), is refused.
    """
    where = obj.uri
    # Every reason starts "<uri>: ": `attribution upload` cuts that off and names the local
    # file it refuses instead, since the object is never written.
    if len(data) == 0:
        raise PermanentError("empty_file", f"{where}: the file is empty (0 bytes)")
    if len(data) > max_bytes:
        raise PermanentError(
            "too_large",
            f"{where}: the file is {len(data)} bytes, over the {max_bytes}-byte limit",
        )
    try:
        loaded = loader(data)
        facts = resolve_declared_facts(loaded.metadata, obj.metadata)
        profile = _training_profile(loaded)
    except PermanentError as exc:
        raise PermanentError(exc.code, f"{where}: {exc.message}") from None
    _check_plausible(facts, now or datetime.now(UTC), where=where)
    sha256 = hashlib.sha256(data).hexdigest()
    interface = loaded.interface
    missing = tuple(f for f in required_facts(interface.prediction_type) if f not in facts.values)
    try:
        card = ModelCard(
            system_id=facts.values.get("system_id"),
            model_file_name=obj.file_name,
            model_uri=obj.uri,
            model_generation=obj.generation,
            model_sha256=sha256,
            model_md5=obj.md5_hex,
            size_bytes=len(data),
            training_start_date=facts.values.get("training_start_date"),
            training_end_date=facts.values.get("training_end_date"),
            expected_mae=facts.values.get("expected_mae"),
            expected_hit_rate=facts.values.get("expected_hit_rate"),
            trained_at=facts.values.get("trained_at"),
            uploaded_at=obj.time_created,
            expected_brier_score=facts.values.get("expected_brier_score"),
            expected_log_loss=facts.values.get("expected_log_loss"),
            catboost_version=loaded.catboost_version,
            loss_function=loaded.loss_function,
            tree_count=loaded.tree_count,
            feature_names=loaded.feature_names,
            params=loaded.params,
            status=CardStatus.INCOMPLETE if missing else CardStatus.COMPLETE,
            missing_facts=missing,
            fact_sources=facts.sources,
            conflicts=facts.conflicts,
            training_profile=profile,
            **dict(interface),
        )
    except ValueError as exc:
        raise PermanentError("bad_metadata", f"{where}: {_first_error(exc)}") from None
    return seal(card)


def _training_profile(loaded: LoadedModel) -> TrainingProfile | None:
    """The profile the model carries, if any; one that is unreadable, or that names a feature
    the model does not have, is refused."""
    text = loaded.metadata.get(PROFILE_METADATA_KEY)
    if text is None:
        return None
    try:
        profile = parse_profile(text)
    except ProfileError as exc:
        raise PermanentError("bad_profile", str(exc)) from None
    known = set(loaded.feature_names)
    strangers = [f.name for f in profile.features if f.name not in known]
    if strangers:
        raise PermanentError(
            "bad_profile",
            f"the training profile names feature(s) the model does not have: "
            f"{', '.join(strangers)} (profile the model with the data it was trained on)",
        )
    return profile


def _check_plausible(facts: DeclaredFacts, now: datetime, *, where: str) -> None:
    """Refuse declared facts that cannot all be true: a model trained before its training
    window ended, or trained in the future."""
    trained_at = facts.values.get("trained_at")
    if trained_at is None:
        return
    problem = trained_at_problem(trained_at, facts.values.get("training_end_date"), now)
    if problem is not None:
        source = facts.sources["trained_at"].value.replace("_", " ")
        raise PermanentError("bad_metadata", f"{where}: {problem} (trained_at from {source})")


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        location = ".".join(str(p) for p in first.get("loc", ())) or "card"
        return f"{location}: {first.get('msg', exc)}".replace("Value error, ", "")
    return str(exc)
