"""AsyncAPI 3.0 documents built from the topic registry and the payload models, so they cannot
drift from what travels: one per service (what it sends and what it really handles) and one for
the whole suite (every topic, who writes and who reads it).

Every message is described as it is on the wire: the envelope with its payload inside, the
record headers producers really set, the record key, and the topic's partitions and retention.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

from pydantic.json_schema import models_json_schema

from keel_contracts.envelope import Message, enveloped
from keel_contracts.topics import (
    DEAD_LETTER_HEADERS,
    REPLAYED_FROM,
    SERVICES,
    TOPICS,
    ServiceName,
    TopicSpec,
    consumer_group,
    dead_letter_spec,
    topic_for_message,
)

VERSION = "0.1.0"
KAFKA_BINDING = "0.5.0"
DEAD_LETTER = "DeadLetter"
_SCHEMAS = "#/components/schemas/{model}"
_TRACEPARENT = r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"

_WIRE = """Every record's value is one JSON object, the Keel envelope: `event_id` (a UUIDv7, the \
consumers' dedupe key), `type`, `schema_version`, `occurred_at` (UTC), `source` (the service \
that wrote it), `correlation_id` (one business flow, usually the order id), `causation_id` (the \
message that caused this one) and `traceparent`, with the message itself in `payload`. A reader \
ignores fields it does not know: contracts only grow within a topic's major version, and a \
breaking change is a new topic (`….v2`) beside the old one. Delivery is at least once, in order \
per key: dedupe on `event_id`."""


def service_document(service: ServiceName, handled: Iterable[type[Message]]) -> dict[str, Any]:
    """What `service` sends (from the registry) and receives (the message types it `handled`),
    and the dead-letter topic it parks what it can never process on."""
    document = _Document(
        f"Keel {service} service",
        f"The Kafka messages the {service} service sends and reads.\n\n{_WIRE}",
    )
    for spec in TOPICS:
        if service in _senders(spec):
            document.operation(service, "send", spec, spec.messages)
    received: dict[str, list[type[Message]]] = {}
    for model in handled:
        received.setdefault(topic_for_message(model).name, []).append(model)
    for spec in TOPICS:
        if spec.name in received:
            document.operation(service, "receive", spec, received[spec.name])
    document.dead_letters(service)
    return document.build()


def suite_document() -> dict[str, Any]:
    """Every topic of the suite with every message, who sends and who reads it (the registry's
    readers), and each service's dead-letter topic."""
    document = _Document(
        "Keel",
        "Every Kafka topic of the Keel suite: its owner, its writers, its readers and its "
        f"messages.\n\n{_WIRE}",
    )
    for spec in TOPICS:
        for service in _senders(spec):
            document.operation(service, "send", spec, spec.messages)
        for service in spec.consumers:
            document.operation(service, "receive", spec, spec.messages)
    for service in SERVICES:
        document.dead_letters(service)
    return document.build()


def _senders(spec: TopicSpec) -> tuple[ServiceName, ...]:
    """A command topic is written by the services that send the commands; any other topic by
    its owner."""
    return spec.senders or (spec.owner,)


class _Document:
    """One document being assembled: channels, operations and the components they refer to."""

    def __init__(self, title: str, description: str) -> None:
        self._info = {"title": title, "version": VERSION, "description": description}
        self._channels: dict[str, dict[str, Any]] = {}
        self._operations: dict[str, dict[str, Any]] = {}
        self._messages: dict[str, dict[str, Any]] = {}
        self._models: dict[str, type[Message]] = {}

    def operation(
        self,
        service: ServiceName,
        action: str,
        spec: TopicSpec,
        messages: Iterable[type[Message]],
    ) -> None:
        self._channel(spec)
        names = sorted(model.__name__ for model in messages)
        for model in spec.messages:  # the channel lists all its topic carries
            self._messages[model.__name__] = _message(model, spec)
            self._models[model.__name__] = model
        self._operations[f"{service}-{action}s-{spec.name}"] = _operation(
            service, action, spec.name, names
        )

    def dead_letters(self, service: ServiceName) -> None:
        spec = dead_letter_spec(service)
        group = consumer_group(service)
        self._channels[spec.name] = {
            "address": spec.name,
            "title": spec.name,
            "description": (
                f"What the consumer group `{group}` could never process, parked with the reason "
                "so nothing is lost: the original record, byte for byte, under its original key. "
                "Nothing consumes it; operations read it and replay a record, once fixed, onto "
                "its original topic (`keel dlq`, or `GET /v1/dead-letters` on the service)."
            ),
            "messages": {DEAD_LETTER: {"$ref": f"#/components/messages/{DEAD_LETTER}"}},
            "bindings": {"kafka": _topic_binding(spec)},
        }
        self._messages[DEAD_LETTER] = _DEAD_LETTER_MESSAGE
        self._operations[f"{service}-sends-{spec.name}"] = _operation(
            service, "send", spec.name, [DEAD_LETTER]
        )

    def _channel(self, spec: TopicSpec) -> None:
        if spec.name in self._channels:
            return
        readers = ", ".join(spec.consumers) or "no Keel service (it is there for partners)"
        self._channels[spec.name] = {
            "address": spec.name,
            "title": spec.name,
            "description": (
                f"Owned by {spec.owner}; written by {', '.join(_senders(spec))}; read by "
                f"{readers}. Keyed by `{spec.key}`, so one {spec.key}'s messages stay in order on "
                "one partition."
            ),
            "messages": {
                model.__name__: {"$ref": f"#/components/messages/{model.__name__}"}
                for model in spec.messages
            },
            "bindings": {"kafka": _topic_binding(spec)},
        }

    def build(self) -> dict[str, Any]:
        return {
            "asyncapi": "3.0.0",
            "info": self._info,
            "defaultContentType": "application/json",
            "servers": _SERVERS,
            "channels": dict(sorted(self._channels.items())),
            "operations": dict(sorted(self._operations.items())),
            "components": {
                "messages": dict(sorted(self._messages.items())),
                "schemas": _schemas(self._models.values()),
            },
        }


def _operation(
    service: ServiceName, action: str, channel: str, messages: list[str]
) -> dict[str, Any]:
    pointer = channel.replace("~", "~0").replace("/", "~1")
    operation: dict[str, Any] = {
        "action": action,
        "channel": {"$ref": f"#/channels/{pointer}"},
        "summary": f"{service} {action}s on {channel}",
        "messages": [{"$ref": f"#/channels/{pointer}/messages/{name}"} for name in messages],
    }
    if action == "receive":
        group = {"type": "string", "enum": [consumer_group(service)]}
        operation["bindings"] = {"kafka": {"groupId": group, "bindingVersion": KAFKA_BINDING}}
    return operation


def _topic_binding(spec: TopicSpec) -> dict[str, Any]:
    """Partitions and retention or compaction, as the topic is created from the registry."""
    settings: dict[str, Any] = {}
    for name, value in spec.config().items():
        settings[name] = [value] if name == "cleanup.policy" else int(value)
    return {
        "partitions": spec.partitions,
        "topicConfiguration": settings,
        "bindingVersion": KAFKA_BINDING,
    }


def _message(model: type[Message], spec: TopicSpec) -> dict[str, Any]:
    doc = inspect.getdoc(model)
    message: dict[str, Any] = {
        "name": model.type,
        "title": model.__name__,
        "summary": f"`{model.type}` on {spec.name}",
        "contentType": "application/json",
        "headers": _headers(model.type),
        "payload": {"$ref": _SCHEMAS.format(model=enveloped(model).__name__)},
        "correlationId": {
            "description": "One business flow (usually the order id), in the envelope.",
            "location": "$message.payload#/correlation_id",
        },
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": f"The {spec.key}."},
                "bindingVersion": KAFKA_BINDING,
            }
        },
    }
    if doc and doc != inspect.getdoc(Message):
        message["description"] = doc
    return message


def _headers(wire_type: str) -> dict[str, Any]:
    """The record headers every Keel producer sets (the outbox writes them with the row)."""
    return {
        "type": "object",
        "required": ["content-type", "keel-type"],
        "properties": {
            "content-type": {"type": "string", "const": "application/json"},
            "keel-type": {
                "type": "string",
                "const": wire_type,
                "description": "The envelope's `type`, so a reader can skip a record unread.",
            },
            "traceparent": {
                "type": "string",
                "pattern": _TRACEPARENT,
                "description": "W3C trace context of the write; absent when it was not traced.",
            },
            REPLAYED_FROM: {
                "type": "string",
                "description": "On a record replayed from a dead letter: `<dlq topic>@<offset>`.",
            },
        },
    }


def _schemas(models: Iterable[type[Message]]) -> dict[str, Any]:
    """Each message's envelope (its `type` fixed) and every model it refers to, as JSON Schema."""
    pairs = sorted(
        {(enveloped(model), model.type) for model in models}, key=lambda p: p[0].__name__
    )
    _, schema = models_json_schema(
        [(envelope, "serialization") for envelope, _ in pairs], ref_template=_SCHEMAS
    )
    definitions: dict[str, Any] = schema.get("$defs", {})
    for envelope, wire_type in pairs:
        properties = definitions[envelope.__name__]["properties"]
        properties["type"] = {"type": "string", "const": wire_type, "title": "Type"}
    return dict(sorted(definitions.items()))


_SERVERS = {
    "local": {
        "host": "127.0.0.1:9092",
        "protocol": "kafka",
        "description": (
            "The broker `./keel up` starts. Elsewhere the services read the bootstrap servers "
            "from KEEL_KAFKA_BOOTSTRAP_SERVERS; a secured broker takes SASL/SCRAM over TLS, with "
            "a principal per service allowed only its own topics."
        ),
    }
}

_DEAD_LETTER_MEANINGS = (
    "The topic the record was read from.",
    "Its partition there.",
    "Its offset there.",
    "The consumer that gave up on it.",
    "Why, in at most 2,000 characters.",
    "When, in UTC (ISO 8601).",
)
_DEAD_LETTER_MESSAGE: dict[str, Any] = {
    "name": "dead_letter",
    "title": DEAD_LETTER,
    "summary": "A record a consumer group could never process, with the reason",
    "payload": {
        "description": (
            "The failed record's value as it was read: usually a Keel envelope, but it may be "
            "anything a producer wrote (that is often why it failed)."
        )
    },
    "headers": {
        "type": "object",
        "required": list(DEAD_LETTER_HEADERS),
        "properties": {
            name: {"type": "string", "description": description}
            for name, description in zip(DEAD_LETTER_HEADERS, _DEAD_LETTER_MEANINGS, strict=True)
        },
        "additionalProperties": {
            "type": "string",
            "description": "The original record's headers, kept as they were.",
        },
    },
    "bindings": {
        "kafka": {
            "key": {"type": "string", "description": "The original record's key."},
            "bindingVersion": KAFKA_BINDING,
        }
    },
}
