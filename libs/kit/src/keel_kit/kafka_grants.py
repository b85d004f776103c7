"""What each service may do on a secured broker, derived from the topic registry.

A service writes (and may create) the topics it owns or sends commands to, reads the topics it
consumes and its own dead letters (to replay them), and uses only its own consumer group.
Nothing else: a service that writes another's topic is refused by the broker (README, "A
secured broker").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from keel_contracts import SERVICES, TOPICS, ServiceName, consumer_group, dead_letter_spec

# The operator tools' login (keel check, keel dlq, tests); a super user like the broker itself.
TOOLS_LOGIN = "keel"


@dataclass(frozen=True, order=True)
class Grant:
    """One allow rule: `principal` may do `operation` on the topic or group named `name`."""

    principal: str
    resource: Literal["topic", "group"]
    name: str
    operation: Literal["read", "write", "create"]


def principal(login: str) -> str:
    return f"User:{login}"


def grants(service: ServiceName) -> list[Grant]:
    """Everything `service` may do; what is not here the broker refuses."""
    who = principal(service)
    dead_letters = dead_letter_spec(service)
    written = [t.name for t in (*TOPICS, dead_letters) if service in t.writers]
    read = [t.name for t in TOPICS if service in t.consumers] + [dead_letters.name]
    return sorted(
        [Grant(who, "topic", name, op) for name in written for op in ("write", "create")]
        # Creating a topic it only reads keeps start order free: whoever starts first creates
        # it, with the registry's layout. Creating never lets it write there.
        + [Grant(who, "topic", name, "create") for name in read if name not in written]
        + [Grant(who, "topic", name, "read") for name in read]
        + [Grant(who, "group", consumer_group(service), "read")]
    )


def all_grants() -> list[Grant]:
    return [grant for service in SERVICES for grant in grants(service)]
