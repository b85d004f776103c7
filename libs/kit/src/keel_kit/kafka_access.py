"""How a client reaches the broker: its address, and on a secured broker whose login it uses.

A secured broker (README, "A secured broker") authenticates every client with
SASL/SCRAM-SHA-512, one login per service, and its ACLs let each service write only its own
topics. Every Kafka client Keel makes takes its options from here, so none can forget the login.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from faststream.security import SASLPlaintext, SASLScram512

SCRAM = "SCRAM-SHA-512"
# The broker's own login, static in its configuration (SCRAM logins live in the cluster's
# metadata, which the broker cannot read before it is up); Keel uses it only to provision.
PLAIN = "PLAIN"


@dataclass(frozen=True)
class KafkaAccess:
    bootstrap_servers: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    mechanism: str = SCRAM

    def __post_init__(self) -> None:
        if (self.username is None) != (self.password is None):
            raise ValueError("a Kafka login needs both a username and a password")
        if self.mechanism not in (SCRAM, PLAIN):
            raise ValueError(f"unknown SASL mechanism {self.mechanism!r}")

    def client_options(self) -> dict[str, Any]:
        """aiokafka's keyword arguments: the address, plus SCRAM when there is a login.

        SASL_PLAINTEXT: SCRAM never sends the password itself; a broker reached over an
        untrusted network also wants TLS, which these options do not set up.
        """
        options: dict[str, Any] = {"bootstrap_servers": self.bootstrap_servers}
        if self.username is not None:
            options |= {
                "security_protocol": "SASL_PLAINTEXT",
                "sasl_mechanism": self.mechanism,
                "sasl_plain_username": self.username,
                "sasl_plain_password": self.password,
            }
        return options

    def faststream_security(self) -> SASLScram512 | SASLPlaintext | None:
        """The same login as FastStream's KafkaBroker takes it."""
        if self.username is None or self.password is None:
            return None
        if self.mechanism == PLAIN:
            return SASLPlaintext(self.username, self.password)
        return SASLScram512(self.username, self.password)

    def librdkafka_config(self) -> dict[str, str | int | float | bool]:
        """The same, as librdkafka (confluent-kafka, used to provision) spells it."""
        config: dict[str, str | int | float | bool] = {"bootstrap.servers": self.bootstrap_servers}
        if self.username is not None and self.password is not None:
            config |= {
                "security.protocol": "SASL_PLAINTEXT",
                "sasl.mechanisms": self.mechanism,
                "sasl.username": self.username,
                "sasl.password": self.password,
            }
        return config
