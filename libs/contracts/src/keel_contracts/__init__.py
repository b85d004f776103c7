"""Keel's schema contracts: the only thing services share about data.

Payload models, the message envelope and the topic registry live here so that a producer and its
consumers agree on the wire format without importing each other. Depends on pydantic alone.
"""

from keel_contracts.envelope import (
    Envelope,
    Message,
    event_types,
    new_event_id,
    parse_payload,
    read_as,
)
from keel_contracts.topics import (
    SERVICES,
    TOPICS,
    ServiceName,
    TopicSpec,
    consumer_group,
    dead_letter_spec,
    dead_letter_topic,
    topic,
    topic_for_message,
    topics_for,
)

__all__ = [
    "SERVICES",
    "TOPICS",
    "Envelope",
    "Message",
    "ServiceName",
    "TopicSpec",
    "consumer_group",
    "dead_letter_spec",
    "dead_letter_topic",
    "event_types",
    "new_event_id",
    "parse_payload",
    "read_as",
    "topic",
    "topic_for_message",
    "topics_for",
]
