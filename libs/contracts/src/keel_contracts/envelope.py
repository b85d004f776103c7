"""The envelope every Keel message travels in, and the base class of every payload."""

from __future__ import annotations

import builtins
import functools
import os
import time
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar, cast

from pydantic import Field, create_model

from keel_contracts.wire import WireModel

SCHEMA_VERSION = 1


def new_event_id() -> uuid.UUID:
    """Return a UUIDv7: time-ordered, so ids sort by creation and index well as dedupe keys."""
    unix_ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (unix_ms & (2**48 - 1)) << 80
    value |= 0x7 << 76  # version 7
    value |= ((rand >> 62) & 0xFFF) << 64  # 12 random bits (rand_a)
    value |= 0b10 << 62  # RFC 9562 variant
    value |= rand & (2**62 - 1)  # 62 random bits (rand_b)
    return uuid.UUID(int=value)


class Message(WireModel):
    """Base of every event and command payload.

    Consumers ignore fields they do not know (contracts only grow within a major version), and a
    parsed payload is immutable. `type` is the explicit wire name, never derived from the class.
    """

    type: ClassVar[str]
    registry: ClassVar[dict[str, builtins.type[Message]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        wire_type = cls.__dict__.get("type")
        if isinstance(wire_type, str):
            if wire_type in Message.registry:
                raise TypeError(f"message type {wire_type!r} is declared twice")
            Message.registry[wire_type] = cls


M = TypeVar("M", bound=Message)


class Envelope(WireModel):
    """Metadata that travels with every payload (DESIGN §4).

    `event_id` is the consumers' dedupe key; `correlation_id` ties every message of one business
    flow together (usually the order id), `causation_id` names the message that caused this one,
    and `traceparent` carries the W3C trace context so a trace survives the outbox and the broker.
    """

    event_id: uuid.UUID
    type: str
    schema_version: int = SCHEMA_VERSION
    occurred_at: datetime
    source: str
    correlation_id: str
    causation_id: str | None = None
    traceparent: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def wrap(
        cls,
        message: Message,
        *,
        source: str,
        correlation_id: str,
        causation_id: str | None = None,
        traceparent: str | None = None,
    ) -> Envelope:
        """Put a payload in a fresh envelope with a new event id and the current time."""
        return cls(
            event_id=new_event_id(),
            type=message.type,
            occurred_at=datetime.now(UTC),
            source=source,
            correlation_id=correlation_id,
            causation_id=causation_id,
            traceparent=traceparent,
            payload=message.model_dump(mode="json"),
        )

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        return cls.model_validate_json(raw)


def read_as(raw: bytes, model: type[M]) -> tuple[Envelope, M]:
    """The envelope in `raw` and its payload read as `model`, in one pass over the bytes
    (`Envelope.from_bytes` then `model_validate` make a dict first). The envelope's payload
    is then the message itself, not a dict. Raises pydantic's ValidationError."""
    envelope = enveloped(model).model_validate_json(raw)
    return envelope, cast(M, envelope.payload)


@functools.cache
def enveloped(model: type[Message]) -> type[Envelope]:
    """The envelope whose payload is `model`: what a record of that type is on the wire."""
    typed: type[Envelope] = create_model(
        f"{model.__name__}Envelope", __base__=Envelope, payload=(model, ...)
    )
    return typed


def event_types() -> dict[str, type[Message]]:
    """Every known wire type and its payload model (importing the payload modules first)."""
    from keel_contracts import commands, events  # noqa: F401  (registers the models)

    return dict(Message.registry)


def parse_payload(envelope: Envelope) -> Message:
    """Validate an envelope's payload against its declared type; unknown types raise KeyError."""
    model = event_types()[envelope.type]
    return model.model_validate(envelope.payload)
