"""A backfill as OpenLineage sees it: the candidate models and the kept inputs it replayed,
to the predictions it attributed, START then COMPLETE, valid against the published schemas.
A dry run changes nothing and sends nothing."""

from __future__ import annotations

from datetime import timedelta

from lineage_schemas import check_event, read_events

from attribution.history.backfill import REPLAY_VERIFIED

from .support import PLAYERS, PROMOTION, SYSTEM, History


def test_a_replay_backfill_is_a_run_from_models_and_kept_inputs_to_the_predictions(
    history: History,
) -> None:
    history.story()
    history.legacy_batch("legacy", made_by=history.new, created_at=PROMOTION + timedelta(days=1))
    lineage_file = history.app.settings.lineage_file
    published = len(read_events(lineage_file))  # the three models' cards

    assert history.backfill(replay=True, dry_run=True).updated == 0
    assert len(read_events(lineage_file)) == published

    summary = history.backfill(system_id=SYSTEM, replay=True)
    assert dict(summary.by_method) == {REPLAY_VERIFIED: PLAYERS}

    start, complete = read_events(lineage_file)[published:]
    for event in (start, complete):
        check_event(event)
    assert (start["eventType"], complete["eventType"]) == ("START", "COMPLETE")
    assert start["run"]["runId"] == complete["run"]["runId"]
    assert complete["job"]["name"] == f"backfill.{SYSTEM}"
    inputs = {(d["namespace"], d["name"]) for d in complete["inputs"]}
    assert ("gs://models", "batches/legacy/input.jsonl") in inputs
    models = {
        d["facets"]["version"]["datasetVersion"]
        for d in complete["inputs"]
        if d["facets"]["datasetType"]["datasetType"] == "MODEL"
    }
    assert history.new.model_sha256 in models
    assert history.other.model_sha256 not in models  # another system's model: no candidate
    (output,) = complete["outputs"]
    assert output["name"] == "main.player_prop_predictions"
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == PLAYERS
