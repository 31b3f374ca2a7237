"""The verifier remembers every verdict and alerts on a change of state, not on every run.

Also drives functions/verifier/main.py through functions-framework's own test client:
a redelivered Pub/Sub request changes nothing, a malformed one is dead-lettered and
acknowledged, and the HTTP entry answers with the verdict.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from cloudevents.conversion import to_binary, to_structured
from cloudevents.http import CloudEvent

from attribution.events import parse_pubsub_message, pubsub_event
from attribution.verification.outcome import Status
from attribution.verification.settings import VerifierSettings

from .support import DAY, EMPTY_DAY, PLAYERS, SYSTEM, World, check

VERIFICATION_TOPIC = "projects/local/topics/verification-requests"


def _texts(world: World) -> list[str]:
    return [a.text for a in world.notifier.sent]


# --- alert on change ------------------------------------------------------------------------------


def test_the_first_run_alerts_and_an_unchanged_pass_does_not(world: World) -> None:
    first = world.verify()
    second = world.verify()

    assert (first.verdict, first.previous_verdict, first.alerted) == (Status.PASS, None, True)
    assert (second.verdict, second.previous_verdict, second.alerted) == (
        Status.PASS,
        Status.PASS,
        False,
    )
    (alert,) = world.notifier.sent
    assert alert.text.startswith("first run -> PASS.")
    assert alert.severity == "info"
    assert alert.fields["verdict"] == "PASS" and alert.fields["previous"] == "first run"
    assert alert.fields["run_id"] == first.run_id
    assert alert.fields["coverage"] == "100.0%"


def test_pass_to_fail_alerts_with_what_to_do_next(world: World) -> None:
    world.verify()
    world.insert_unattributed(3)

    failed = world.verify()

    assert (failed.verdict, failed.previous_verdict, failed.alerted) == (
        Status.FAIL,
        Status.PASS,
        True,
    )
    alert = world.notifier.sent[-1]
    assert alert.severity == "error"
    assert alert.title == f"Attribution FAIL: {SYSTEM} {DAY}"
    assert alert.text.startswith("PASS -> FAIL. ")
    assert "coverage FAIL" in alert.text
    (coverage,) = [s for s in alert.sections if s.title.startswith("coverage:")]
    assert coverage.status == "FAIL"
    assert "prediction legacy-2026-03-02-000 (batch legacy-worker)" in coverage.lines
    assert coverage.lines[-1] == f"Next: {check(failed, 'coverage').next_step}"
    for section in alert.sections:
        if section.status in ("FAIL", "PARTIAL", "UNKNOWN"):
            assert any(line.startswith("Next: ") for line in section.lines), section.title
        if section.status in ("PASS", "INFO"):
            assert not any(line.startswith("Next: ") for line in section.lines), section.title


def test_an_unchanged_failure_is_repeated_at_most_once_per_window(world: World) -> None:
    world.verify()
    world.insert_unattributed(3)
    first_failure = world.verify()
    assert first_failure.alerted

    within = world.verify()  # default window: 6 hours
    assert (within.previous_verdict, within.alerted) == (Status.FAIL, False)

    # Six hours pass since the alert: the same failure is told again, once.
    world.app.warehouse.execute(
        "UPDATE verification_runs SET finished_at = @at WHERE run_id = @run_id",
        {
            "at": first_failure.finished_at - timedelta(hours=6, minutes=1),
            "run_id": first_failure.run_id,
        },
    )
    after = world.verify()
    again = world.verify()

    assert after.alerted and not again.alerted
    assert world.notifier.sent[-1].text.startswith("still FAIL. ")
    assert len(world.notifier.sent) == 3  # first PASS, PASS -> FAIL, still FAIL


def test_a_zero_window_repeats_every_failure(world: World) -> None:
    world.insert_unattributed(3)
    no_window = VerifierSettings(repeat_window_hours=0)

    runs = [world.verify(settings=no_window) for _ in range(3)]
    by_env = world.verify(env={"ALERT_REPEAT_WINDOW_HOURS": "0"})

    assert [r.alerted for r in runs] == [True, True, True]
    assert by_env.alerted
    assert _texts(world)[0].startswith("first run -> FAIL.")
    assert all(t.startswith("still FAIL.") for t in _texts(world)[1:])


def test_fail_back_to_pass_alerts(world: World) -> None:
    world.verify()
    world.insert_unattributed(3)
    world.verify()
    world.app.warehouse.execute(
        "DELETE FROM player_prop_predictions WHERE batch_id = @batch_id",
        {"batch_id": "legacy-worker"},
    )

    recovered = world.verify()
    quiet = world.verify()

    assert (recovered.verdict, recovered.previous_verdict, recovered.alerted) == (
        Status.PASS,
        Status.FAIL,
        True,
    )
    assert not quiet.alerted
    assert _texts(world)[-1].startswith("FAIL -> PASS.")
    assert [a.severity for a in world.notifier.sent] == ["info", "error", "info"]


def test_other_changes_of_state_alert_too(world: World) -> None:
    """PASS -> PARTIAL, and a day's first UNKNOWN: each is news."""
    world.verify()
    world.bucket.path_of(world.object_name("catboost_v9_b.cbm")).unlink()  # an orphan card
    partial = world.verify()
    unknown = world.verify(EMPTY_DAY)

    assert (partial.verdict, partial.previous_verdict, partial.alerted) == (
        Status.PARTIAL,
        Status.PASS,
        True,
    )
    assert (unknown.verdict, unknown.previous_verdict, unknown.alerted) == (
        Status.UNKNOWN,
        None,
        True,
    )
    assert [a.severity for a in world.notifier.sent] == ["info", "warning", "warning"]
    assert world.notifier.sent[-1].fields["coverage"] == "n/a"  # nothing to cover


def test_memory_is_kept_per_day(world: World) -> None:
    """A day never verified before is compared with nothing, whatever another day said; a
    day verified again unchanged is quiet, whatever was verified in between."""
    world.verify()
    world.bucket.path_of(world.object_name("catboost_v9_b.cbm")).unlink()  # an orphan card
    partial = world.verify()
    first_of_its_day = world.verify(EMPTY_DAY)
    partial_again = world.verify()
    unknown_again = world.verify(EMPTY_DAY)

    assert (partial.verdict, partial.previous_verdict) == (Status.PARTIAL, Status.PASS)
    assert (first_of_its_day.verdict, first_of_its_day.previous_verdict) == (Status.UNKNOWN, None)
    assert (partial_again.previous_verdict, partial_again.alerted) == (Status.PARTIAL, False)
    assert (unknown_again.previous_verdict, unknown_again.alerted) == (Status.UNKNOWN, False)
    assert [t.split(".")[0] for t in _texts(world)] == [
        "first run -> PASS",
        "PASS -> PARTIAL",
        "first run -> UNKNOWN",
    ]
    runs = world.runs()
    assert [(r["game_date"], r["previous_verdict"]) for r in runs] == [
        (DAY, None),
        (DAY, "PASS"),
        (EMPTY_DAY, None),
        (DAY, "PARTIAL"),
        (EMPTY_DAY, "UNKNOWN"),
    ]


def test_the_repeat_window_of_a_failure_is_kept_per_day(world: World) -> None:
    world.insert_unattributed(3)
    world.insert_unattributed(3, day=EMPTY_DAY, batch_id="legacy-worker-2")
    first_day = world.verify()
    second_day = world.verify(EMPTY_DAY)  # its own first run, though the other day just alerted
    assert (first_day.verdict, first_day.alerted) == (Status.FAIL, True)
    assert (second_day.verdict, second_day.previous_verdict, second_day.alerted) == (
        Status.FAIL,
        None,
        True,
    )

    # Six hours pass since the first day's alert, not since the second day's.
    world.app.warehouse.execute(
        "UPDATE verification_runs SET finished_at = @at WHERE run_id = @run_id",
        {
            "at": first_day.finished_at - timedelta(hours=6, minutes=1),
            "run_id": first_day.run_id,
        },
    )
    first_day_again = world.verify()
    second_day_again = world.verify(EMPTY_DAY)

    assert first_day_again.alerted and not second_day_again.alerted
    assert [(a.fields["game_date"], a.text.split(".")[0]) for a in world.notifier.sent] == [
        (DAY.isoformat(), "first run -> FAIL"),
        (EMPTY_DAY.isoformat(), "first run -> FAIL"),
        (DAY.isoformat(), "still FAIL"),
    ]


def test_memory_is_kept_per_system(world: World) -> None:
    world.insert_unattributed(3)
    assert world.verify().alerted  # catboost_v9: first run, FAIL
    assert not world.verify().alerted  # still FAIL, within the window

    world.copy_rows(  # another system, known by predictions on another day
        world.predictions(),
        batch_id="v10",
        prefix="v10",
        system_id="catboost_v10",
        game_date=DAY - timedelta(days=7),
    )
    other = world.verify(system_id="catboost_v10")  # its own first run

    assert (other.previous_verdict, other.alerted) == (None, True)
    assert not world.verify().alerted  # catboost_v9's memory is untouched


def test_a_notifier_that_fails_does_not_stop_the_verdict(world: World) -> None:
    world.insert_unattributed(3)
    world.notifier.failing = True

    undelivered = world.verify()

    assert undelivered.verdict is Status.FAIL
    assert undelivered.alerted is False
    assert world.notifier.attempts == 1
    (run,) = world.runs()
    assert (run["verdict"], run["alerted"]) == ("FAIL", False)

    # The channel is back: the failure was never told, so the next run tells it.
    world.notifier.failing = False
    told = world.verify()
    assert told.alerted
    assert len(world.notifier.sent) == 1
    assert world.notifier.sent[0].text.startswith("still FAIL.")


# --- the record of every verdict ------------------------------------------------------------------


def test_every_run_is_one_row_in_verification_runs(world: World) -> None:
    verdicts = [world.verify()]
    world.insert_unattributed(12)
    verdicts += [world.verify(), world.verify()]

    runs = world.runs()

    assert [r["run_id"] for r in runs] == [v.run_id for v in verdicts]
    assert len({r["run_id"] for r in runs}) == 3
    assert [r["verdict"] for r in runs] == ["PASS", "FAIL", "FAIL"]
    assert [r["previous_verdict"] for r in runs] == [None, "PASS", "FAIL"]
    assert [r["alerted"] for r in runs] == [True, True, False]
    assert [r["predictions"] for r in runs] == [PLAYERS, PLAYERS + 12, PLAYERS + 12]
    assert [r["attributed"] for r in runs] == [PLAYERS] * 3
    assert runs[0]["coverage_pct"] == 100.0
    assert runs[1]["coverage_pct"] == round(100 * PLAYERS / (PLAYERS + 12), 1)
    for run, verdict in zip(runs, verdicts, strict=True):
        assert run["game_date"] == DAY and run["system_id"] == SYSTEM
        assert run["summary"] == verdict.summary()
        assert run["started_at"] <= run["finished_at"]
        recorded = json.loads(run["checks_json"])
        assert [c["name"] for c in recorded] == [c.name for c in verdict.checks]
        assert [c["status"] for c in recorded] == [c.status.value for c in verdict.checks]
        assert {"summary", "figures", "details", "next_step"} <= set(recorded[0])
    coverage = json.loads(runs[1]["checks_json"])[0]
    assert coverage["name"] == "coverage"
    assert coverage["figures"]["missing"] == 12
    assert coverage["details"][-1] == "+2 more"
    assert coverage["next_step"]


# --- the Cloud Function entry points -------------------------------------------------------------


def _request_event(document: Any, message_id: str) -> CloudEvent:
    data = document if isinstance(document, bytes) else json.dumps(document).encode()
    return pubsub_event(VERIFICATION_TOPIC, data, {"origin": "scheduler"}, message_id=message_id)


def _post(client: Any, event: CloudEvent, *, binary: bool = False) -> int:
    headers, body = to_binary(event) if binary else to_structured(event)
    return int(client.post("/", headers=headers, data=body).status_code)


def test_a_redelivered_request_changes_nothing(world: World, verifier_events: Any) -> None:
    event = _request_event({"game_date": DAY.isoformat(), "system_id": SYSTEM}, "msg-verify-1")

    statuses = [
        _post(verifier_events, event),
        _post(verifier_events, event, binary=True),
        _post(verifier_events, event),
    ]

    assert statuses == [200, 200, 200]
    (run,) = world.runs()
    # The request id is the message id at its publish time: the emulator restarts its ids.
    published = parse_pubsub_message(event).publish_time
    request_id = f"msg-verify-1@{published}"
    expected_id = hashlib.sha256(f"{request_id}|{DAY}|{SYSTEM}".encode()).hexdigest()[:32]
    assert run["run_id"] == expected_id
    assert run["verdict"] == "PASS"
    assert len(world.notifier.sent) == 1

    # A new request (another message id) is another run: recorded, and PASS -> PASS is quiet.
    other = _request_event({"game_date": DAY.isoformat()}, "msg-verify-2")
    assert _post(verifier_events, other, binary=True) == 200
    assert len(world.runs()) == 2
    assert len(world.notifier.sent) == 1


def test_a_redelivered_failure_alerts_once(world: World, verifier_events: Any) -> None:
    world.insert_unattributed(3)
    event = _request_event({"game_date": DAY.isoformat(), "system_id": SYSTEM}, "msg-fail")

    assert _post(verifier_events, event, binary=True) == 200
    assert _post(verifier_events, event) == 200

    (run,) = world.runs()
    assert (run["verdict"], run["alerted"]) == ("FAIL", True)
    (alert,) = world.notifier.sent
    assert alert.fields["verdict"] == "FAIL"


def test_a_malformed_request_is_dead_lettered_and_acknowledged(
    world: World, verifier_events: Any
) -> None:
    cases = {
        "msg-not-json": (b"verify yesterday please", "malformed_message"),
        "msg-bad-date": ({"game_date": "2026-13-45"}, "invalid_message"),
        "msg-no-date": ({"system_id": SYSTEM}, "invalid_message"),
        "msg-extra": ({"game_date": DAY.isoformat(), "force": True}, "invalid_message"),
    }
    for message_id, (document, _) in cases.items():
        event = _request_event(document, message_id)
        assert _post(verifier_events, event) == 200
        assert _post(verifier_events, event, binary=True) == 200  # redelivered: still one row

    letters = world.query("SELECT * FROM dead_letters WHERE source = 'verifier' ORDER BY event_id")
    assert {r["event_id"]: r["error_code"] for r in letters} == {
        k: code for k, (_, code) in cases.items()
    }
    assert all(r["error"] and r["payload"] for r in letters)
    assert world.runs() == []
    assert world.notifier.sent == []


def test_the_http_entry_returns_the_verdict(world: World, verifier_http: Any) -> None:
    response = verifier_http.post("/", json={"game_date": DAY.isoformat(), "system_id": SYSTEM})

    assert response.status_code == 200
    (verdict,) = response.get_json()["verdicts"]
    assert verdict["verdict"] == "PASS"
    assert verdict["system_id"] == SYSTEM and verdict["game_date"] == DAY.isoformat()
    names = [c["name"] for c in verdict["checks"]]
    assert names[:2] == ["coverage", "model_distribution"]
    assert verdict["checks"][0]["figures"]["predictions"] == PLAYERS
    (run,) = world.runs()
    assert run["run_id"] == verdict["run_id"]

    by_query = verifier_http.get(f"/?game_date={DAY.isoformat()}")
    assert by_query.status_code == 200
    assert by_query.get_json()["verdicts"][0]["previous_verdict"] == "PASS"


def test_the_http_entry_refuses_a_bad_date(world: World, verifier_http: Any) -> None:
    for body in ({"game_date": "03/02/2026"}, {"system_id": SYSTEM}):
        response = verifier_http.post("/", json=body)
        assert response.status_code == 400
        answer = response.get_json()
        assert answer["code"] == "invalid_message"
        assert answer["error"]
    assert verifier_http.get("/?game_date=tomorrowish").status_code == 400
    assert world.runs() == []
