"""GcsStore against gcp-storage-emulator: the ObjectStore contract on a real GCS API."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from attribution.adapters.google_cloud.gcs_store import GcsStore
from attribution.errors import PermanentError

pytestmark = pytest.mark.emulator


@pytest.fixture
def store(gcs_bucket: str, gcp_project: str) -> GcsStore:
    return GcsStore(gcs_bucket, project=gcp_project)


def test_write_then_read_and_stat_round_trip(store: GcsStore) -> None:
    data = b"\x00model bytes\xff" * 100
    written = store.write(
        "models/catboost_v9.cbm",
        data,
        metadata={"system_id": "catboost_v9", "trained_at": "2026-02-01T10:00:00Z"},
    )

    assert store.read("models/catboost_v9.cbm") == data
    stat = store.stat("models/catboost_v9.cbm")
    assert stat == written
    assert stat.bucket == store.bucket
    assert stat.uri == f"gs://{store.bucket}/models/catboost_v9.cbm"
    assert stat.size == len(data)
    assert stat.md5_hex == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert stat.content_type == "application/octet-stream"
    assert stat.metadata == {"system_id": "catboost_v9", "trained_at": "2026-02-01T10:00:00Z"}
    assert stat.generation is not None and stat.generation.isdigit()
    assert stat.time_created is not None
    assert abs(stat.time_created - datetime.now(UTC)) < timedelta(minutes=5)


def test_rewrite_makes_a_new_generation(store: GcsStore) -> None:
    first = store.write("cards/x.json", b"{}", content_type="application/json")
    second = store.write("cards/x.json", b'{"a":1}', content_type="application/json")

    assert first.generation != second.generation
    assert second.md5_hex == hashlib.md5(b'{"a":1}', usedforsecurity=False).hexdigest()
    assert store.stat("cards/x.json") == second
    assert store.read("cards/x.json") == b'{"a":1}'
    assert second.content_type == "application/json"
    assert second.metadata == {}


def test_list_filters_by_prefix(store: GcsStore) -> None:
    for name in ("models/a.cbm", "models/b.cbm", "models-old/c.cbm", "cards/s/d.json"):
        store.write(name, name.encode())

    assert [o.name for o in store.list("models/")] == ["models/a.cbm", "models/b.cbm"]
    everything = list(store.list())
    assert [o.name for o in everything] == [
        "cards/s/d.json",
        "models-old/c.cbm",
        "models/a.cbm",
        "models/b.cbm",
    ]
    assert all(o.md5_hex == hashlib.md5(o.name.encode()).hexdigest() for o in everything)
    assert list(store.list("nothing-here/")) == []


def test_missing_object_is_a_permanent_error_naming_it(store: GcsStore) -> None:
    assert store.stat("models/missing.cbm") is None
    with pytest.raises(PermanentError) as caught:
        store.read("models/missing.cbm")
    assert caught.value.code == "object_not_found"
    assert f"gs://{store.bucket}/models/missing.cbm" in caught.value.message


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("", "bad_object_name"),
        ("/etc/passwd", "unsafe_object_name"),
        ("models/../secrets", "unsafe_object_name"),
        ("a\\b", "unsafe_object_name"),
    ],
)
def test_unsafe_names_are_refused_before_any_request(store: GcsStore, name: str, code: str) -> None:
    with pytest.raises(PermanentError) as caught:
        store.write(name, b"x")
    assert caught.value.code == code
