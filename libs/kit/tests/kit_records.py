"""Messages as the kit's batch consumer reads them, for the service tests that apply a batch
straight through `BatchProcessor` instead of the in-memory broker."""

from __future__ import annotations

import itertools

from keel_contracts import Envelope, Message, topic_for_message
from keel_kit.consumer import Record

_offsets = itertools.count()


def registry_records(*messages: Message) -> list[Record]:
    """Each message wrapped anew on its registry topic, from the topic's owner, keyed (and
    correlated) as the registry says, at offsets that only grow."""
    records = []
    for message in messages:
        topic = topic_for_message(type(message))
        key = str(getattr(message, topic.key))
        envelope = Envelope.wrap(message, source=topic.owner, correlation_id=key)
        records.append(
            Record(
                topic=topic.name,
                partition=0,
                offset=next(_offsets),
                key=key.encode(),
                value=envelope.to_bytes(),
            )
        )
    return records
