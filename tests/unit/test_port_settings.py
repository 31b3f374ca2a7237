"""Per-port settings: ATTRIBUTION_BACKEND presets the three ports; each can be overridden."""

from __future__ import annotations

import pytest

from attribution.config import (
    Backend,
    DuckDBAccess,
    ObjectStoreKind,
    PublisherKind,
    Settings,
    WarehouseKind,
    load_settings,
)


@pytest.mark.parametrize(
    ("backend", "expected"),
    [
        ("embedded", (ObjectStoreKind.LOCAL, WarehouseKind.DUCKDB, PublisherKind.INPROCESS)),
        ("gcp", (ObjectStoreKind.GCS, WarehouseKind.BIGQUERY, PublisherKind.PUBSUB)),
    ],
)
def test_the_backend_presets_every_port(backend: str, expected: tuple[object, ...]) -> None:
    settings = load_settings({"ATTRIBUTION_BACKEND": backend})
    kinds = (settings.object_store_kind, settings.warehouse_kind, settings.publisher_kind)
    assert kinds == expected
    assert settings.duckdb_access is DuckDBAccess.EXCLUSIVE


def test_each_port_can_be_chosen_on_its_own_as_the_local_stack_does() -> None:
    settings = load_settings(
        {
            "OBJECT_STORE": "gcs",
            "WAREHOUSE": "duckdb",
            "DUCKDB_ACCESS": "shared",
            "PUBLISHER": "PubSub",
        }
    )
    assert settings.backend is Backend.EMBEDDED
    assert settings.object_store_kind is ObjectStoreKind.GCS
    assert settings.warehouse_kind is WarehouseKind.DUCKDB
    assert settings.publisher_kind is PublisherKind.PUBSUB
    assert settings.duckdb_access is DuckDBAccess.SHARED
    gcp = load_settings({"ATTRIBUTION_BACKEND": "gcp", "WAREHOUSE": "duckdb"})
    assert (gcp.object_store_kind, gcp.warehouse_kind) == (
        ObjectStoreKind.GCS,
        WarehouseKind.DUCKDB,
    )


def test_settings_built_in_code_follow_the_backend() -> None:
    assert Settings(backend=Backend.GCP).publisher_kind is PublisherKind.PUBSUB
    assert Settings(publisher=PublisherKind.PUBSUB).object_store_kind is ObjectStoreKind.LOCAL


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OBJECT_STORE", "s3"),
        ("WAREHOUSE", "sqlite"),
        ("PUBLISHER", "kafka"),
        ("ATTRIBUTION_BACKEND", "aws"),
        ("DUCKDB_ACCESS", "sometimes"),
    ],
)
def test_an_unknown_choice_names_the_variable_and_the_choices(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=rf"{name}='{value}' must be one of: \w+, \w+"):
        load_settings({name: value})


def test_an_empty_choice_is_the_default() -> None:
    settings = load_settings({"OBJECT_STORE": "", "ATTRIBUTION_BACKEND": ""})
    assert settings.backend is Backend.EMBEDDED
    assert settings.object_store is None
