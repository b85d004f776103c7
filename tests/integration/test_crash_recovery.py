"""Consumers resume where their database says they stand.

A consumer killed with SIGKILL after its database commit but before its offset commit does not
see the message again; a broker that answers with the wrong committed offsets (as one restarting
mid-request may) cannot send a consumer back over what it has applied.
"""

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from keel_cli.runtime.processes import run_sync
from keel_contracts import TOPICS, consumer_group
from tests.conftest import Infra
from tests.integration.support import (
    ServiceProcess,
    StartService,
    eventually,
    journal_entries,
    new_sku,
    stock,
)

pytestmark = pytest.mark.integration


async def _entries_in_database(database_url: str, source_id: str) -> int:
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM journal_entry WHERE source_id = $1", source_id
        )
        return count
    finally:
        await connection.close()


async def _commit_offsets_at_zero(
    bootstrap: str, group: str, partitions: list[TopicPartition]
) -> None:
    """Overwrite the group's committed offsets with 0 (the group must have no members)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.commit({tp: 0 for tp in partitions})
    finally:
        await consumer.stop()


def _caught_up(finance: ServiceProcess, inventory: ServiceProcess) -> None:
    eventually(lambda: finance.metric("keel_consumer_partitions") > 0, what="partitions assigned")
    [warmup] = stock(inventory, new_sku(), {"WH-EAST": 1})
    eventually(lambda: journal_entries(finance, warmup), what="finance caught up")


def test_kill_between_database_and_offset_commit_is_harmless(
    start_service: StartService,
) -> None:
    inventory = start_service("inventory")
    finance = start_service("finance")
    database_url = finance.env["KEEL_FINANCE_DATABASE_URL"]
    _caught_up(finance, inventory)  # whatever earlier tests left on its topics
    finance.stop()

    [movement_id] = stock(inventory, new_sku(), {"WH-EAST": 3})
    finance.start(wait_ready=False, extra_env={"KEEL_FAULT_KILL_BEFORE_OFFSET_COMMIT": "true"})
    assert finance.process is not None
    finance.process.wait(timeout=90)
    assert finance.process.returncode == -9  # killed by the injected fault

    # Its effect committed before the kill; its offset did not.
    assert run_sync(lambda: _entries_in_database(database_url, movement_id)) == 1

    finance.start()
    [later] = stock(inventory, new_sku(), {"WH-EAST": 2})
    eventually(lambda: journal_entries(finance, later), what="finance to go on after the kill")
    # It resumed after the receipt its database holds: nothing redelivered, nothing doubled.
    assert finance.metric("keel_messages_duplicate_total") == 0
    assert len(journal_entries(finance, movement_id)) == 1


def test_a_broker_that_forgets_the_group_offsets_causes_no_replay(
    start_service: StartService, infra: Infra
) -> None:
    inventory = start_service("inventory")
    finance = start_service("finance")
    _caught_up(finance, inventory)
    finance.stop()

    partitions = [
        TopicPartition(spec.name, partition)
        for spec in TOPICS
        if "finance" in spec.consumers
        for partition in range(spec.partitions)
    ]
    run_sync(
        lambda: _commit_offsets_at_zero(infra.bootstrap, consumer_group("finance"), partitions)
    )

    finance.start()
    [after] = stock(inventory, new_sku(), {"WH-EAST": 4})
    eventually(lambda: journal_entries(finance, after), what="finance to read the new receipt")
    # Resumed from its own positions, not from offset 0: not one old message came back.
    assert finance.metric("keel_messages_duplicate_total") == 0
