"""The local stack: which services exist, where they listen, how they are started and stopped."""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from keel_cli.runtime import kafka, observability, postgres, processes, zipkin
from keel_contracts import SERVICES
from keel_contracts.roles import Role
from keel_kit.kafka_access import KafkaAccess
from keel_kit.kafka_grants import TOOLS_LOGIN
from keel_kit.signing import StackKeys


def _default_port(service: str) -> int:
    """A service's port as its own Settings declare it (one source of truth)."""
    settings = importlib.import_module(f"keel_{service}.settings").Settings
    port: int = settings.model_fields["port"].default
    return port


# The staff's web console: started and stopped with the services, but not one of them (it owns
# no business data and reads no topic).
CONSOLE = "console"
APPS = (*SERVICES, CONSOLE)
PORTS: dict[str, int] = {app: _default_port(app) for app in APPS}
REPO_ROOT = Path(__file__).resolve().parents[4]
DATABASES = ("sqlite", "postgres")
DEFAULT_DATABASE = "sqlite"


@dataclass(frozen=True)
class StackConfig:
    state_dir: Path
    database: str  # "sqlite" (embedded default) or "postgres"
    kafka_port: int = 9092
    postgres_port: int = 5432
    secure_broker: bool | None = None  # None: as this state folder's broker last ran
    observe: bool = True  # start Zipkin (the services export to it) and Prometheus

    @property
    def bootstrap(self) -> str:
        return kafka.bootstrap(self.kafka_port)

    @property
    def kafka(self) -> KafkaAccess:
        """The operator tools' access to this stack's broker."""
        return tools_kafka(self.bootstrap, self.state_dir)


def tools_kafka(bootstrap: str, state_dir: Path | None = None) -> KafkaAccess:
    """How keel's own commands reach the broker at `bootstrap`: with the login named in
    KEEL_KAFKA_USERNAME and KEEL_KAFKA_PASSWORD (a broker secured elsewhere, as in
    docker-compose), with the tools' login when this state folder's broker runs secured, or
    without a login."""
    username, password = (
        os.environ.get("KEEL_KAFKA_USERNAME"),
        os.environ.get("KEEL_KAFKA_PASSWORD"),
    )
    if username and password:
        return KafkaAccess(bootstrap, username=username, password=password)
    state_dir = state_dir or default_state_dir()
    if kafka.is_secured(state_dir):
        return kafka.login_access(state_dir, bootstrap, TOOLS_LOGIN)
    return KafkaAccess(bootstrap)


def default_state_dir() -> Path:
    return Path(os.environ.get("KEEL_STATE_DIR", REPO_ROOT / ".keel")).resolve()


class DatabaseConflict(Exception):
    """`--database` asks for another database than the one the running stack uses."""


def _database_marker(state_dir: Path) -> Path:
    return state_dir / "run" / "database"


def record_database(config: StackConfig) -> None:
    """Remember which database this state folder's stack runs on, so that a later `keel up`
    (after a crash, say) and `keel status` find it without being told again."""
    marker = _database_marker(config.state_dir)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(config.database)


def forget_database(state_dir: Path) -> None:
    """Drop the record once the whole stack is down: the next `keel up` starts afresh."""
    _database_marker(state_dir).unlink(missing_ok=True)


def recorded_database(state_dir: Path) -> str | None:
    """The database the stack in `state_dir` runs (or ran, before a crash) on, if it left a trace.

    The marker `keel up` writes is the record; without it, this folder's own PostgreSQL still
    running says as much. A PostgreSQL that merely answers on the port does not count: it may
    be anyone's.
    """
    marker = _database_marker(state_dir)
    if marker.is_file():
        recorded = marker.read_text().strip()
        if recorded in DATABASES:
            return recorded
    if processes.is_running(postgres.NAME, state_dir=state_dir):
        return "postgres"
    return None


def pick_database(*, explicit: str | None, recorded: str | None, services_running: bool) -> str:
    """The database to bring the stack up on.

    Left unsaid, it is the one recorded for this state folder (else SQLite), so restarting after
    a crash needs no flags. Said, it wins, unless services still run on another database: they
    cannot be moved under their feet, and starting the missing ones elsewhere would split the
    stack across two databases.
    """
    if explicit is None:
        return recorded or DEFAULT_DATABASE
    if services_running and recorded is not None and explicit != recorded:
        raise DatabaseConflict(
            f"The stack already runs on {recorded}, not {explicit}: run `keel down` first, "
            f"or leave out --database to keep using {recorded}."
        )
    return explicit


def choose_database(state_dir: Path, explicit: str | None) -> str:
    """`pick_database` for the stack in `state_dir`, as it stands now."""
    running = any(processes.is_running(s, state_dir=state_dir) for s in SERVICES)
    return pick_database(
        explicit=explicit, recorded=recorded_database(state_dir), services_running=running
    )


def service_env(config: StackConfig, service: str) -> dict[str, str]:
    env = {
        **os.environ,
        "KEEL_STATE_DIR": str(config.state_dir / "data"),
        "KEEL_KAFKA_BOOTSTRAP_SERVERS": config.bootstrap,
    }
    prefix = f"KEEL_{service.upper()}_"
    env[f"{prefix}PORT"] = str(PORTS[service])
    if service == CONSOLE:
        return env  # its own SQLite file beside the services' (users and sessions only)
    if zipkin.is_running(config.state_dir):
        env["KEEL_ZIPKIN_ENDPOINT"] = zipkin.spans_endpoint()
        # A developer's stack keeps every order's trace (`keel trace`), unlike production's
        # default of one in a hundred, unless told a share.
        env.setdefault("KEEL_TRACE_SAMPLE_RATIO", "1.0")
    if kafka.is_secured(config.state_dir):
        login = kafka.login_access(config.state_dir, config.bootstrap, service)
        env[f"{prefix}KAFKA_PASSWORD"] = login.password or ""
    if config.database == "postgres":
        env[f"{prefix}DATABASE_URL"] = postgres.url(f"keel_{service}", port=config.postgres_port)
    return env


def keys(state_dir: Path | None = None) -> StackKeys:
    """The stack's signing keys, made on first use, in the folder its services read them from
    (their state folder's `auth/`)."""
    return StackKeys.ensure((state_dir or default_state_dir()) / "data" / "auth")


def staff_headers(user: str, role: Role, state_dir: Path | None = None) -> dict[str, str]:
    """Headers that make a request come from `user` acting in `role`, signed by the stack."""
    token = keys(state_dir).staff_token(user=user, role=role)
    return {"Authorization": f"Bearer {token}"}


def start_service(config: StackConfig, service: str) -> int:
    keys(config.state_dir)  # the service reads the public half at its first request
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


def wait_ready(services: tuple[str, ...] = APPS, timeout: float = 120.0) -> None:
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
    """Where the CLI finds `service`: the local stack's port, unless `KEEL_<SERVICE>_URL`
    names another place."""
    return os.environ.get(f"KEEL_{service.upper()}_URL") or f"http://127.0.0.1:{PORTS[service]}"


@dataclass(frozen=True)
class ComponentState:
    """One line of `keel status`: a component, where it listens, and how it is."""

    name: str
    url: str
    state: str  # running / stopped for infrastructure; ready / starting / stopped for services
    ok: bool
    alarms: tuple[str, ...] = ()  # a ready service's alarms (a partition stuck failing, say)


def component_states(config: StackConfig) -> list[ComponentState]:
    """Kafka, the databases and every service, probed now."""
    kafka_up = kafka.is_running(config.state_dir)
    running = "running, SASL logins only" if kafka.is_secured(config.state_dir) else "running"
    states = [
        ComponentState("kafka", config.bootstrap, running if kafka_up else "stopped", kafka_up)
    ]
    for tool, link in observability.urls(config.state_dir).items():
        states.append(ComponentState(tool, link, "running", True))
    if config.database == "postgres":
        pg_up = postgres.is_running(config.state_dir, config.postgres_port)
        pg_url = f"127.0.0.1:{config.postgres_port}"
        states.append(ComponentState("postgres", pg_url, "running" if pg_up else "stopped", pg_up))
    else:
        # Embedded files: there is no server that could be down.
        data = str(config.state_dir / "data")
        states.append(ComponentState("databases", data, "sqlite files", True))
    for service in APPS:
        is_ready, detail = ready(service)
        alarms = _alarms(detail) if is_ready else ()
        if alarms:
            state = "alarm: " + "; ".join(alarms)
        elif is_ready:
            state = "ready"
        elif processes.is_running(service, state_dir=config.state_dir):
            state = "starting"
        else:
            state = "stopped"
        states.append(ComponentState(service, url(service), state, is_ready and not alarms, alarms))
    return states


def _alarms(ready_body: str) -> tuple[str, ...]:
    """The alarms a service's /health/ready lists (none from an older service)."""
    try:
        alarms = json.loads(ready_body).get("alarms") or []
    except (ValueError, AttributeError):
        return ()
    return tuple(str(alarm) for alarm in alarms)


def status_document(config: StackConfig, states: list[ComponentState]) -> dict[str, Any]:
    """`keel status --json`: overall `ok`, the database, and each component by name."""
    return {
        "ok": all(c.ok for c in states),
        "database": config.database,
        "components": {
            c.name: {"url": c.url, "state": c.state, "ok": c.ok, "alarms": list(c.alarms)}
            for c in states
        },
    }
