"""A consumer killed with SIGKILL after its database commit but before its offset commit sees
the message again on restart and produces no duplicate effect."""

import asyncpg
import pytest

from keel_cli.runtime.processes import run_sync
from tests.integration.support import StartService, eventually, journal_entries, new_sku, stock

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


def test_kill_between_database_and_offset_commit_is_harmless(
    start_service: StartService,
) -> None:
    inventory = start_service("inventory")
    finance = start_service("finance")
    database_url = finance.env["KEEL_FINANCE_DATABASE_URL"]
    # Let finance catch up with whatever earlier tests left on its topics, then stop it.
    eventually(lambda: finance.metric("keel_consumer_partitions") > 0, what="partitions assigned")
    [warmup] = stock(inventory, new_sku(), {"WH-EAST": 1})
    eventually(lambda: journal_entries(finance, warmup), what="finance caught up")
    finance.stop()

    [movement_id] = stock(inventory, new_sku(), {"WH-EAST": 3})
    finance.start(wait_ready=False, extra_env={"KEEL_FAULT_KILL_BEFORE_OFFSET_COMMIT": "true"})
    assert finance.process is not None
    finance.process.wait(timeout=90)
    assert finance.process.returncode == -9  # killed by the injected fault

    # Its effect committed before the kill; its offset did not.
    assert run_sync(lambda: _entries_in_database(database_url, movement_id)) == 1

    finance.start()
    eventually(
        lambda: finance.metric("keel_messages_duplicate_total") >= 1,
        what="the redelivered receipt to be recognised",
    )
    assert len(journal_entries(finance, movement_id)) == 1
