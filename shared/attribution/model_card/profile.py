"""The training profile a model carries in its own metadata: how its training rows and its
predictions on them were spread, compactly enough to travel inside the artifact.

A numeric feature (and the predictions) keeps the decile edges of its training values, the
share of rows in each bin and the share missing; a categorical feature keeps its most common
categories' shares, the rest's as "other", and the share missing. A batch counts its rows
into the same bins (``count``), so comparing a day with training needs no training data.

Numeric bins are closed on the right: bin 0 is ``x <= edges[0]``, bin i is
``edges[i-1] < x <= edges[i]``, the last value bin ``x > edges[-1]``; then the missing bin.
"""

from __future__ import annotations

import json
import math
from itertools import pairwise
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

PROFILE_VERSION = 1
# The CatBoost metadata key the profile is kept under, as compact JSON.
PROFILE_METADATA_KEY = "training_profile"
MAX_PROFILE_BYTES = 64 * 1024
DECILES = tuple(q / 10 for q in range(1, 10))
MAX_CATEGORIES = 30
# Shares are kept to this many decimals: enough for any distance a day can show.
SHARE_DIGITS = 6
PREDICTION = "prediction"


def shares_of(counts: np.ndarray) -> tuple[float, ...]:
    total = int(counts.sum())
    if total == 0:
        return tuple(0.0 for _ in counts)
    return tuple(round(float(c) / total, SHARE_DIGITS) for c in counts)


class NumericBins(BaseModel):
    """A number's training spread: decile edges, each bin's share, and the share missing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    kind: Literal["numeric"] = "numeric"
    edges: tuple[float, ...]
    shares: tuple[float, ...]
    missing_share: float = Field(ge=0, le=1)

    @field_validator("edges")
    @classmethod
    def _increasing(cls, edges: tuple[float, ...]) -> tuple[float, ...]:
        if not all(math.isfinite(e) for e in edges) or any(
            low >= high for low, high in pairwise(edges)
        ):
            raise ValueError("bin edges are finite numbers in increasing order")
        return edges

    def count(self, values: np.ndarray) -> np.ndarray:
        """How many of ``values`` fall in each bin, the missing bin (NaN) last. Counted as how
        many are at most each edge: one comparison of every value per edge, several times
        faster than a search per value on a profile's few edges."""
        values = np.asarray(values, dtype=np.float64)
        missing = int(np.count_nonzero(np.isnan(values)))
        at_most = [np.count_nonzero(values <= edge) for edge in self.edges]
        counts = np.diff(np.array(at_most, dtype=np.int64), prepend=0, append=len(values) - missing)
        return np.append(counts, missing).astype(np.int64)

    @property
    def reference(self) -> tuple[float, ...]:
        """Training's share of every bin ``count`` returns, in its order."""
        return (*self.shares, self.missing_share)

    @property
    def labels(self) -> tuple[str, ...]:
        edges = [f"{e:.6g}" for e in self.edges]
        if not edges:
            return ("any value", "missing")
        middle = [f"({low}, {high}]" for low, high in pairwise(edges)]
        return (f"<= {edges[0]}", *middle, f"> {edges[-1]}", "missing")


class CategoryShares(BaseModel):
    """A category's training spread: the commonest categories' shares, the rest's as one
    share, and the share missing (absent, blank, or the model's missing-category token).
    Its bins, as a batch counts them (``batches.profile_counts``): each category, then
    other, then missing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    kind: Literal["categorical"] = "categorical"
    categories: tuple[str, ...]
    shares: tuple[float, ...]
    other_share: float = Field(ge=0, le=1)
    missing_share: float = Field(ge=0, le=1)

    @property
    def reference(self) -> tuple[float, ...]:
        return (*self.shares, self.other_share, self.missing_share)

    @property
    def labels(self) -> tuple[str, ...]:
        return (*self.categories, "other", "missing")

    @property
    def complete(self) -> bool:
        """Every training category is listed: a category not listed was never seen."""
        return self.other_share == 0


FeatureProfile = Annotated[NumericBins | CategoryShares, Field(discriminator="kind")]


class TrainingProfile(BaseModel):
    """What a model's training rows and its predictions on them looked like."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = PROFILE_VERSION
    rows: int = Field(ge=0)
    features: tuple[FeatureProfile, ...]
    prediction: NumericBins | None = None

    def compact_json(self) -> str:
        return json.dumps(
            self.model_dump(mode="json"), separators=(",", ":"), sort_keys=True, allow_nan=False
        )

    def feature(self, name: str) -> NumericBins | CategoryShares | None:
        return next((f for f in self.features if f.name == name), None)


class ProfileError(ValueError):
    """A profile that cannot be kept in a model, and why."""


def check_size(profile: TrainingProfile) -> str:
    """The profile's compact JSON, or ProfileError when it is over ``MAX_PROFILE_BYTES``."""
    text = profile.compact_json()
    size = len(text.encode("utf-8"))
    if size > MAX_PROFILE_BYTES:
        widest = max(profile.features, key=lambda f: len(f.model_dump_json()), default=None)
        hint = f"; the largest is feature {widest.name}" if widest is not None else ""
        raise ProfileError(
            f"the training profile is {size} bytes, over the {MAX_PROFILE_BYTES}-byte limit "
            f"({len(profile.features)} features profiled{hint})"
        )
    return text


def parse_profile(text: str) -> TrainingProfile:
    """A profile from the metadata's JSON; ProfileError says what is wrong with it."""
    if len(text.encode("utf-8")) > MAX_PROFILE_BYTES:
        raise ProfileError(f"the training profile is over the {MAX_PROFILE_BYTES}-byte limit")
    try:
        profile = TrainingProfile.model_validate_json(text)
    except ValueError as exc:
        first = exc.errors()[0] if hasattr(exc, "errors") else {"msg": str(exc), "loc": ()}
        where = ".".join(str(p) for p in first.get("loc", ())) or "profile"
        raise ProfileError(f"the training profile is not valid: {where}: {first['msg']}") from None
    if profile.version != PROFILE_VERSION:
        raise ProfileError(
            f"the training profile has version {profile.version}; this release reads "
            f"version {PROFILE_VERSION}"
        )
    return profile


def numeric_bins(name: str, values: np.ndarray) -> NumericBins:
    """Decile bins of ``values`` (NaN is missing)."""
    values = np.asarray(values, dtype=np.float64)
    present = values[~np.isnan(values)]
    deciles = np.unique(np.quantile(present, DECILES)) if len(present) else ()
    edges = tuple(float(e) for e in deciles)
    bins = NumericBins(name=name, edges=edges, shares=(), missing_share=0.0)
    shares = shares_of(bins.count(values))
    return bins.model_copy(update={"shares": shares[:-1], "missing_share": shares[-1]})
