"""What every CloudEvent entry point does with an event it cannot use."""

from __future__ import annotations

import functools
from collections.abc import Callable

from cloudevents.http import CloudEvent

from attribution.bootstrap import app
from attribution.dead_letters import refuse_event
from attribution.errors import PermanentError

Handler = Callable[[CloudEvent], None]


def keeps_unusable_events(source: str) -> Callable[[Handler], Handler]:
    """A handler's ``PermanentError`` (a malformed event, a request no retry can mend) is
    kept in ``dead_letters`` with the reason, and the event acknowledged; anything else
    propagates, so the platform redelivers."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def entry_point(cloud_event: CloudEvent) -> None:
            try:
                handler(cloud_event)
            except PermanentError as exc:
                refuse_event(
                    app().warehouse,
                    source=source,
                    event_id=str(cloud_event["id"]),
                    payload=cloud_event.get_data(),
                    error=exc,
                )

        return entry_point

    return decorate
