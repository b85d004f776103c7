"""docker-compose and deploy/k8s secure the broker as `keel up --secure-broker` does, and give
every service, and the provisioning job, the login it needs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from keel_cli.runtime import kafka_security
from keel_contracts import SERVICES
from keel_kit.kafka_setup import passwords_from_env
from tests.deploy.test_deploy_parity import compose, k8s

pytestmark = pytest.mark.contract

# What decides who gets in and what they may do; every other broker setting may differ.
SECURITY_SETTINGS = (
    "inter.broker.listener.name",
    "sasl.mechanism.inter.broker.protocol",
    "sasl.mechanism.controller.protocol",
    "listener.name.controller.sasl.enabled.mechanisms",
    "listener.name.broker.sasl.enabled.mechanisms",
    "authorizer.class.name",
    "super.users",
    "allow.everyone.if.no.acl.found",
)
COMPOSE_DEFAULT = re.compile(r"\$\{(\w+):-([^}]*)\}")


def image_property(variable: str) -> str:
    """The apache/kafka image's reading of KAFKA_A_B: a.b, with "__" for "_", "___" for "-"."""
    name = variable.removeprefix("KAFKA_")
    return (
        name.replace("___", "\0")
        .replace("__", "\1")
        .replace("_", ".")
        .lower()
        .translate({0: "-", 1: "_"})
    )


def broker_properties(env: dict[str, str]) -> dict[str, str]:
    return {image_property(k): v for k, v in env.items() if k.startswith("KAFKA_")}


def local_properties(tmp_path: Path) -> dict[str, str]:
    text = kafka_security.listener_properties(tmp_path, "127.0.0.1", 9092, 9093)
    return dict(line.split("=", 1) for line in text.splitlines())


def with_compose_defaults(value: Any) -> str:
    return COMPOSE_DEFAULT.sub(lambda m: m.group(2), str(value))


def compose_env(service: str) -> dict[str, str]:
    env = compose()["services"][service]["environment"]
    return {key: with_compose_defaults(value) for key, value in env.items()}


def k8s_kafka_env() -> dict[str, str]:
    [container] = k8s("StatefulSet", "kafka")["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e["value"] for e in container["env"] if "value" in e}


@pytest.mark.parametrize("where", ["compose", "k8s"])
def test_the_deployed_broker_is_secured_as_the_local_one(where: str, tmp_path: Path) -> None:
    env = compose_env("kafka") if where == "compose" else k8s_kafka_env()
    deployed, local = broker_properties(env), local_properties(tmp_path)
    for setting in SECURITY_SETTINGS:
        assert deployed[setting] == local[setting], setting
    protocols = dict(p.split(":") for p in deployed["listener.security.protocol.map"].split(","))
    assert set(protocols.values()) == {"SASL_PLAINTEXT"}, "a listener takes clients unlogged"
    jaas = {k: v for k, v in deployed.items() if k.endswith("sasl.jaas.config")}
    for listener in (name.lower() for name in protocols):
        for mechanism in deployed[f"listener.name.{listener}.sasl.enabled.mechanisms"].split(","):
            key = f"listener.name.{listener}.{mechanism.lower()}.sasl.jaas.config"
            assert key in jaas, f"{where}: {listener} offers {mechanism} without its login module"


def test_compose_gives_each_service_and_the_setup_its_login() -> None:
    setup = compose_env("kafka-setup")
    passwords = passwords_from_env(setup)
    assert set(passwords) == {*SERVICES, "keel"}
    broker_login = compose_env("kafka")["KAFKA_LISTENER_NAME_BROKER_PLAIN_SASL_JAAS_CONFIG"]
    assert f'user_broker="{setup["KEEL_KAFKA_SETUP_PASSWORD"]}"' in broker_login
    for service in SERVICES:
        env = compose_env(service)
        assert env[f"KEEL_{service.upper()}_KAFKA_PASSWORD"] == passwords[service], service
        depends = compose()["services"][service]["depends_on"]
        assert depends["kafka-setup"]["condition"] == "service_completed_successfully"


def test_k8s_gives_each_service_and_the_setup_job_its_login() -> None:
    secret = k8s("Secret", "keel-kafka-logins")
    assert set(passwords_from_env(secret["stringData"])) == {*SERVICES, "keel"}
    [job] = k8s("Job", "kafka-setup")["spec"]["template"]["spec"]["containers"]
    assert job["command"] == ["python", "-m", "keel_kit.kafka_setup"]
    assert {"secretRef": {"name": "keel-kafka-logins"}} in job["envFrom"]
    for service in SERVICES:
        [container] = k8s("Deployment", service)["spec"]["template"]["spec"]["containers"]
        variable = f"KEEL_{service.upper()}_KAFKA_PASSWORD"
        [login] = [e for e in container["env"] if e["name"] == variable]
        ref = login["valueFrom"]["secretKeyRef"]
        assert (ref["name"], ref["key"]) == ("keel-kafka-logins", variable)
