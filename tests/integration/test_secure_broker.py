"""`keel up --secure-broker`: the suite on a broker that takes only SCRAM logins, one per service,
and whose ACLs (derived from the topic registry) refuse a service writing another's topic."""

import asyncio
import json
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaConnectionError, TopicAuthorizationFailedError

from keel_cli import stack
from keel_cli.runtime import kafka
from keel_cli.runtime.processes import port_open
from keel_kit.kafka_access import KafkaAccess
from keel_kit.topic_reader import read_topic
from tests.integration.support import keel

pytestmark = pytest.mark.integration

BOOTSTRAP = kafka.bootstrap()


async def write(access: KafkaAccess, topic: str) -> None:
    producer = AIOKafkaProducer(
        **access.client_options(), enable_idempotence=True, request_timeout_ms=10_000
    )
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"{}", key=b"test")
    finally:
        await producer.stop()


async def list_topics(access: KafkaAccess) -> list[str]:
    admin = AIOKafkaAdminClient(**access.client_options(), request_timeout_ms=3000)
    try:
        await asyncio.wait_for(admin.start(), 20)
        topics: list[str] = await admin.list_topics()
        return topics
    finally:
        await admin.close()


def test_the_suite_runs_on_a_secured_broker_that_refuses_what_the_registry_does_not_grant(
    tmp_path: Path,
) -> None:
    taken = [p for p in (9092, *stack.PORTS.values()) if port_open("127.0.0.1", p)]
    assert not taken, f"ports {taken} are busy: stop the running stack (keel down) first"
    state_dir = tmp_path / "state"
    try:
        up = keel(state_dir, "up", "--secure-broker", "--no-observe")
        assert up.returncode == 0, up.stdout + up.stderr
        assert kafka.is_secured(state_dir)

        # Every service reads and writes through its own login: a small trading day balances.
        demo = keel(state_dir, "demo", "--orders", "20", "--skus", "10", timeout=600)
        assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
        assert "oversold units: 0" in demo.stdout
        assert "balanced: True" in demo.stdout
        # keel's own commands use the tools' login.
        check = keel(state_dir, "check", "--json")
        assert check.returncode == 0, check.stdout[-4000:] + check.stderr[-2000:]
        assert json.loads(check.stdout)["violations"] == []

        inventory = kafka.login_access(state_dir, BOOTSTRAP, "inventory")
        order = kafka.login_access(state_dir, BOOTSTRAP, "order")
        # A service writing another service's topic: refused by the broker.
        with pytest.raises(TopicAuthorizationFailedError):
            asyncio.run(write(inventory, "orders.order.v1"))
        # Reading a topic it does not consume: refused too, not an empty topic.
        with pytest.raises(TopicAuthorizationFailedError):
            asyncio.run(read_topic(order, "finance.journal.v1"))
        # Its own dead letters it may read (the replay route does).
        assert asyncio.run(read_topic(order, "order-service.dlq")) == []
        # No login, or a wrong password: no connection at all.
        with pytest.raises(KafkaConnectionError):
            asyncio.run(list_topics(KafkaAccess(BOOTSTRAP)))
        with pytest.raises(KafkaConnectionError):
            asyncio.run(list_topics(KafkaAccess(BOOTSTRAP, username="order", password="guess")))
    finally:
        down = keel(state_dir, "down")
    assert down.returncode == 0, down.stdout + down.stderr
