"""Topics, subscriptions and buckets of the local stack, created on the emulators.

As in ``infra/terraform``: every topic has a dead-letter topic (with a pull subscription that
keeps what lands there); a function's topic has a push subscription to the function's URL
with a dead-letter policy and a retry backoff; a topic nobody consumes gets a pull
subscription, so people can look at it. The Pub/Sub emulator honours push, retry policies
and dead-letter policies.

Push endpoints end in ``/projects/<project>/topics/<topic>``: functions-framework reads the
topic from that path when it turns the push body into a CloudEvent (see ``dispatcher``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from google.api_core import exceptions as api_exceptions

DEAD_LETTER_SUFFIX = "-dead-letter"
MAX_DELIVERY_ATTEMPTS = 5
ACK_DEADLINE_SECONDS = 120  # for a push subscription: how long a delivery may take
MIN_BACKOFF_SECONDS = 1
MAX_BACKOFF_SECONDS = 10


@dataclass(frozen=True)
class PushRoute:
    """Deliver ``topic`` to the function served at ``base_url``."""

    topic: str
    function: str
    base_url: str


@dataclass(frozen=True)
class SubscriptionInfo:
    topic: str
    subscription: str
    push_endpoint: str | None
    dead_letter_topic: str | None


def dead_letter_topic(topic: str) -> str:
    return f"{topic}{DEAD_LETTER_SUFFIX}"


def push_subscription(topic: str, function: str) -> str:
    return f"{topic}-to-{function.replace('_', '-')}"


def pull_subscription(topic: str) -> str:
    return f"{topic}-pull"


def push_endpoint(route: PushRoute, project: str) -> str:
    return f"{route.base_url.rstrip('/')}/projects/{project}/topics/{route.topic}"


@contextlib.contextmanager
def _admin_clients() -> Iterator[tuple[Any, Any]]:
    """Publisher and subscriber clients; they honour PUBSUB_EMULATOR_HOST."""
    from google.cloud.pubsub_v1 import PublisherClient, SubscriberClient

    publisher = PublisherClient()
    subscriber = SubscriberClient()
    try:
        yield publisher, subscriber
    finally:
        subscriber.close()
        with contextlib.suppress(Exception):
            publisher.stop()


def _ensure_topic(publisher: Any, path: str) -> None:
    with contextlib.suppress(api_exceptions.AlreadyExists):
        publisher.create_topic(name=path)


def _ensure_subscription(subscriber: Any, request: dict[str, Any]) -> None:
    try:
        subscriber.create_subscription(request=request)
    except api_exceptions.AlreadyExists:
        if "push_config" in request:  # the stack may listen on another port than last time
            subscriber.modify_push_config(
                request={"subscription": request["name"], "push_config": request["push_config"]}
            )


def ensure_pubsub(
    project: str, routes: Sequence[PushRoute], pull_topics: Sequence[str] = ()
) -> list[SubscriptionInfo]:
    """Create (or update) what is missing; return every subscription of the layout."""
    from google.cloud.pubsub_v1.types import DeadLetterPolicy, PushConfig, RetryPolicy

    made: list[SubscriptionInfo] = []
    with _admin_clients() as (publisher, subscriber):
        for topic in [*(r.topic for r in routes), *pull_topics]:
            dead = dead_letter_topic(topic)
            _ensure_topic(publisher, publisher.topic_path(project, topic))
            _ensure_topic(publisher, publisher.topic_path(project, dead))
            dead_pull = subscriber.subscription_path(project, pull_subscription(dead))
            _ensure_subscription(
                subscriber, {"name": dead_pull, "topic": publisher.topic_path(project, dead)}
            )
            made.append(SubscriptionInfo(dead, dead_pull, None, None))
        for route in routes:
            endpoint = push_endpoint(route, project)
            name = subscriber.subscription_path(
                project, push_subscription(route.topic, route.function)
            )
            dead = publisher.topic_path(project, dead_letter_topic(route.topic))
            _ensure_subscription(
                subscriber,
                {
                    "name": name,
                    "topic": publisher.topic_path(project, route.topic),
                    "push_config": PushConfig(push_endpoint=endpoint),
                    "ack_deadline_seconds": ACK_DEADLINE_SECONDS,
                    "dead_letter_policy": DeadLetterPolicy(
                        dead_letter_topic=dead, max_delivery_attempts=MAX_DELIVERY_ATTEMPTS
                    ),
                    "retry_policy": RetryPolicy(
                        minimum_backoff={"seconds": MIN_BACKOFF_SECONDS},
                        maximum_backoff={"seconds": MAX_BACKOFF_SECONDS},
                    ),
                },
            )
            made.append(SubscriptionInfo(route.topic, name, endpoint, dead))
        for topic in pull_topics:
            name = subscriber.subscription_path(project, pull_subscription(topic))
            dead = publisher.topic_path(project, dead_letter_topic(topic))
            _ensure_subscription(
                subscriber,
                {
                    "name": name,
                    "topic": publisher.topic_path(project, topic),
                    "dead_letter_policy": DeadLetterPolicy(
                        dead_letter_topic=dead, max_delivery_attempts=MAX_DELIVERY_ATTEMPTS
                    ),
                },
            )
            made.append(SubscriptionInfo(topic, name, None, dead))
    return made


def ensure_buckets(project: str, buckets: Sequence[str]) -> None:
    """Create the buckets on the storage emulator (STORAGE_EMULATOR_HOST) unless present."""
    from attribution.adapters.google_cloud.gcs_store import storage_client

    client = storage_client(project)
    for bucket in dict.fromkeys(buckets):
        if client.lookup_bucket(bucket) is None:
            with contextlib.suppress(api_exceptions.Conflict):
                client.create_bucket(bucket)
