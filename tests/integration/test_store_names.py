"""Every object store holds names to the rules GCS applies; the local bucket folder refuses
any path that resolves outside it, symlinks included. On the real folder and the GCS emulator.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from attribution.adapters.embedded.local_bucket import LocalBucket
from attribution.adapters.google_cloud.gcs_store import GcsStore
from attribution.bootstrap import App
from attribution.errors import PermanentError

SECRET = b"game_date,player_lookup,line_value\n2026-03-01,secret_player,99.5\n"


def refused(code: str, call: object, *args: object) -> PermanentError:
    assert callable(call)
    with pytest.raises(PermanentError) as caught:
        call(*args)
    assert caught.value.code == code, caught.value
    return caught.value


# --- the local bucket folder ---------------------------------------------------------------------


@pytest.fixture
def buckets(tmp_path: Path) -> Path:
    folder = tmp_path / "home" / "buckets"
    folder.mkdir(parents=True)
    (tmp_path / "home" / "private.csv").write_bytes(SECRET)
    return folder


@pytest.mark.parametrize("bucket", ["..", ".", "../bus", "a/../..", "Models", "ab", "goog-x"])
def test_a_bucket_name_gcs_refuses_is_no_local_folder(buckets: Path, bucket: str) -> None:
    refused("bad_bucket_name", LocalBucket, buckets, bucket)
    assert sorted(p.name for p in buckets.parent.iterdir()) == ["buckets", "private.csv"]
    assert list(buckets.iterdir()) == []


def test_a_bucket_folder_linked_out_of_the_buckets_folder_is_refused(
    buckets: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "private.csv").write_bytes(SECRET)
    (buckets / "models").symlink_to(outside, target_is_directory=True)

    error = refused("unsafe_bucket", LocalBucket, buckets, "models")
    assert str(outside) in error.message


def test_objects_linked_out_of_the_bucket_are_refused_on_every_call(
    buckets: Path, tmp_path: Path
) -> None:
    store = LocalBucket(buckets, "models")
    store.write("batches/ok.csv", b"fine")
    private = tmp_path / "home" / "private.csv"
    (store.root / "batches" / "link.csv").symlink_to(private)
    (store.root / "linked-dir").symlink_to(private.parent, target_is_directory=True)

    for name in ("batches/link.csv", "linked-dir/private.csv"):
        refused("unsafe_object_name", store.read, name)
        refused("unsafe_object_name", store.stat, name)
        refused("unsafe_object_name", store.write, name, b"overwritten")
        refused("unsafe_object_name", store.create_exclusive, name, b"overwritten")
        refused("unsafe_object_name", store.delete_if_generation, name, "1")
    assert private.read_bytes() == SECRET  # neither read through nor written through

    # listing shows what is inside the folder and skips the link out of it
    assert [o.name for o in store.list()] == ["batches/ok.csv"]
    assert store.read("batches/ok.csv") == b"fine"


def test_a_link_that_stays_inside_the_bucket_is_an_ordinary_object(buckets: Path) -> None:
    store = LocalBucket(buckets, "models")
    store.write("models/a.cbm", b"model bytes")
    (store.root / "models" / "alias.cbm").symlink_to(store.root / "models" / "a.cbm")
    assert store.read("models/alias.cbm") == b"model bytes"


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("../private.csv", "unsafe_object_name"),
        ("../../home/private.csv", "unsafe_object_name"),
        ("/etc/passwd", "unsafe_object_name"),
        (".object-metadata/x.json", "unsafe_object_name"),
        ("", "bad_object_name"),
        ("x" * 1025, "bad_object_name"),
        ("a\nb", "bad_object_name"),
        (".well-known/acme-challenge/t", "bad_object_name"),
    ],
)
def test_object_names_refused_by_the_local_bucket(buckets: Path, name: str, code: str) -> None:
    store = LocalBucket(buckets, "models")
    refused(code, store.write, name, b"x")
    refused(code, store.read, name)
    assert [p.name for p in buckets.parent.iterdir() if p.is_file()] == ["private.csv"]


def test_a_name_that_is_both_a_file_and_a_folder_is_refused_not_a_crash(buckets: Path) -> None:
    store = LocalBucket(buckets, "models")
    store.write("batches/b-1/input.csv", b"rows")
    refused("object_name_conflict", store.write, "batches/b-1", b"x")
    refused("object_name_conflict", store.write, "batches/b-1/input.csv/more", b"x")
    refused("object_not_found", store.read, "batches/b-1")
    assert store.stat("batches/b-1") is None


def test_the_app_never_builds_a_store_for_a_bad_bucket(embedded_app: App) -> None:
    assert embedded_app.models.bucket == "models"
    for bucket in ("..", "../bus", "bus/.."):
        refused("bad_bucket_name", embedded_app.store, bucket)
    assert sorted(os.listdir(embedded_app.settings.bucket_root)) == ["models"]


def test_a_segment_too_long_for_a_file_name_is_refused_locally(buckets: Path) -> None:
    store = LocalBucket(buckets, "models")
    name = "models/" + "x" * 251  # GCS takes it (258 bytes); no file system file name does
    error = refused("object_name_too_long", store.write, name, b"x")
    assert "250 bytes" in error.message
    refused("object_name_too_long", store.read, name)
    assert store.write("models/" + "x" * 250, b"x").size == 1


# --- GCS, on the emulator ------------------------------------------------------------------------


@pytest.mark.parametrize("bucket", ["..", "Models", "ab", "goog-models", "192.168.5.4", "a..b"])
def test_gcs_store_refuses_a_bad_bucket_before_any_request(
    gcs_emulator: str, gcp_project: str, bucket: str
) -> None:
    refused("bad_bucket_name", GcsStore, bucket, gcp_project)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("x" * 1025, "bad_object_name"),
        ("a\rb", "bad_object_name"),
        ("..", "bad_object_name"),
        (".well-known/acme-challenge/t", "bad_object_name"),
        ("batches/../../x", "unsafe_object_name"),
    ],
)
def test_gcs_store_refuses_bad_object_names_on_every_call(
    gcs_bucket: str, gcp_project: str, name: str, code: str
) -> None:
    store = GcsStore(gcs_bucket, project=gcp_project)
    refused(code, store.write, name, b"x")
    refused(code, store.read, name)
    refused(code, store.stat, name)
    refused(code, store.create_exclusive, name, b"x")
    assert list(store.list()) == []  # nothing reached the bucket


@pytest.mark.parametrize(
    "name",
    ["models/v9 final#1.cbm", "models/é-ü.cbm", "/".join(["x" * 200] * 5), "models/..hidden.cbm"],
)
def test_names_gcs_accepts_round_trip_on_both_stores(
    gcs_bucket: str, gcp_project: str, buckets: Path, name: str
) -> None:
    for store in (GcsStore(gcs_bucket, project=gcp_project), LocalBucket(buckets, "models")):
        store.write(name, b"bytes of " + name.encode())
        assert store.read(name) == b"bytes of " + name.encode()
        assert [o.name for o in store.list()] == [name]


def test_an_object_named_like_a_temporary_file_is_listed(buckets: Path) -> None:
    store = LocalBucket(buckets, "models")
    store.write("batches/rows.tmp", b"a user's file")
    assert [o.name for o in store.list()] == ["batches/rows.tmp"]
    assert not [p for p in store.root.rglob("*.tmp") if p.name != "rows.tmp"]  # none left over
