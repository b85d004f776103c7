"""Prometheus, from Debian's package: it scrapes every service and evaluates Keel's rules, on
127.0.0.1:9090.

Its configuration is written into the state folder at each start (the targets are this stack's
services); the rules are read from deploy/prometheus/rules, the file docker-compose mounts too.
Exemplars are stored (a feature flag in the 2.x line), so a slow bucket leads to its trace.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from keel_cli.runtime import processes

NAME = "prometheus"
HOST = "127.0.0.1"
PORT = 9090
SCRAPE_SECONDS = 5  # a handful of local targets: cheap, and a new stack shows up at once
RETENTION = "2d"
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


def url(port: int = PORT) -> str:
    return f"http://{HOST}:{port}"


def rules_dir() -> Path:
    return processes.deploy_path("prometheus/rules", marker="keel.rules.yml")


def config(targets: Mapping[str, int], *, port: int = PORT) -> dict[str, object]:
    """The configuration for scraping each service (name → port) on loopback, and itself."""
    return {
        "global": {
            "scrape_interval": f"{SCRAPE_SECONDS}s",
            "evaluation_interval": f"{SCRAPE_SECONDS}s",
        },
        "rule_files": [str(rules_dir() / "*.rules.yml")],
        "scrape_configs": [
            {
                "job_name": "keel",
                "static_configs": [
                    {"targets": [f"{HOST}:{port}"], "labels": {"service": service}}
                    for service, port in targets.items()
                ],
            },
            {"job_name": "prometheus", "static_configs": [{"targets": [f"{HOST}:{port}"]}]},
        ],
    }


def start(state_dir: Path, targets: Mapping[str, int], *, port: int = PORT) -> None:
    """Start the server unless it already runs; returns once it is ready."""
    state_dir = state_dir.resolve()
    home = state_dir / NAME
    if not processes.is_running(NAME, state_dir=state_dir):
        if processes.port_open(HOST, port):
            raise RuntimeError(f"port {port} is taken by a process this state dir did not start")
        binary = processes.installed_command("prometheus", package="prometheus")
        home.mkdir(parents=True, exist_ok=True)
        config_file = home / "prometheus.yml"
        config_file.write_text(
            json.dumps(config(targets, port=port), indent=2) + "\n"
        )  # JSON is YAML
        argv = [
            binary,
            f"--config.file={config_file}",
            f"--storage.tsdb.path={home / 'data'}",
            f"--storage.tsdb.retention.time={RETENTION}",
            f"--web.listen-address={HOST}:{port}",
            "--enable-feature=exemplar-storage",
        ]
        processes.start_detached(NAME, argv, state_dir=state_dir)
    processes.wait_for_http(
        NAME, state_dir=state_dir, url=f"{url(port)}/-/ready", timeout=READY_TIMEOUT
    )


def stop(state_dir: Path) -> None:
    processes.stop(NAME, state_dir=state_dir.resolve(), timeout=STOP_TIMEOUT)


def is_running(state_dir: Path) -> bool:
    return processes.is_running(NAME, state_dir=state_dir.resolve())
