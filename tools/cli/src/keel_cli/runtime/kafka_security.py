"""The local broker secured (`keel up --secure-broker`): SASL logins and ACLs, as in production.

Every client authenticates with SASL/SCRAM-SHA-512: one login per service, and `keel` for the
operator tools. The broker's own login (PLAIN, static in its configuration, because SCRAM logins
live in the metadata the broker must first be up to read) serves the broker and controller
among themselves and provisioning. The StandardAuthorizer then refuses whatever the registry's
grants (keel_kit.kafka_grants) do not allow.

The passwords are made once per state folder, in kafka/logins.json (readable by its owner only).
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from keel_contracts import SERVICES
from keel_kit.kafka_access import PLAIN, KafkaAccess
from keel_kit.kafka_grants import TOOLS_LOGIN

BROKER_LOGIN = "broker"
LISTENER = "BROKER"  # the same name as docker-compose and deploy/k8s give it


def _logins_file(home: Path) -> Path:
    return home / "logins.json"


def _marker(home: Path) -> Path:
    return home / "secured"


def logins(home: Path) -> dict[str, str]:
    """Every login's password, made on first use: the broker's, the tools', each service's."""
    path = _logins_file(home)
    if path.is_file():
        known: dict[str, str] = json.loads(path.read_text())
        return known
    made = {name: secrets.token_urlsafe(24) for name in (BROKER_LOGIN, TOOLS_LOGIN, *SERVICES)}
    home.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(made, file, indent=2)
    return made


def is_secured(home: Path) -> bool:
    """Whether the broker of this state folder was last started secured."""
    return _marker(home).is_file()


def mark(home: Path, secured: bool) -> None:
    if secured:
        _marker(home).touch()
    else:
        _marker(home).unlink(missing_ok=True)


def listener_properties(home: Path, host: str, port: int, controller_port: int) -> str:
    """server.properties lines for SASL on both listeners and the ACL authorizer."""
    password = logins(home)[BROKER_LOGIN]
    plain = (
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'username="{BROKER_LOGIN}" password="{password}" user_{BROKER_LOGIN}="{password}";'
    )
    scram = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
    return f"""\
listeners={LISTENER}://{host}:{port},CONTROLLER://{host}:{controller_port}
advertised.listeners={LISTENER}://{host}:{port},CONTROLLER://{host}:{controller_port}
inter.broker.listener.name={LISTENER}
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,{LISTENER}:SASL_PLAINTEXT
sasl.mechanism.inter.broker.protocol=PLAIN
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config={plain}
listener.name.{LISTENER.lower()}.sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN
listener.name.{LISTENER.lower()}.plain.sasl.jaas.config={plain}
listener.name.{LISTENER.lower()}.scram-sha-512.sasl.jaas.config={scram}
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:{BROKER_LOGIN};User:{TOOLS_LOGIN}
allow.everyone.if.no.acl.found=false
"""


def broker_access(home: Path, bootstrap: str) -> KafkaAccess:
    """The broker's own login: for the readiness probe and for provisioning."""
    return KafkaAccess(
        bootstrap, username=BROKER_LOGIN, password=logins(home)[BROKER_LOGIN], mechanism=PLAIN
    )


def login_access(home: Path, bootstrap: str, login: str) -> KafkaAccess:
    """A SCRAM login's access: a service's, or the tools' (`keel`)."""
    return KafkaAccess(bootstrap, username=login, password=logins(home)[login])


def service_passwords(home: Path) -> dict[str, str]:
    """The logins provisioning creates (all but the broker's, which lives in its config)."""
    return {name: password for name, password in logins(home).items() if name != BROKER_LOGIN}
