"""docker-compose.yml and deploy/k8s/ agree with the code: ports, env names, databases, routes.

Everything expected comes from the services themselves (their Settings and apps), never from
constants copied here, so changing a port or a prefix in code without the deploy files fails.
"""

from __future__ import annotations

import importlib
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, cast

import pytest
import yaml
from fastapi import FastAPI
from sqlalchemy.engine import make_url
from starlette.routing import Match

import keel_console
from keel_contracts import SERVICES
from keel_kit.settings import ServiceSettings

pytestmark = pytest.mark.contract

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
K8S = ROOT / "deploy" / "k8s"
DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"
INIT_SQL = ROOT / "deploy" / "docker" / "postgres-init.sql"
KAFKA_ENV = "KEEL_KAFKA_BOOTSTRAP_SERVERS"
# The web console, deployed beside the services but not one of them (keel_contracts.SERVICES).
CONSOLE = keel_console.__name__.removeprefix("keel_")
PART_OF = {"app.kubernetes.io/part-of": "keel"}

Doc = dict[str, Any]


@dataclass(frozen=True)
class Code:
    """What a service's code says about how it is deployed."""

    name: str
    settings_type: type[ServiceSettings]
    port: int
    env_prefix: str

    @property
    def database_env(self) -> str:
        return f"{self.env_prefix}DATABASE_URL"


@pytest.fixture(autouse=True)
def no_keel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith(("KEEL_", "OTEL_")):
            monkeypatch.delenv(key)


@pytest.fixture(params=SERVICES)
def code(request: pytest.FixtureRequest, no_keel_env: None) -> Code:
    name = cast(str, request.param)
    module = importlib.import_module(f"keel_{name}.settings")
    settings_type = cast(type[ServiceSettings], module.Settings)
    settings = settings_type()
    return Code(name, settings_type, settings.port, str(settings_type.model_config["env_prefix"]))


@cache
def compose() -> Doc:
    return cast(Doc, yaml.safe_load(COMPOSE.read_text(encoding="utf-8")))


@cache
def k8s_objects() -> tuple[Doc, ...]:
    return tuple(
        doc
        for path in sorted(K8S.glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))
        if doc
    )


def k8s(kind: str, name: str) -> Doc:
    found = [o for o in k8s_objects() if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name} in deploy/k8s, found {len(found)}"
    return found[0]


def created_databases(sql: str) -> set[str]:
    return set(re.findall(r"CREATE DATABASE (\w+)", sql, flags=re.IGNORECASE))


def assert_database_url(url: str, code: Code) -> None:
    parsed = make_url(url)
    assert parsed.drivername == "postgresql+asyncpg"
    assert parsed.host == "postgres"
    assert parsed.database == f"keel_{code.name}"
    assert parsed.database in created_databases(INIT_SQL.read_text(encoding="utf-8"))


def assert_env_reaches_settings(env: dict[str, str], code: Code, mp: pytest.MonkeyPatch) -> None:
    """The deployed variables are the ones the service's Settings actually read."""
    for key, value in env.items():
        mp.setenv(key, value)
    settings = code.settings_type()
    assert settings.database_url == env[code.database_env]
    assert settings.kafka_bootstrap_servers == env[KAFKA_ENV]
    login = settings.kafka_access()
    assert login.username == code.name, "the service logs in to the broker as itself"
    assert login.password == env[f"{code.env_prefix}KAFKA_PASSWORD"]


def compose_service(code: Code) -> Doc:
    services = cast(Doc, compose()["services"])
    assert code.name in services, f"docker-compose.yml has no service {code.name}"
    return cast(Doc, services[code.name])


def published_ports(service: Doc) -> set[tuple[int, int]]:
    """(host, container) pairs from short ("[ip:]host:container") or long port syntax."""
    pairs = set()
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            pairs.add((int(entry["published"]), int(entry["target"])))
        else:
            host, container = str(entry).split(":")[-2:]
            pairs.add((int(host), int(container)))
    return pairs


def test_compose_publishes_the_service_port(code: Code) -> None:
    assert (code.port, code.port) in published_ports(compose_service(code))


def test_compose_builds_the_one_image_for_this_service(code: Code) -> None:
    build = compose_service(code)["build"]
    assert Path(build["dockerfile"]) == DOCKERFILE.relative_to(ROOT)
    assert build["args"]["KEEL_SERVICE"] == code.name
    assert "keel_${KEEL_SERVICE}.main:create_app" in DOCKERFILE.read_text(encoding="utf-8")


def test_compose_env_points_the_service_at_its_database_and_kafka(
    code: Code, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {k: str(v) for k, v in compose_service(code)["environment"].items()}
    assert_database_url(env[code.database_env], code)
    advertised = compose()["services"]["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    assert f"BROKER://{env[KAFKA_ENV]}" in advertised.split(",")
    assert_env_reaches_settings(env, code, monkeypatch)


def test_compose_healthcheck_probes_readiness_on_the_service_port(code: Code) -> None:
    service = compose_service(code)
    command = " ".join(service["healthcheck"]["test"])
    urls = re.findall(r"http://[\w.]+:(\d+)(/[\w/]*)", command)
    assert urls == [(str(code.port), "/health/ready")]
    for dependency in ("kafka", "postgres"):
        assert service["depends_on"][dependency]["condition"] == "service_healthy"
        assert "healthcheck" in compose()["services"][dependency]


def test_k8s_deployment_runs_the_service_on_its_port(code: Code) -> None:
    deployment = k8s("Deployment", code.name)
    labels = {"app.kubernetes.io/name": code.name, **PART_OF}
    template = deployment["spec"]["template"]
    assert labels.items() <= deployment["metadata"]["labels"].items()
    assert labels.items() <= template["metadata"]["labels"].items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    annotations = template["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(code.port)
    assert annotations["prometheus.io/path"] == "/metrics"

    [container] = template["spec"]["containers"]
    assert code.port in [p["containerPort"] for p in container["ports"]]
    for probe, path in (("livenessProbe", "/health/live"), ("readinessProbe", "/health/ready")):
        assert container[probe]["httpGet"] == {"path": path, "port": code.port}
    assert {"name": "KEEL_SERVICE", "value": code.name} in container["env"]
    assert set(container["resources"]) == {"requests", "limits"}
    assert template["spec"]["terminationGracePeriodSeconds"] > 0


def test_k8s_deployment_env_points_the_service_at_its_database_and_kafka(
    code: Code, monkeypatch: pytest.MonkeyPatch
) -> None:
    [container] = k8s("Deployment", code.name)["spec"]["template"]["spec"]["containers"]
    env: dict[str, str] = {}
    for source in container["envFrom"]:
        env |= k8s("ConfigMap", source["configMapRef"]["name"])["data"]
    for variable in container["env"]:
        if "secretKeyRef" in variable.get("valueFrom", {}):
            ref = variable["valueFrom"]["secretKeyRef"]
            env[variable["name"]] = k8s("Secret", ref["name"])["stringData"][ref["key"]]

    assert_database_url(env[code.database_env], code)
    advertised = next(
        e["value"]
        for e in k8s("StatefulSet", "kafka")["spec"]["template"]["spec"]["containers"][0]["env"]
        if e["name"] == "KAFKA_ADVERTISED_LISTENERS"
    )
    assert f"BROKER://{env[KAFKA_ENV]}" in advertised.split(",")
    assert_env_reaches_settings(env, code, monkeypatch)


def test_k8s_service_routes_the_service_port_to_the_deployment(code: Code) -> None:
    service = k8s("Service", code.name)
    pod_labels = k8s("Deployment", code.name)["spec"]["template"]["metadata"]["labels"]
    assert {"app.kubernetes.io/name": code.name, **PART_OF}.items() <= service["metadata"][
        "labels"
    ].items()
    assert service["spec"]["selector"].items() <= pod_labels.items()
    ports = [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]]
    assert ports == [(code.port, code.port)]


def test_probed_paths_are_routes_of_the_app(code: Code, tmp_path: Path) -> None:
    main = importlib.import_module(f"keel_{code.name}.main")
    app = cast(FastAPI, main.create_app(code.settings_type(state_dir=tmp_path)))

    # Ask the routes to match a GET (FastAPI may keep included routers as lazy branches, so
    # the paths are not all listed in app.routes); the lifespan never runs.
    def routed(path: str) -> bool:
        scope = {"type": "http", "method": "GET", "path": path, "root_path": "", "app": app}
        return any(route.matches(scope)[0] is Match.FULL for route in app.routes)

    assert not routed("/no/such/path")
    for path in ("/health/live", "/health/ready", "/metrics"):
        assert routed(path), f"{code.name} has no GET {path}"


def test_k8s_postgres_init_matches_the_compose_init_script() -> None:
    sql = INIT_SQL.read_text(encoding="utf-8")
    scripts = k8s("ConfigMap", "postgres-init")["data"]
    assert list(scripts.values()) == [sql]
    # One database per service, and the console's own for its users and sessions.
    assert created_databases(sql) == {f"keel_{name}" for name in (*SERVICES, CONSOLE)}


def test_kafka_never_creates_topics_on_its_own() -> None:
    kafka_env = k8s("StatefulSet", "kafka")["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "KAFKA_AUTO_CREATE_TOPICS_ENABLE", "value": "false"} in kafka_env
    compose_env = compose()["services"]["kafka"]["environment"]
    assert compose_env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
