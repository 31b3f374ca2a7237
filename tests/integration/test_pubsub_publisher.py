"""PubSubPublisher against Google's Pub/Sub emulator."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from attribution.adapters.google_cloud.pubsub_publisher import PubSubPublisher
from attribution.errors import TransientError

if TYPE_CHECKING:
    from emulators import PubSubSandbox

pytestmark = pytest.mark.emulator


def test_published_message_arrives_with_data_and_attributes(
    pubsub: PubSubSandbox, pubsub_topic: tuple[str, str], gcp_project: str
) -> None:
    topic, subscription = pubsub_topic
    publisher = PubSubPublisher(gcp_project)

    message_id = publisher.publish(
        topic, b'{"card_id":"abc"}', {"system_id": "catboost_v9", "card_id": "abc"}
    )

    assert message_id
    [message] = pubsub.pull(subscription, expect=1)
    assert message.message_id == message_id
    assert message.data == b'{"card_id":"abc"}'
    assert dict(message.attributes) == {"system_id": "catboost_v9", "card_id": "abc"}


def test_unknown_topic_is_a_transient_error(pubsub_emulator: str, gcp_project: str) -> None:
    with pytest.raises(TransientError, match="topics/no-such-topic"):
        PubSubPublisher(gcp_project, timeout=10).publish("no-such-topic", b"x", {})


def test_reserved_attribute_names_are_refused(gcp_project: str) -> None:
    with pytest.raises(ValueError, match="timeout"):
        PubSubPublisher(gcp_project).publish("any-topic", b"x", {"timeout": "5"})
