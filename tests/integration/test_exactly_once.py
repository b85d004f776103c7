"""An event written through inventory's outbox is applied exactly once by finance, even when
the broker delivers it twice."""

import asyncio

import pytest

from tests.conftest import Infra
from tests.integration.support import (
    StartService,
    eventually,
    find_record,
    journal_entries,
    new_sku,
    produce,
    stock,
)

pytestmark = pytest.mark.integration


def test_redelivered_receipt_is_posted_once(infra: Infra, start_service: StartService) -> None:
    inventory = start_service("inventory")
    finance = start_service("finance")
    sku = new_sku()

    [movement_id] = stock(inventory, sku, {"WH-EAST": 10}, unit_cost="2.50")
    entries = eventually(lambda: journal_entries(finance, movement_id), what="journal entry")
    assert len(entries) == 1
    assert {(line["account"], line["debit"], line["credit"]) for line in entries[0]["lines"]} == {
        ("1300", "25.00", "0.00"),
        ("3900", "0.00", "25.00"),
    }

    # Deliver the very same record twice more, as a producer retry or a replay would.
    original = asyncio.run(
        find_record(infra.bootstrap, "inventory.stock.v1", lambda v: movement_id.encode() in v)
    )
    assert original is not None
    duplicates_before = finance.metric("keel_messages_duplicate_total")
    for _ in range(2):
        asyncio.run(
            produce(
                infra.bootstrap,
                "inventory.stock.v1",
                original.value,
                key=original.key.decode(),
                headers={k: v.decode() for k, v in original.headers},
            )
        )
    eventually(
        lambda: finance.metric("keel_messages_duplicate_total") >= duplicates_before + 2,
        what="finance to see both duplicates",
    )
    assert len(journal_entries(finance, movement_id)) == 1
    balance = finance.get("/v1/trial-balance").json()
    assert balance["balanced"] is True
