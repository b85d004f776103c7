"""A consumer group's dead letters, read from its `<group>.dlq` topic, and each one as the
record its consumer once failed on, so the service can apply it again (`dead_letters_api`)."""

from __future__ import annotations

from dataclasses import dataclass

from keel_contracts import dead_letter_topic
from keel_contracts.topics import DEAD_LETTER_HEADERS, REPLAYED_FROM
from keel_kit.decoding import Record
from keel_kit.kafka_access import KafkaAccess
from keel_kit.topic_reader import read_topic


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    partition: int
    offset: int
    key: str
    value: bytes
    headers: dict[str, str]

    @property
    def original_topic(self) -> str:
        return self.headers.get("keel-original-topic", "?")

    @property
    def error(self) -> str:
        return self.headers.get("keel-error", "?")

    def summary(self) -> dict[str, object]:
        return {
            "kind": "dead_letter",
            "dlq": self.topic,
            "offset": self.offset,
            "original": f"{self.original_topic}[{self.headers.get('keel-original-partition')}]"
            f"@{self.headers.get('keel-original-offset')}",
            "type": self.headers.get("keel-type", "?"),
            "key": self.key,
            "error": self.error,
            "failed_at": self.headers.get("keel-failed-at", "?"),
        }

    def original_record(self, body: bytes | None = None) -> Record:
        """The record as the consumer read it (or with a corrected `body`), marked as replayed."""
        headers = [
            (name, value.encode())
            for name, value in self.headers.items()
            if name not in DEAD_LETTER_HEADERS
        ]
        headers.append((REPLAYED_FROM, f"{self.topic}@{self.offset}".encode()))
        return Record(
            topic=self.original_topic,
            partition=int(self.headers.get("keel-original-partition", "0")),
            offset=int(self.headers.get("keel-original-offset", "0")),
            key=self.key.encode(),
            value=self.value if body is None else body,
            headers=tuple(headers),
        )


async def read_all(kafka: KafkaAccess, group: str) -> list[DeadLetter]:
    """Every dead letter of a group, oldest first."""
    topic = dead_letter_topic(group)
    return [
        DeadLetter(
            topic=topic,
            partition=record.partition,
            offset=record.offset,
            key=(record.key or b"").decode(errors="replace"),
            value=record.value or b"",
            headers={k: v.decode(errors="replace") for k, v in record.headers},
        )
        for record in await read_topic(kafka, topic)
    ]
