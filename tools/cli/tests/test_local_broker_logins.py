"""The local secured broker's logins and listener settings (`keel up --secure-broker`)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from keel_cli.runtime import kafka, kafka_security
from keel_contracts import SERVICES

pytestmark = pytest.mark.unit


def test_logins_are_made_once_readable_by_their_owner_only(tmp_path: Path) -> None:
    made = kafka_security.logins(tmp_path)
    assert set(made) == {"broker", "keel", *SERVICES}
    assert len(set(made.values())) == len(made), "every login has its own password"
    assert stat.S_IMODE((tmp_path / "logins.json").stat().st_mode) == 0o600
    assert kafka_security.logins(tmp_path) == made
    assert "broker" not in kafka_security.service_passwords(tmp_path)


def test_the_secured_listeners_take_logins_only_and_the_authorizer_decides(tmp_path: Path) -> None:
    text = kafka_security.listener_properties(tmp_path, "127.0.0.1", 9092, 9093)
    properties = dict(line.split("=", 1) for line in text.splitlines())
    protocols = properties["listener.security.protocol.map"].split(",")
    assert {p.split(":")[1] for p in protocols} == {"SASL_PLAINTEXT"}
    assert properties["super.users"] == "User:broker;User:keel"
    assert properties["allow.everyone.if.no.acl.found"] == "false"
    assert properties["authorizer.class.name"].endswith("StandardAuthorizer")
    assert (
        kafka_security.logins(tmp_path)["broker"]
        in properties["listener.name.controller.plain.sasl.jaas.config"]
    )


def test_a_state_folder_remembers_whether_its_broker_is_secured(tmp_path: Path) -> None:
    home = tmp_path / "kafka"
    home.mkdir()
    assert not kafka.is_secured(tmp_path)
    assert kafka.broker_access(tmp_path).username is None
    kafka_security.mark(home, True)
    assert kafka.is_secured(tmp_path)
    assert kafka.broker_access(tmp_path).mechanism == "PLAIN"
    assert kafka.login_access(tmp_path, "127.0.0.1:9092", "order").username == "order"
    kafka_security.mark(home, False)
    assert not kafka.is_secured(tmp_path)
