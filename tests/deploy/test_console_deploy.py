"""docker-compose.yml and deploy/k8s run the console as its code expects: its port, only
variables its Settings read, each service's address, its own database, its probes, its cookies
and the stack's keys, and no broker or Prometheus scrape (it has neither Kafka nor /metrics).

As in test_deploy_parity.py, everything expected comes from the code (keel_console's Settings,
each service's Settings, keel_kit's key names), never from constants copied here.
"""

from __future__ import annotations

import importlib
import os
import re
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from pydantic_settings import EnvSettingsSource
from sqlalchemy.engine import make_url
from starlette.routing import Match

import keel_console
from keel_console.main import create_app
from keel_console.settings import Settings
from keel_contracts import SERVICES
from keel_kit.settings import ServiceSettings
from keel_kit.signing import StackKeys
from tests.deploy.test_deploy_parity import (
    CONSOLE,
    DOCKERFILE,
    INIT_SQL,
    PART_OF,
    ROOT,
    compose,
    created_databases,
    k8s,
    published_ports,
)
from tests.deploy.test_observability_deploy import prometheus_config

pytestmark = pytest.mark.contract

WHERE = ["compose", "k8s"]
SERVICE_ENV = "KEEL_SERVICE"  # read by the image's CMD to pick what to run, not by Settings
HEALTH = ("/health/live", "/health/ready")
DATABASE_HOST = "postgres"  # the compose service and the k8s Service of that name

Doc = dict[str, Any]


@pytest.fixture(autouse=True)
def no_keel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith(("KEEL_", "OTEL_")):
            monkeypatch.delenv(key)


def service_port(name: str) -> int:
    """The port the service listens on, from its own Settings (with no KEEL_ variables set)."""
    module = importlib.import_module(f"keel_{name}.settings")
    return cast(ServiceSettings, module.Settings()).port


def image_env() -> dict[str, str]:
    """The KEEL_ variables the Dockerfile's ENV gives every container of the image (KEEL_SERVICE
    aside: each deployment sets its own)."""
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    found: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            found |= dict(re.findall(r"(\w+)=(\S+)", line))
    return {k: v for k, v in found.items() if k.startswith("KEEL_") and k != SERVICE_ENV}


def compose_console() -> Doc:
    services = cast(Doc, compose()["services"])
    assert CONSOLE in services, f"docker-compose.yml has no service {CONSOLE}"
    return cast(Doc, services[CONSOLE])


def k8s_pod() -> Doc:
    return cast(Doc, k8s("Deployment", CONSOLE)["spec"]["template"])


def k8s_container() -> Doc:
    [container] = k8s_pod()["spec"]["containers"]
    return cast(Doc, container)


def given_env(where: str) -> dict[str, str]:
    """The variables the deployment gives the console, with the values they resolve to."""
    if where == "compose":
        return {k: str(v) for k, v in compose_console().get("environment", {}).items()}
    container = k8s_container()
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env |= k8s("ConfigMap", source["configMapRef"]["name"])["data"]
        else:
            env |= k8s("Secret", source["secretRef"]["name"])["stringData"]
    for variable in container.get("env", []):
        ref = variable.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            env[variable["name"]] = k8s("Secret", ref["name"])["stringData"][ref["key"]]
        else:
            env[variable["name"]] = str(variable["value"])
    return env


def deployed_settings(where: str, mp: pytest.MonkeyPatch) -> Settings:
    """The console's Settings as the deployed container builds them."""
    for key, value in (image_env() | given_env(where)).items():
        mp.setenv(key, value)
    return Settings()


def routed(app: FastAPI, path: str) -> bool:
    """Whether a GET of `path` reaches a route (included routers may be lazy branches, so the
    paths are not all listed in app.routes); the lifespan never runs."""
    scope = {"type": "http", "method": "GET", "path": path, "root_path": "", "app": app}
    return any(route.matches(scope)[0] is Match.FULL for route in app.routes)


def test_compose_and_k8s_run_the_console_from_the_one_image() -> None:
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    package_dir = Path(keel_console.__file__).resolve().parents[2].relative_to(ROOT)
    assert f"-e {package_dir.as_posix()}" in dockerfile, "the image does not install the console"
    assert "keel_${KEEL_SERVICE}.main:create_app" in dockerfile
    assert create_app.__module__ == f"keel_{CONSOLE}.main"

    build = compose_console()["build"]
    assert Path(build["dockerfile"]) == DOCKERFILE.relative_to(ROOT)
    assert build["args"][SERVICE_ENV] == CONSOLE
    assert given_env("compose").get(SERVICE_ENV, CONSOLE) == CONSOLE
    assert given_env("k8s")[SERVICE_ENV] == CONSOLE
    [order] = k8s("Deployment", "order")["spec"]["template"]["spec"]["containers"]
    assert k8s_container()["image"] == order["image"]


@pytest.mark.parametrize("where", WHERE)
def test_every_variable_given_to_the_console_is_one_its_settings_read(
    where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    given = given_env(where)
    assert not [k for k in given if "KAFKA" in k], "the console never talks to Kafka"
    for key, value in given.items():
        if key == SERVICE_ENV:
            continue
        # Alone, so a variable that only repeats a default still has to be read to pass.
        with monkeypatch.context() as mp:
            mp.setenv(key, value)
            assert EnvSettingsSource(Settings)(), f"{where}: no console setting reads {key}"


@pytest.mark.parametrize("where", WHERE)
def test_the_console_uses_its_own_database(where: str, monkeypatch: pytest.MonkeyPatch) -> None:
    url = make_url(deployed_settings(where, monkeypatch).database_url)
    assert url.drivername == "postgresql+asyncpg"
    assert url.host == DATABASE_HOST
    assert url.database == f"keel_{CONSOLE}"
    assert url.database in created_databases(INIT_SQL.read_text(encoding="utf-8"))
    if where == "compose":
        assert DATABASE_HOST in compose()["services"]
    else:
        assert url.port in [p["port"] for p in k8s("Service", DATABASE_HOST)["spec"]["ports"]]


@pytest.mark.parametrize("where", WHERE)
def test_the_console_calls_each_service_at_its_name_and_port(
    where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ports = {name: service_port(name) for name in SERVICES}  # before the console's env is set
    settings = deployed_settings(where, monkeypatch)
    for name in SERVICES:
        url = urlsplit(settings.service_url(name))
        assert url.scheme == "http", f"{where}: {name} is reached inside the network"
        assert url.port == ports[name], f"{where}: {name} listens on {ports[name]}"
        if where == "compose":
            assert url.hostname == name
            assert (ports[name], ports[name]) in published_ports(compose()["services"][name])
        else:
            service = k8s("Service", name)
            namespace = service["metadata"]["namespace"]
            cluster_names = [f"{name}.{namespace}.svc.cluster.local", f"{name}.{namespace}.svc"]
            assert url.hostname in [name, f"{name}.{namespace}", *cluster_names]
            assert url.port in [p["port"] for p in service["spec"]["ports"]]


@pytest.mark.parametrize("where", WHERE)
def test_the_console_is_reached_on_the_port_it_listens_on(
    where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = deployed_settings(where, monkeypatch).port
    if where == "compose":
        service = compose_console()
        assert (port, port) in published_ports(service)
        # Plain http: only this machine may reach it.
        assert all(str(entry).startswith("127.0.0.1:") for entry in service["ports"])
        return
    deployment = k8s("Deployment", CONSOLE)
    labels = {"app.kubernetes.io/name": CONSOLE, **PART_OF}
    assert labels.items() <= deployment["metadata"]["labels"].items()
    assert labels.items() <= k8s_pod()["metadata"]["labels"].items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert port in [p["containerPort"] for p in k8s_container()["ports"]]
    service = k8s("Service", CONSOLE)
    assert labels.items() <= service["metadata"]["labels"].items()
    assert service["spec"]["selector"].items() <= k8s_pod()["metadata"]["labels"].items()
    assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(port, port)]


@pytest.mark.parametrize("where", WHERE)
def test_health_checks_ask_the_console_on_its_port(
    where: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    port = deployed_settings(where, monkeypatch).port
    if where == "compose":
        command = " ".join(compose_console()["healthcheck"]["test"])
        checked = [
            (int(p), path) for p, path in re.findall(r"http://[\w.]+:(\d+)(/[\w/]*)", command)
        ]
        assert checked == [(port, "/health/ready")]
    else:
        container = k8s_container()
        for probe, path in (("livenessProbe", "/health/live"), ("readinessProbe", "/health/ready")):
            assert container[probe]["httpGet"] == {"path": path, "port": port}
        if "startupProbe" in container:
            assert container["startupProbe"]["httpGet"]["port"] == port
            assert container["startupProbe"]["httpGet"]["path"] in HEALTH

    app = create_app(Settings(state_dir=tmp_path))
    assert not routed(app, "/no/such/path")
    for path in HEALTH:
        assert routed(app, path), f"the console has no GET {path}"


def test_compose_starts_the_console_after_its_database_keys_and_services() -> None:
    depends = compose_console()["depends_on"]
    assert depends[DATABASE_HOST]["condition"] == "service_healthy"
    assert depends["auth-keys"]["condition"] == "service_completed_successfully"
    assert set(SERVICES) <= set(depends)
    assert not {"kafka", "kafka-setup"} & set(depends), "the console never talks to Kafka"


@pytest.mark.parametrize("where", WHERE)
def test_cookies_are_secure_where_the_console_is_served_over_https(
    where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # k8s puts it behind a TLS-terminating ingress; compose serves plain http on 127.0.0.1.
    assert deployed_settings(where, monkeypatch).secure_cookies is (where == "k8s")


def compose_mounts(service: Doc) -> dict[str, tuple[str, bool]]:
    """Container path -> (volume or host path, read-only) of a compose service's mounts."""
    found = {}
    for entry in service.get("volumes", []):
        source, target, *mode = str(entry).split(":")
        found[target] = (source, mode == ["ro"])
    return found


def test_compose_console_reads_the_keys_the_services_read(monkeypatch: pytest.MonkeyPatch) -> None:
    folder = str(deployed_settings("compose", monkeypatch).auth_folder)
    mounts = compose_mounts(compose_console())
    assert folder in mounts, f"the console's auth folder {folder} is not mounted"
    volume, read_only = mounts[folder]
    assert read_only
    assert volume in compose()["volumes"], "the keys are in a named volume"
    for name in SERVICES:  # the same volume the services mount, in the same place
        assert compose_mounts(compose()["services"][name])[folder][0] == volume


def test_k8s_console_mounts_the_issuer_key_from_the_services_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = deployed_settings("k8s", monkeypatch).auth_folder
    [mount] = [m for m in k8s_container()["volumeMounts"] if m["mountPath"] == str(folder)]
    assert mount["readOnly"] is True
    volumes = {v["name"]: v for v in k8s_pod()["spec"]["volumes"]}
    secret = volumes[mount["name"]]["secret"]

    order_pod = k8s("Deployment", "order")["spec"]["template"]["spec"]
    [order_mount] = [
        m for m in order_pod["containers"][0]["volumeMounts"] if m["mountPath"] == str(folder)
    ]
    [order_volume] = [v for v in order_pod["volumes"] if v["name"] == order_mount["name"]]
    assert secret["secretName"] == order_volume["secret"]["secretName"]
    # The issuer key signs a token for anyone: the console takes it and no other key.
    issuer = StackKeys(folder).issuer_key_file.name
    assert [(i["key"], i["path"]) for i in secret["items"]] == [(issuer, issuer)]


def test_k8s_console_runs_as_locked_down_as_the_services() -> None:
    pod, order_pod = k8s_pod()["spec"], k8s("Deployment", "order")["spec"]["template"]["spec"]
    assert pod["securityContext"] == order_pod["securityContext"]
    assert k8s_container()["securityContext"] == order_pod["containers"][0]["securityContext"]
    assert pod["terminationGracePeriodSeconds"] > 0
    assert set(k8s_container()["resources"]) == {"requests", "limits"}


def test_prometheus_never_scrapes_the_console(tmp_path: Path) -> None:
    # It serves no /metrics: a scrape would only ever fail and fire alerts.
    assert not routed(create_app(Settings(state_dir=tmp_path)), "/metrics")
    targets = [
        target
        for job in prometheus_config()["scrape_configs"]
        for group in job.get("static_configs", [])
        for target in group["targets"]
    ]
    assert not [t for t in targets if t.split(":")[0] == CONSOLE]
    annotations = k8s_pod()["metadata"].get("annotations", {})
    assert annotations.get("prometheus.io/scrape") != "true"
