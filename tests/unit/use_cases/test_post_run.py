"""Post-run verification: a finished batch announces itself, and its day is verified at once;
completions of one window are verified once, at the window's end."""

from __future__ import annotations

import base64
import json
import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from app_support import inline_batch

from attribution.adapters.embedded.inprocess_bus import InProcessBus
from attribution.batches.completion import BatchCompletion, parse_batch_completion
from attribution.batches.execution_log import BatchStatus
from attribution.batches.request import RunMode
from attribution.bootstrap import App
from attribution.devtools.slates import slate_for
from attribution.errors import PermanentError
from attribution.model_card.card import ModelCard
from attribution.verification.post_run import PostRunVerification, window_start

from .conftest import SYSTEM, sent

GAME_DATE = date(2026, 3, 1)
WINDOW_OPENS = datetime(2026, 3, 2, 4, 0, 0, tzinfo=UTC)


def bus(app: App) -> InProcessBus:
    assert isinstance(app.publisher, InProcessBus)
    return app.publisher


def runs(app: App) -> list[dict[str, Any]]:
    return app.warehouse.query(
        "SELECT run_id, system_id, game_date, verdict FROM verification_runs ORDER BY started_at"
    )


def completion(batch_id: str, finished_at: datetime) -> BatchCompletion:
    return BatchCompletion(
        batch_id=batch_id,
        system_id=SYSTEM,
        game_date=GAME_DATE,
        run_mode=RunMode.OVERNIGHT.value,
        status=BatchStatus.SUCCESS.value,
        rows_requested=3,
        rows_written=3,
        rows_rejected=0,
        finished_at=finished_at,
    )


def test_a_finished_batch_is_verified_without_anyone_asking(app: App, old_card: ModelCard) -> None:
    app.ledger.promote(SYSTEM, old_card, at=datetime(2026, 2, 2, tzinfo=UTC))
    request = inline_batch("post-run-1", SYSTEM, GAME_DATE, slate_for(GAME_DATE, players=12).rows)
    app.publisher.publish(app.settings.prediction_batches_topic, request.encode(), {})
    delivered = [(d.function, d.ok) for d in bus(app).deliveries]
    assert ("prediction_batch", True) in delivered
    assert ("post_run_verifier", True) in delivered
    (run,) = runs(app)
    assert (run["system_id"], run["game_date"]) == (SYSTEM, GAME_DATE)
    assert [a.title for a in sent(app).sent if SYSTEM in a.title]  # the first verdict is told
    # The same completion again (a redelivery): nothing more is verified or recorded.
    topic = app.settings.batch_completions_topic
    (line,) = (bus(app).folder / "topics" / f"{topic}.jsonl").read_text().splitlines()
    announced = json.loads(line)
    data = base64.b64decode(announced["data"])
    parsed = parse_batch_completion(data)
    assert (parsed.batch_id, parsed.status, parsed.rows_written) == (
        "post-run-1",
        BatchStatus.SUCCESS.value,
        12,
    )
    app.publisher.publish(topic, data, announced["attributes"])
    assert len(runs(app)) == 1


def test_an_unreadable_completion_is_refused_by_name() -> None:
    for data in (b"{}", b'{"kind": "batch_completion", "batch_id": "x"}', b"not json"):
        with pytest.raises(PermanentError) as caught:
            parse_batch_completion(data)
        assert caught.value.code == "bad_completion"


class Clock:
    """A clock the test moves; sleeping moves it too."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


def post_run(app: App, clock: Clock, window: float = 10.0) -> PostRunVerification:
    return PostRunVerification(
        warehouse=app.warehouse,
        verifier=app.verifier(),
        window_seconds=window,
        clock=clock,
        sleep=clock.sleep,
    )


def test_windows_start_on_whole_multiples_of_their_length() -> None:
    at = datetime(2026, 3, 2, 4, 0, 7, 250000, tzinfo=UTC)
    assert window_start(at, 10) == datetime(2026, 3, 2, 4, 0, 0, tzinfo=UTC)
    assert window_start(at, 5) == datetime(2026, 3, 2, 4, 0, 5, tzinfo=UTC)
    assert window_start(at, 0) == at


def test_completions_of_one_window_are_verified_once_at_its_end(
    app: App, old_card: ModelCard
) -> None:
    clock = Clock(WINDOW_OPENS + timedelta(seconds=3))
    first = post_run(app, clock).handle(completion("b1", WINDOW_OPENS + timedelta(seconds=2)))
    assert clock.slept == [7.0]  # waited for the window (04:00:00 to 04:00:10) to close
    assert len(first.verdicts) == 1
    for n, second in enumerate((4, 9), start=2):  # finished inside the same window
        later = post_run(app, clock).handle(
            completion(f"b{n}", WINDOW_OPENS + timedelta(seconds=second))
        )
        assert later.coalesced and later.trigger_id == first.trigger_id
    assert len(runs(app)) == 1
    next_window = post_run(app, clock).handle(
        completion("b4", WINDOW_OPENS + timedelta(seconds=10))
    )
    assert len(next_window.verdicts) == 1 and next_window.trigger_id != first.trigger_id
    assert len(runs(app)) == 2
    assert clock.slept == [7.0, 10.0]


def test_a_claimant_that_died_before_verifying_verifies_on_its_redelivery(
    app: App, old_card: ModelCard
) -> None:
    clock = Clock(WINDOW_OPENS)

    class ClaimantDiedError(Exception):
        pass

    def die(seconds: float) -> None:
        raise ClaimantDiedError

    dying = PostRunVerification(
        warehouse=app.warehouse,
        verifier=app.verifier(),
        window_seconds=10,
        clock=clock,
        sleep=die,
    )
    done = completion("b1", WINDOW_OPENS + timedelta(seconds=1))
    with pytest.raises(ClaimantDiedError):
        dying.handle(done)
    assert runs(app) == []
    assert post_run(app, clock).handle(completion("b2", done.finished_at)).coalesced
    again = post_run(app, clock).handle(done)  # the claimant's own message, redelivered
    assert len(again.verdicts) == 1
    assert post_run(app, clock).handle(done).coalesced  # once verified, never again
    assert len(runs(app)) == 1


def test_completions_racing_for_one_window_verify_it_once(app: App, old_card: ModelCard) -> None:
    clock = Clock(WINDOW_OPENS + timedelta(seconds=10))  # the window has closed: no waiting
    barrier = threading.Barrier(4)
    outcomes: list[bool] = []
    errors: list[BaseException] = []

    def handle(n: int) -> None:
        try:
            barrier.wait()
            outcome = post_run(app, clock).handle(
                completion(f"b{n}", WINDOW_OPENS + timedelta(seconds=n))
            )
            outcomes.append(outcome.coalesced)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=handle, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(outcomes) == [False, True, True, True]
    assert len(runs(app)) == 1
