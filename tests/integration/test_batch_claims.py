"""The batch claim: one delivery at a time per batch, on the local bucket and on GCS."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from attribution.adapters.embedded.local_bucket import LocalBucket
from attribution.batches.claims import BatchClaims
from attribution.errors import TransientError
from attribution.ports import ObjectStore

INPUT = "a" * 64  # the input hash a claim records


def _claims_contract(store: ObjectStore) -> None:
    claims = BatchClaims(store, "batches/", lease=timedelta(minutes=10))
    first = claims.claim("b1", INPUT)
    with pytest.raises(TransientError, match="another delivery"):
        claims.claim("b1", INPUT)
    claims.release(first)
    second = claims.claim("b1", INPUT)
    assert second.holder != first.holder
    claims.release(first)  # a stale release must not free someone else's claim
    with pytest.raises(TransientError):
        claims.claim("b1", INPUT)

    expired = BatchClaims(store, "batches/", lease=timedelta(seconds=-1))
    taken = expired.claim("b1", INPUT)  # the holder died: its lease has run out
    assert taken.holder not in (first.holder, second.holder)
    body = json.loads(store.read("batches/b1/claim.json"))
    assert (body["holder"], body["input_sha256"]) == (taken.holder, INPUT)
    assert not claims.renew(second)  # its claim was taken over: it knows
    with pytest.raises(TransientError, match="taken over"):
        second.still_held()


def test_claims_on_the_local_bucket(tmp_path: Path) -> None:
    _claims_contract(LocalBucket(tmp_path, "models"))


def test_only_one_of_many_racing_deliveries_gets_the_claim(tmp_path: Path) -> None:
    claims = BatchClaims(LocalBucket(tmp_path, "models"), "batches/", lease=timedelta(hours=1))
    start = threading.Barrier(8)
    winners: list[str] = []
    losers: list[str] = []

    def deliver() -> None:
        start.wait(timeout=10)
        try:
            winners.append(claims.claim("race", INPUT).holder)
        except TransientError:
            losers.append("lost")

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(winners) == 1
    assert len(losers) == 7


def test_claims_on_gcs(gcs_bucket: str, gcp_project: str) -> None:
    """On the storage emulator, which answers a generation precondition that does not hold
    with 412 as Cloud Storage does (``devtools.local_stack.storage_preconditions``)."""
    from attribution.adapters.google_cloud.gcs_store import GcsStore

    store = GcsStore(gcs_bucket, project=gcp_project)
    first = store.create_exclusive("probe", b"1")
    assert first is not None
    assert store.create_exclusive("probe", b"2") is None  # create-if-absent, refused
    assert store.read("probe") == b"1"
    assert store.replace_if_generation("probe", b"3", "1") is None  # a stale generation
    assert store.read("probe") == b"1"
    assert not store.delete_if_generation("probe", "1")
    assert store.delete_if_generation("probe", str(first.generation))
    _claims_contract(store)


def test_a_held_claim_is_renewed_and_a_dead_holders_expires_in_seconds(tmp_path: Path) -> None:
    """The heartbeat keeps a running batch's claim fresh past its lease; once the holder is
    gone (nothing renews it), the next delivery takes it over within the lease."""
    store = LocalBucket(tmp_path, "models")
    claims = BatchClaims(store, "batches/", lease=timedelta(seconds=0.6))
    claim = claims.claim("b-long", INPUT)
    with claims.held(claim):
        for _ in range(4):  # 1.6 s: well past the lease
            time.sleep(0.4)
            with pytest.raises(TransientError):
                claims.claim("b-long", INPUT)
        claim.still_held()
    time.sleep(0.8)  # the heartbeat stopped, as when the process was killed
    taken = claims.claim("b-long", INPUT)
    assert taken.holder != claim.holder
