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
    from testcontainers.community.kafka import KafkaContainer
    from testcontainers.community.postgres import PostgresContainer

    with (
        KafkaContainer("confluentinc/cp-kafka:7.9.0").with_kraft() as broker,
        PostgresContainer("postgres:15", username="keel", password="keel") as database,
    ):
        host = database.get_container_host_ip()
        port = database.get_exposed_port(5432)
        yield Infra(broker.get_bootstrap_server(), f"postgresql+asyncpg://keel:keel@{host}:{port}")


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
