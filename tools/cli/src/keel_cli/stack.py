"""The local stack: which services exist, where they listen, how they are started and stopped."""

from __future__ import annotations

import importlib
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from keel_cli.runtime import kafka, postgres, processes
from keel_contracts import SERVICES


def _default_port(service: str) -> int:
    """A service's port as its own Settings declare it (one source of truth)."""
    settings = importlib.import_module(f"keel_{service}.settings").Settings
    port: int = settings.model_fields["port"].default
    return port


PORTS: dict[str, int] = {service: _default_port(service) for service in SERVICES}
REPO_ROOT = Path(__file__).resolve().parents[4]


@dataclass(frozen=True)
class StackConfig:
    state_dir: Path
    database: str  # "sqlite" (embedded default) or "postgres"
    kafka_port: int = 9092
    postgres_port: int = 5432

    @property
    def bootstrap(self) -> str:
        return kafka.bootstrap(self.kafka_port)


def default_state_dir() -> Path:
    return Path(os.environ.get("KEEL_STATE_DIR", REPO_ROOT / ".keel")).resolve()


def service_env(config: StackConfig, service: str) -> dict[str, str]:
    env = {
        **os.environ,
        "KEEL_STATE_DIR": str(config.state_dir / "data"),
        "KEEL_KAFKA_BOOTSTRAP_SERVERS": config.bootstrap,
    }
    prefix = f"KEEL_{service.upper()}_"
    env[f"{prefix}PORT"] = str(PORTS[service])
    if config.database == "postgres":
        env[f"{prefix}DATABASE_URL"] = postgres.url(f"keel_{service}", port=config.postgres_port)
    return env


def start_service(config: StackConfig, service: str) -> int:
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        f"keel_{service}.main:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(PORTS[service]),
        "--no-access-log",
        "--timeout-graceful-shutdown",
        "20",
    ]
    return processes.start_detached(
        service, argv, state_dir=config.state_dir, env=service_env(config, service)
    )


def ready(service: str, timeout: float = 2.0) -> tuple[bool, str]:
    """Whether the service answers /health/ready with 200, and what it said."""
    try:
        response = httpx.get(f"http://127.0.0.1:{PORTS[service]}/health/ready", timeout=timeout)
    except httpx.HTTPError as error:
        return False, f"not answering ({type(error).__name__})"
    return response.status_code == 200, response.text


def wait_ready(services: tuple[str, ...] = SERVICES, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    pending = list(services)
    while pending:
        pending = [s for s in pending if not ready(s)[0]]
        if not pending:
            return
        if time.monotonic() > deadline:
            details = "; ".join(f"{s}: {ready(s)[1]}" for s in pending)
            raise TimeoutError(f"not ready after {timeout:.0f}s: {details}")
        time.sleep(0.5)


def url(service: str) -> str:
    return f"http://127.0.0.1:{PORTS[service]}"
