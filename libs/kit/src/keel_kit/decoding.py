"""Consumed records read into the messages their handlers take, or the reason they cannot be.

A message type this consumer does not handle is skipped only when the topic's contract names it
(another consumer's message on a shared topic). A type no contract of the topic knows is a
failure (dead-lettered by the consumer): in a rolling upgrade it is a newer producer's message,
kept to be replayed once this consumer knows it, never committed past unseen.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from keel_contracts import TOPICS, Envelope, Message, read_as
from keel_kit.handlers import Handler, Handlers


@dataclass(frozen=True)
class Record:
    """One consumed Kafka record, independent of the client library."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value.decode(errors="replace")
        return None


@dataclass(frozen=True)
class Decoded:
    """A record read into its handler's message."""

    record: Record
    envelope: Envelope
    payload: Message
    handler: Handler

    @property
    def traceparent(self) -> str | None:
        return self.record.header("traceparent") or self.envelope.traceparent


@dataclass(frozen=True)
class Failure:
    """A record that can never be applied, and why."""

    record: Record
    error: str


class Decoder:
    """Reads records for one consumer group's handlers."""

    def __init__(self, handlers: Handlers) -> None:
        self._handlers = handlers
        self._topic_types = {spec.name: {m.type for m in spec.messages} for spec in TOPICS}

    def decode(self, records: Sequence[Record]) -> tuple[list[Decoded], list[Failure]]:
        decoded: list[Decoded] = []
        failures: list[Failure] = []
        for record in records:
            declared = record.header("keel-type")
            if declared is not None and declared not in self._handlers.by_type:
                # Not even parsed: another reader's type is skipped, an unknown one set aside.
                if (unknown := self._unknown_type(record, declared)) is not None:
                    failures.append(unknown)
                continue
            outcome = self._decode_one(record, declared)
            if isinstance(outcome, Decoded):
                decoded.append(outcome)
            elif outcome is not None:
                failures.append(outcome)
        return decoded, failures

    def _decode_one(self, record: Record, declared: str | None) -> Decoded | Failure | None:
        """The record read into its handler's message; else why it cannot be, or None for
        another reader's type."""
        if declared is not None:
            # The header names the type: one pass, straight into its model. Any doubt goes
            # the long way below, whose errors say what is wrong.
            model, handler = self._handlers.by_type[declared]
            with contextlib.suppress(ValidationError):
                envelope, payload = read_as(record.value, model)
                if envelope.type == declared:
                    return Decoded(record, envelope, payload, handler)
        try:
            envelope = Envelope.from_bytes(record.value)
        except ValidationError as error:
            return Failure(record, f"invalid envelope: {_short(error)}")
        entry = self._handlers.by_type.get(envelope.type)
        if entry is None:
            return self._unknown_type(record, envelope.type)
        model, handler = entry
        try:
            payload = model.model_validate(envelope.payload)
        except ValidationError as error:
            return Failure(record, f"invalid {envelope.type}: {_short(error)}")
        return Decoded(record, envelope, payload, handler)

    def _unknown_type(self, record: Record, type_: str) -> Failure | None:
        """A failure for a type the topic's contract does not name; None for another
        consumer's type, which is skipped."""
        if type_ in self._topic_types.get(record.topic, ()):
            return None
        return Failure(
            record,
            f"unknown message type {type_!r} on {record.topic}: no contract of this consumer "
            "names it (a newer producer?); replay it once this consumer knows the type",
        )


def _short(error: ValidationError) -> str:
    parts = [
        f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in error.errors()[:5]
    ]
    return "; ".join(parts)
