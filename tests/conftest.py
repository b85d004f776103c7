"""Where the tests find Kafka and PostgreSQL, in this order:

1. URLs given in the environment: `KEEL_KAFKA_BOOTSTRAP_SERVERS` and `KEEL_TEST_POSTGRES_URL`
   (a server URL such as `postgresql+asyncpg://keel:keel@127.0.0.1:5432`, no database);
2. testcontainers, when a Docker engine answers a ping;
3. the local runtime (`keel_cli.runtime`), started here on test ports and stopped at the end.

A test that needs them never skips: if none of the three works, it fails loudly.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from keel_cli.runtime import kafka, postgres, processes, zipkin
from keel_kit.kafka_access import KafkaAccess

REPO_ROOT = Path(__file__).resolve().parents[1]
TEST_STATE_DIR = REPO_ROOT / ".keel" / "test"
TEST_KAFKA_PORT = 19092
TEST_POSTGRES_PORT = 15432


@dataclass(frozen=True)
class Infra:
    bootstrap: str
    postgres_url: str  # server URL without a database name

    @property
    def kafka(self) -> KafkaAccess:
        return KafkaAccess(self.bootstrap)

    def database_url(self, name: str) -> str:
        return f"{self.postgres_url}/{name}"

    def new_database(self, service: str) -> str:
        """A fresh, empty database for one service in one test."""
        name = f"t_{uuid.uuid4().hex[:10]}_{service}"
        processes.run_sync(lambda: _create_database(self.postgres_url, name))
        return self.database_url(name)


async def _create_database(server_url: str, name: str) -> None:
    import asyncpg

    dsn = server_url.replace("postgresql+asyncpg://", "postgresql://") + "/postgres"
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


def _docker_engine_answers() -> bool:
    try:
        import docker

        return bool(docker.from_env(timeout=3).ping())
    except Exception:
        return False


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    bootstrap = os.environ.get("KEEL_KAFKA_BOOTSTRAP_SERVERS")
    postgres_url = os.environ.get("KEEL_TEST_POSTGRES_URL")
    if bootstrap and postgres_url:
        yield Infra(bootstrap, postgres_url.rstrip("/"))
        return
    if _docker_engine_answers():
        yield from _containers()
        return
    yield from _local_runtime()


def _containers() -> Iterator[Infra]:
    from testcontainers.community.postgres import PostgresContainer

    with (
        _apache_kafka("apache/kafka:4.4.0") as bootstrap,  # the local runtime's kafka.version
        PostgresContainer("postgres:15", username="keel", password="keel") as database,
    ):
        host = database.get_container_host_ip()
        port = database.get_exposed_port(5432)
        yield Infra(bootstrap, f"postgresql+asyncpg://keel:keel@{host}:{port}")


# A single KRaft node on plain listeners: clients on PLAINTEXT (published), the broker's own
# traffic on BROKER, the controller on CONTROLLER; the image reads KAFKA_A_B as a.b.
_KAFKA_ENV = {
    "KAFKA_NODE_ID": "1",
    "KAFKA_PROCESS_ROLES": "broker,controller",
    "KAFKA_LISTENERS": "PLAINTEXT://:9092,BROKER://:29092,CONTROLLER://:9093",
    "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": (
        "PLAINTEXT:PLAINTEXT,BROKER:PLAINTEXT,CONTROLLER:PLAINTEXT"
    ),
    "KAFKA_INTER_BROKER_LISTENER_NAME": "BROKER",
    "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
    "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@localhost:9093",
    "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
    "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
    "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
    "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR": "1",
    "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR": "1",
    "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
    "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "false",
}


@contextmanager
def _apache_kafka(image: str) -> Iterator[str]:
    """A broker on the official image, as compose and deploy/k8s run it; yields its address.

    testcontainers' KafkaContainer drives Confluent's start scripts, which this image lacks.
    The address clients must be given is known only once Docker has mapped the port, so the
    container waits for it in a file before the image's own start script runs.
    """
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy

    given = "/tmp/advertised-listeners"
    start = (
        f"while [ ! -f {given} ]; do sleep 0.1; done; "
        f'KAFKA_ADVERTISED_LISTENERS="$(cat {given})" exec /etc/kafka/docker/run'
    )
    container = DockerContainer(image).with_exposed_ports(9092)
    for name, value in _KAFKA_ENV.items():
        container = container.with_env(name, value)
    with container.with_command(["sh", "-c", start]) as kafka:
        address = f"{kafka.get_container_host_ip()}:{kafka.get_exposed_port(9092)}"
        listeners = f"PLAINTEXT://{address},BROKER://localhost:29092"
        kafka.exec(["sh", "-c", f"echo {listeners} > {given}.tmp && mv {given}.tmp {given}"])
        LogMessageWaitStrategy("Kafka Server started").with_startup_timeout(90).wait_until_ready(
            kafka
        )
        yield address


def _local_runtime() -> Iterator[Infra]:
    kafka.ensure_installed(TEST_STATE_DIR)
    # Fetched here once (130 MB on a new machine), not inside a `keel up` under its timeout.
    zipkin.ensure_installed(TEST_STATE_DIR)
    started_kafka = not kafka.is_running(TEST_STATE_DIR)
    kafka.start(TEST_STATE_DIR, port=TEST_KAFKA_PORT, controller_port=TEST_KAFKA_PORT + 1)
    postgres.ensure_installed()
    started_postgres = not postgres.is_running(TEST_STATE_DIR, TEST_POSTGRES_PORT)
    postgres.start(TEST_STATE_DIR, port=TEST_POSTGRES_PORT)
    try:
        yield Infra(
            kafka.bootstrap(TEST_KAFKA_PORT),
            f"postgresql+asyncpg://keel:keel@127.0.0.1:{TEST_POSTGRES_PORT}",
        )
    finally:
        if started_kafka:
            kafka.stop(TEST_STATE_DIR)
        if started_postgres:
            postgres.stop(TEST_STATE_DIR)
