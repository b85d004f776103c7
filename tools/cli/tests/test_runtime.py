"""The local runtime starts the real Kafka broker and PostgreSQL, and stops them again.

Runs on free ports in a throw-away state dir so it never touches a developer's running stack.
The state dir is pytest's (mode 0700), which also exercises PostgreSQL's /var/tmp fallback.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from keel_cli.runtime import kafka, postgres, processes

HOST = "127.0.0.1"


def _free_ports(count: int) -> list[int]:
    """Ports the kernel says are free now; held open together so they are distinct."""
    socks = [socket.socket() for _ in range(count)]
    try:
        for sock in socks:
            sock.bind((HOST, 0))
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    state = tmp_path / "state"
    yield state
    # Whatever the test did, leave no server behind and no cluster in /var/tmp.
    kafka.stop(state)
    postgres.stop(state)
    pg_data = postgres.data_dir(state)
    if not pg_data.is_relative_to(tmp_path.resolve()):
        shutil.rmtree(pg_data.parent, ignore_errors=True)


@pytest.mark.integration
@pytest.mark.asyncio
async def test_kafka_and_postgres_start_serve_and_stop(state_dir: Path) -> None:
    kafka_port, controller_port, pg_port = _free_ports(3)

    kafka.start(state_dir, port=kafka_port, controller_port=controller_port)
    kafka.start(state_dir, port=kafka_port, controller_port=controller_port)  # idempotent
    assert kafka.is_running(state_dir)

    bootstrap = kafka.bootstrap(kafka_port)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic("runtime-check", 1, 1)])
    finally:
        await admin.close()

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait("runtime-check", b"hello", key=b"k")
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        "runtime-check",
        bootstrap_servers=bootstrap,
        group_id="runtime-check",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        message = await asyncio.wait_for(consumer.getone(), 30)
    finally:
        await consumer.stop()
    assert (message.key, message.value) == (b"k", b"hello")

    postgres.start(state_dir, port=pg_port)
    postgres.start(state_dir, port=pg_port)  # idempotent
    assert postgres.is_running(state_dir, pg_port)
    postgres.create_database("runtime_check", port=pg_port)
    postgres.create_database("runtime_check", port=pg_port)  # idempotent
    dsn = postgres.url("runtime_check", port=pg_port).replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval("SELECT current_database()") == "runtime_check"
    finally:
        await conn.close()
    postgres.drop_database("runtime_check", port=pg_port)

    kafka.stop(state_dir)
    postgres.stop(state_dir)
    assert not kafka.is_running(state_dir)
    assert not postgres.is_running(state_dir, pg_port)
    for port in (kafka_port, controller_port, pg_port):
        assert not processes.port_open(HOST, port), f"port {port} still open"
