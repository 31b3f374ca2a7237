"""OpenLineage events held to the published schemas, offline.

The schemas are vendored in ``tests/data/openlineage`` (its README names their sources) and
held in a ``referencing`` registry under their ``$id``s, with our own custom facet's schema,
so no ``$ref`` is ever fetched. ``check_event``
validates an event (a dict, as the transports serialise it) against the ``RunEvent``
definition and every facet it carries against its facet schema; a facet no schema describes
is an error, not a pass.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from uuid import UUID

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from attribution.package_folders import schemas_dir

DATA = Path(__file__).resolve().parent / "data" / "openlineage"
CORE = "https://openlineage.io/spec/{}/OpenLineage.json"
NEWEST_CORE = "2-0-7"
# Core versions the facets refer to that are not vendored as such (see the README).
CORE_ALIASES = ("1-0-2", "2-0-2")
EMITTED_CORE = CORE.format("2-0-2") + "#/$defs/RunEvent"

# Which part of an event each facet file describes.
FACET_FILES = {
    "dataset": (
        DATA / "facets" / "DatasetVersionDatasetFacet.json",
        DATA / "facets" / "DatasetTypeDatasetFacet.json",
        schemas_dir() / "openlineage" / "ModelCardDatasetFacet.json",
    ),
    "output": (DATA / "facets" / "OutputStatisticsOutputDatasetFacet.json",),
    "run": (DATA / "facets" / "ErrorMessageRunFacet.json", DATA / "facets" / "TagsRunFacet.json"),
    "job": (DATA / "facets" / "JobTypeJobFacet.json",),
}


def _load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text())
    return document


@cache
def registry() -> Registry:
    documents = [_load(p) for p in sorted(DATA.rglob("*.json"))]
    documents += [_load(schemas_dir() / "openlineage" / "ModelCardDatasetFacet.json")]
    pairs = [(d["$id"], Resource.from_contents(d)) for d in documents]
    newest = Resource.from_contents(_load(DATA / f"OpenLineage-{NEWEST_CORE}.json"))
    pairs += [(CORE.format(version), newest) for version in CORE_ALIASES]
    return Registry().with_resources(pairs)


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(
        schema, registry=registry(), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


@dataclass(frozen=True)
class _FacetSchemas:
    names: frozenset[str]
    validators: tuple[Draft202012Validator, ...]


@cache
def _facet_schemas(kind: str) -> _FacetSchemas:
    documents = [_load(path) for path in FACET_FILES[kind]]
    names = frozenset(name for d in documents for name in d["properties"])
    return _FacetSchemas(names, tuple(_validator(d) for d in documents))


def _check_facets(kind: str, facets: dict[str, Any] | None, where: str) -> None:
    if not facets:
        return
    known = _facet_schemas(kind)
    unknown = sorted(set(facets) - known.names)
    assert not unknown, f"{where}: facets no vendored schema describes: {unknown}"
    for validator in known.validators:
        validator.validate(facets)


def check_event(event: dict[str, Any]) -> None:
    """Raise (jsonschema.ValidationError or AssertionError) unless ``event`` is a valid
    OpenLineage RunEvent whose every facet is valid."""
    assert event["schemaURL"] == EMITTED_CORE, event["schemaURL"]
    _validator({"$ref": CORE.format(NEWEST_CORE) + "#/$defs/RunEvent"}).validate(event)
    UUID(event["run"]["runId"])  # the core says "format": "uuid"; checked without a plugin
    _check_facets("run", event["run"].get("facets"), "run")
    _check_facets("job", event["job"].get("facets"), "job")
    for dataset in [*event.get("inputs", []), *event.get("outputs", [])]:
        where = f"{dataset['namespace']}/{dataset['name']}"
        _check_facets("dataset", dataset.get("facets"), where)
        assert not dataset.get("inputFacets"), f"{where}: input facets none vendored describes"
    for dataset in event.get("outputs", []):
        _check_facets("output", dataset.get("outputFacets"), dataset["name"])


def read_events(path: Path) -> list[dict[str, Any]]:
    """The events a file transport (append mode) wrote: one JSON object a line."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
