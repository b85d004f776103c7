"""Provisions a secured broker: each service's SCRAM login, and ACLs exactly as the registry says.

`keel up --secure-broker` calls `provision`; docker-compose and deploy/k8s run it as a one-shot
job before the services start:

    python -m keel_kit.kafka_setup

reading the broker's address (KEEL_KAFKA_BOOTSTRAP_SERVERS), the broker's own login
(KEEL_KAFKA_SETUP_USERNAME, KEEL_KAFKA_SETUP_PASSWORD, mechanism PLAIN) and one password per
login (KEEL_<SERVICE>_KAFKA_PASSWORD for the six services, KEEL_KAFKA_TOOLS_PASSWORD for the
operator tools). Running it again is harmless: passwords are set anew, missing ACLs added, and
ACLs of Keel's logins that the registry no longer gives are removed.

It uses confluent-kafka's admin client, because aiokafka's has neither ACLs nor SCRAM logins.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialAlteration,
    UserScramCredentialUpsertion,
)

from keel_contracts import SERVICES
from keel_kit.kafka_access import PLAIN, KafkaAccess
from keel_kit.kafka_grants import TOOLS_LOGIN, Grant, all_grants, principal

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 30.0
SCRAM_ITERATIONS = 8192

_RESOURCES = {"topic": ResourceType.TOPIC, "group": ResourceType.GROUP}
_OPERATIONS = {
    "read": AclOperation.READ,
    "write": AclOperation.WRITE,
    "create": AclOperation.CREATE,
}


def provision(admin: KafkaAccess, passwords: Mapping[str, str]) -> None:
    """Set each login's password, then make the ACLs of the service logins match the registry."""
    client = AdminClient(admin.librdkafka_config())
    _set_passwords(client, passwords)
    wanted = {_binding(grant) for grant in all_grants()}
    ours = {principal(service) for service in SERVICES}
    existing = {b for b in _describe(client) if b.principal in ours}
    stale = existing - wanted
    if stale:
        _wait(client.delete_acls([_exactly(b) for b in stale]).values())
    missing = wanted - existing
    if missing:
        _wait(client.create_acls(sorted(missing)).values())
    log.info(
        "kafka logins %s; ACLs added %d, removed %d", sorted(passwords), len(missing), len(stale)
    )


def _set_passwords(client: AdminClient, passwords: Mapping[str, str]) -> None:
    info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS)
    upserts: list[UserScramCredentialAlteration] = [
        UserScramCredentialUpsertion(login, info, password.encode())
        for login, password in sorted(passwords.items())
    ]
    _wait(client.alter_user_scram_credentials(upserts).values())


def _binding(grant: Grant) -> AclBinding:
    return AclBinding(
        _RESOURCES[grant.resource],
        grant.name,
        ResourcePatternType.LITERAL,
        grant.principal,
        "*",
        _OPERATIONS[grant.operation],
        AclPermissionType.ALLOW,
    )


def _describe(client: AdminClient) -> list[AclBinding]:
    # None matches any name, principal and host (the stubs say str; the library takes None).
    anything: Any = None
    everything = AclBindingFilter(
        ResourceType.ANY,
        anything,
        ResourcePatternType.ANY,
        anything,
        anything,
        AclOperation.ANY,
        AclPermissionType.ANY,
    )
    found: list[AclBinding] = client.describe_acls(everything).result(timeout=TIMEOUT_SECONDS)
    return found


def _exactly(binding: AclBinding) -> AclBindingFilter:
    return AclBindingFilter(
        binding.restype,
        binding.name,
        binding.resource_pattern_type,
        binding.principal,
        binding.host,
        binding.operation,
        binding.permission_type,
    )


def _wait(futures: Iterable[Any]) -> None:
    for future in futures:
        future.result(timeout=TIMEOUT_SECONDS)


def passwords_from_env(env: Mapping[str, str]) -> dict[str, str]:
    """The logins to provision: every service's, and the tools' when its password is set."""
    named = {service: f"KEEL_{service.upper()}_KAFKA_PASSWORD" for service in SERVICES}
    missing = [variable for variable in named.values() if not env.get(variable)]
    if missing:
        raise SystemExit(f"set {', '.join(missing)}")
    passwords: dict[str, str] = {service: env[name] for service, name in named.items()}
    if env.get("KEEL_KAFKA_TOOLS_PASSWORD"):
        passwords[TOOLS_LOGIN] = env["KEEL_KAFKA_TOOLS_PASSWORD"]
    return passwords


def main(env: Mapping[str, str]) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    admin = KafkaAccess(
        env.get("KEEL_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
        username=env.get("KEEL_KAFKA_SETUP_USERNAME", "broker"),
        password=env.get("KEEL_KAFKA_SETUP_PASSWORD") or sys.exit("set KEEL_KAFKA_SETUP_PASSWORD"),
        mechanism=PLAIN,
    )
    provision(admin, passwords_from_env(env))


if __name__ == "__main__":
    main(os.environ)
