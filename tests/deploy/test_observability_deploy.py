"""docker-compose and deploy/k8s run the tracing and metrics the local runtime runs: the same
Kafka and Zipkin versions, every service sending spans to Zipkin, Prometheus scraping every
service, and Grafana wired to both.

Versions come from the local runtime's poms, ports from the services' Settings and the Zipkin
endpoint's path from keel_cli.runtime.zipkin, so a change there without the deploy files fails.
"""

from __future__ import annotations

import importlib
import re
import xml.etree.ElementTree as ET
from fnmatch import fnmatch
from pathlib import PurePosixPath
from typing import Any, cast
from urllib.parse import urlsplit

import pytest
import yaml

from keel_cli.runtime import zipkin
from keel_contracts import SERVICES
from keel_kit.settings import ServiceSettings
from tests.deploy.promtool import promtool
from tests.deploy.test_deploy_parity import ROOT, compose, k8s, published_ports

pytestmark = pytest.mark.contract

POM = "{http://maven.apache.org/POM/4.0.0}"
PROMETHEUS_CONFIG = ROOT / "deploy" / "prometheus" / "compose.yml"
GRAFANA = ROOT / "deploy" / "grafana"
ZIPKIN_ENV = "KEEL_ZIPKIN_ENDPOINT"

Doc = dict[str, Any]


def pom_property(runtime: str, name: str) -> str:
    """A version the local runtime fetches from Maven Central (deploy/local/<runtime>/pom.xml)."""
    root = ET.parse(ROOT / "deploy" / "local" / runtime / "pom.xml").getroot()
    value = root.findtext(f"{POM}properties/{POM}{name}")
    assert value, f"deploy/local/{runtime}/pom.xml has no {name}"
    return value


def service_port(name: str) -> int:
    settings = cast(
        type[ServiceSettings], importlib.import_module(f"keel_{name}.settings").Settings
    )
    return cast(int, settings.model_fields["port"].default)


def container(kind: str, name: str) -> Doc:
    [only] = k8s(kind, name)["spec"]["template"]["spec"]["containers"]
    return cast(Doc, only)


def k8s_env(name: str) -> dict[str, str]:
    """A Deployment's plain variables, its ConfigMaps' included."""
    found = container("Deployment", name)
    env: dict[str, str] = {}
    for source in found.get("envFrom", []):
        if "configMapRef" in source:
            env |= k8s("ConfigMap", source["configMapRef"]["name"])["data"]
    env |= {e["name"]: str(e["value"]) for e in found.get("env", []) if "value" in e}
    return env


def mounts(service: str) -> dict[str, str]:
    """Container path -> host path of a compose service's bind mounts (host relative to ROOT)."""
    found = {}
    for volume in compose()["services"][service]["volumes"]:
        host, target = str(volume).split(":")[:2]
        found[target] = str(PurePosixPath(host))
    return found


def test_kafka_runs_the_local_runtimes_version_everywhere() -> None:
    image = f"apache/kafka:{pom_property('kafka', 'kafka.version')}"
    assert compose()["services"]["kafka"]["image"] == image
    assert container("StatefulSet", "kafka")["image"] == image
    # The integration tests' testcontainers broker, when a Docker engine answers.
    conftest = (ROOT / "tests" / "conftest.py").read_text(encoding="utf-8")
    assert re.findall(r'"([\w./-]*kafka[\w.-]*:[\w.-]+)"', conftest) == [image]


def test_zipkin_runs_the_local_runtimes_version_and_span_cap() -> None:
    image = f"openzipkin/zipkin:{pom_property('zipkin', 'zipkin.version')}"
    compose_zipkin = compose()["services"]["zipkin"]
    k8s_zipkin = container("Deployment", "zipkin")
    assert compose_zipkin["image"] == k8s_zipkin["image"] == image
    k8s_zipkin_env = {e["name"]: e["value"] for e in k8s_zipkin["env"]}
    for env in (compose_zipkin["environment"], k8s_zipkin_env):
        assert env["STORAGE_TYPE"] == "mem"
        assert int(env["MEM_MAX_SPANS"]) == zipkin.MAX_SPANS
        assert re.search(r"-Xmx\d+m", env["JAVA_OPTS"]), "the image's default heap is too small"


def assert_spans_endpoint(url: str, name: str, mp: pytest.MonkeyPatch) -> str:
    """The URL is Zipkin's v2 spans API and the service's Settings read it; returns its host."""
    parts = urlsplit(url)
    assert (parts.port, parts.path) == (zipkin.PORT, urlsplit(zipkin.spans_endpoint()).path)
    mp.setenv(ZIPKIN_ENV, url)
    settings = importlib.import_module(f"keel_{name}.settings").Settings()
    assert settings.zipkin_endpoint == url
    return str(parts.hostname)


@pytest.mark.parametrize("name", SERVICES)
def test_compose_services_send_spans_to_the_compose_zipkin(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = compose()["services"][name]["environment"]
    host = assert_spans_endpoint(env[ZIPKIN_ENV], name, monkeypatch)
    assert host == "zipkin"
    assert (zipkin.PORT, zipkin.PORT) in published_ports(compose()["services"]["zipkin"])
    assert "healthcheck" in compose()["services"]["zipkin"]


@pytest.mark.parametrize("name", SERVICES)
def test_k8s_services_send_spans_to_the_namespaces_zipkin(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = assert_spans_endpoint(k8s_env(name)[ZIPKIN_ENV], name, monkeypatch)
    service = k8s("Service", "zipkin")
    assert host == f"zipkin.{service['metadata']['namespace']}.svc.cluster.local"
    assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [
        (zipkin.PORT, zipkin.PORT)
    ]
    pod = k8s("Deployment", "zipkin")["spec"]["template"]
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    zipkin_container = container("Deployment", "zipkin")
    assert zipkin.PORT in [p["containerPort"] for p in zipkin_container["ports"]]
    assert zipkin_container["readinessProbe"]["httpGet"] == {"path": "/health", "port": zipkin.PORT}
    assert set(zipkin_container["resources"]) == {"requests", "limits"}


def prometheus_config() -> Doc:
    return cast(Doc, yaml.safe_load(PROMETHEUS_CONFIG.read_text(encoding="utf-8")))


def test_compose_prometheus_scrapes_every_service_with_its_service_label() -> None:
    [job] = [j for j in prometheus_config()["scrape_configs"] if j["job_name"] == "keel"]
    assert job.get("metrics_path", "/metrics") == "/metrics"
    targets = {
        target: group.get("labels", {})
        for group in job["static_configs"]
        for target in group["targets"]
    }
    expected = {f"{name}:{service_port(name)}": {"service": name} for name in SERVICES}
    assert targets == expected
    for name in SERVICES:  # the port scraped is one the compose service listens on
        port = service_port(name)
        assert port in {inside for _, inside in published_ports(compose()["services"][name])}


def test_compose_prometheus_loads_this_config_and_the_rules() -> None:
    prometheus = compose()["services"]["prometheus"]
    # A v2 server, as the local runtime's Debian package is, so both accept the same rules.
    assert re.fullmatch(r"prom/prometheus:v2\.\d+\.\d+", prometheus["image"])
    flags = dict(flag.split("=", 1) for flag in prometheus["command"])
    assert "exemplar-storage" in flags["--enable-feature"].split(","), "no trace links"
    listen_port = int(flags["--web.listen-address"].rsplit(":", 1)[1])
    assert (listen_port, listen_port) in published_ports(prometheus)

    mounted = mounts("prometheus")
    assert mounted[flags["--config.file"]] == "deploy/prometheus/compose.yml"
    [rules] = prometheus_config()["rule_files"]
    rules_dir, pattern = str(PurePosixPath(rules).parent), PurePosixPath(rules).name
    assert mounted[rules_dir] == "deploy/prometheus/rules"
    assert fnmatch("keel.rules.yml", pattern)
    # A rules file the pattern misses would be ignored without a word.
    for written in (ROOT / mounted[rules_dir]).glob("*.y*ml"):
        assert fnmatch(written.name, pattern), f"{written.name} is not loaded"


def test_compose_prometheus_config_passes_promtool() -> None:
    result = promtool("check", "config", str(PROMETHEUS_CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr


def provisioned(folder: str, key: str) -> list[Doc]:
    return [
        entry
        for path in sorted((GRAFANA / "provisioning" / folder).glob("*.yml"))
        for entry in yaml.safe_load(path.read_text(encoding="utf-8"))[key]
    ]


def test_grafana_reads_prometheus_and_links_exemplars_to_zipkin() -> None:
    sources = {s["uid"]: s for s in provisioned("datasources", "datasources")}
    prometheus, traces = sources["keel-prometheus"], sources["keel-zipkin"]
    assert (prometheus["type"], traces["type"]) == ("prometheus", "zipkin")
    assert prometheus["url"] == "http://prometheus:9090"
    assert traces["url"] == f"http://zipkin:{zipkin.PORT}"
    assert prometheus["jsonData"]["exemplarTraceIdDestinations"] == [
        {"name": "trace_id", "datasourceUid": "keel-zipkin"}
    ]


def test_compose_grafana_provisions_the_dashboards_for_anonymous_viewers() -> None:
    grafana = compose()["services"]["grafana"]
    assert (3000, 3000) in published_ports(grafana)
    mounted = mounts("grafana")
    assert mounted["/etc/grafana/provisioning"] == "deploy/grafana/provisioning"
    [provider] = provisioned("dashboards", "providers")
    assert mounted[provider["options"]["path"]] == "deploy/grafana/dashboards"

    env = {key: str(value) for key, value in grafana["environment"].items()}
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "true"
    assert env["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"
    for call_home in ("REPORTING_ENABLED", "CHECK_FOR_UPDATES", "CHECK_FOR_PLUGIN_UPDATES"):
        assert env[f"GF_ANALYTICS_{call_home}"] == "false"
    # No plugin fetched at start.
    assert "GF_INSTALL_PLUGINS" not in env
    assert "GF_PLUGINS_PREINSTALL" not in env


def test_a_cluster_prometheus_labels_each_keel_pod_with_its_service() -> None:
    """deploy/prometheus/kubernetes.yml keeps the pods deploy/k8s annotates, and gives each
    the `service` label the rules and dashboards group by."""
    config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "kubernetes.yml").read_text())
    [job] = config["scrape_configs"]
    relabels = job["relabel_configs"]
    kept = {r["source_labels"][0]: r["regex"] for r in relabels if r.get("action") == "keep"}
    assert kept == {
        "__meta_kubernetes_pod_annotation_prometheus_io_scrape": "true",
        "__meta_kubernetes_pod_label_app_kubernetes_io_part_of": "keel",
    }
    named = [r for r in relabels if r.get("target_label") == "service"]
    assert named == [
        {
            "source_labels": ["__meta_kubernetes_pod_label_app_kubernetes_io_name"],
            "target_label": "service",
        }
    ]
    assert config["rule_files"] == ["rules/*.rules.yml"]
    # The pods say what to scrape with the annotations the job reads.
    for service in SERVICES:
        pod = k8s("Deployment", service)["spec"]["template"]
        assert pod["metadata"]["annotations"]["prometheus.io/scrape"] == "true"
        assert pod["metadata"]["labels"]["app.kubernetes.io/name"] == service
