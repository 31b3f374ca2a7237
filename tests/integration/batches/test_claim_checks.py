"""Claim-check batches: rows in the bucket as JSONL, CSV or Parquet predict exactly as inline."""

from __future__ import annotations

import pytest

from attribution.devtools.slates import Slate

from .support import (
    BatchWorld,
    claim_check,
    kept_input,
    predicted_by_player,
    predictions,
    publish,
    rejects,
    request,
    stamped_with,
    the_log,
)

FORMATS = ("jsonl", "ndjson", "csv", "parquet")


def test_jsonl_csv_and_parquet_claim_checks_predict_exactly_like_inline_rows(
    world: BatchWorld, slate: Slate
) -> None:
    app = world.app
    assert publish(app, request("b-inline", slate.rows)).ok
    inline = predicted_by_player(app, "b-inline")
    assert len(inline) == 40

    for fmt in FORMATS:
        batch_id = f"b-claim-{fmt}"
        uri = claim_check(app, batch_id, slate.rows, fmt)
        delivery = publish(app, request(batch_id, rows_uri=uri))
        assert delivery.ok and delivery.attempts == 1
        assert predicted_by_player(app, batch_id) == inline, fmt
        assert stamped_with(predictions(app, batch_id), world.old)
        log = the_log(app, batch_id)
        assert (log["status"], log["rows_written"]) == ("success", 40)
        kept_uri, kept = kept_input(app, batch_id, "jsonl" if fmt == "ndjson" else fmt)
        assert log["input_uri"] == kept_uri  # a copy under the batch's own key
        assert kept == app.models.read(uri.removeprefix("gs://models/"))


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_a_claim_check_with_bad_rows_keeps_the_good_ones(
    world: BatchWorld, slate: Slate, fmt: str
) -> None:
    app = world.app
    rows = [dict(r) for r in slate.rows]
    rows[2]["game_date"] = "2026-02-28"
    rows[6] |= {"player_lookup": rows[1]["player_lookup"], "line_value": rows[1]["line_value"]}
    rows[8]["opponent"] = None
    rows[9]["minutes_avg_last_5"] = None  # a missing number: NaN, as the model was trained
    uri = claim_check(app, f"b-claim-bad-{fmt}", rows, fmt)
    assert publish(app, request(f"b-claim-bad-{fmt}", rows_uri=uri)).ok

    log = the_log(app, f"b-claim-bad-{fmt}")
    assert (log["status"], log["rows_written"], log["rows_rejected"]) == ("partial", 37, 3)
    reasons = {r["row_number"]: r["reason"] for r in rejects(app, f"b-claim-bad-{fmt}")}
    assert reasons == {
        2: "game_date 2026-02-28 does not match the batch's 2026-03-01",
        6: "the same player, line and sportsbook appear more than once in the batch",
        8: "categorical feature opponent is missing (declare the token the model was trained "
        "with for a missing category in its metadata as cat_missing_value)",
    }
    written = predicted_by_player(app, f"b-claim-bad-{fmt}")
    assert rows[1]["player_lookup"] in written
    assert rows[2]["player_lookup"] not in written
