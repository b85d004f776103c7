"""Dead-letter inspection and replay, straight from the `<group>.dlq` topics."""

from __future__ import annotations

from dataclasses import dataclass

from keel_cli.topic_reader import read_topic
from keel_contracts import SERVICES, consumer_group, dead_letter_topic
from keel_kit.relay import create_producer

# Headers the consumer added when it dead-lettered the message; the replay drops them.
DEAD_LETTER_HEADERS = frozenset(
    {
        "keel-original-topic",
        "keel-original-partition",
        "keel-original-offset",
        "keel-consumer",
        "keel-error",
        "keel-failed-at",
    }
)


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
            "dlq": self.topic,
            "offset": self.offset,
            "original": f"{self.original_topic}[{self.headers.get('keel-original-partition')}]"
            f"@{self.headers.get('keel-original-offset')}",
            "type": self.headers.get("keel-type", "?"),
            "key": self.key,
            "error": self.error,
            "failed_at": self.headers.get("keel-failed-at", "?"),
        }


def groups() -> list[str]:
    return [consumer_group(s) for s in SERVICES]


async def read_all(bootstrap: str, group: str) -> list[DeadLetter]:
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
        for record in await read_topic(bootstrap, topic)
    ]


async def replay(
    bootstrap: str, group: str, offsets: list[int] | None, body: bytes | None
) -> list[DeadLetter]:
    """Re-publish dead letters to their original topic and key (all of them, or `offsets`).

    With `body`, the one selected letter is replaced by those bytes: the way an operator
    re-sends a message they corrected by hand.
    """
    letters = await read_all(bootstrap, group)
    chosen = [d for d in letters if offsets is None or d.offset in offsets]
    if body is not None and len(chosen) != 1:
        raise ValueError("--body replaces exactly one dead letter: name it with --offset")
    producer = create_producer(bootstrap, "keel-cli-dlq-replay")
    await producer.start()
    try:
        for letter in chosen:
            value = body if body is not None else letter.value
            headers = [
                (k, v.encode()) for k, v in letter.headers.items() if k not in DEAD_LETTER_HEADERS
            ]
            headers.append(("keel-replayed-from", f"{letter.topic}@{letter.offset}".encode()))
            await producer.send_and_wait(
                letter.original_topic, value=value, key=letter.key.encode(), headers=headers
            )
    finally:
        await producer.stop()
    return chosen
