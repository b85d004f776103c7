"""A malformed message goes to the dead-letter topic with its error, the next message on the
same partition is processed, and `keel dlq replay` has finance apply the corrected message, as
admin, audited."""

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from keel_contracts import Envelope, new_event_id
from keel_contracts.events import StockReceived
from keel_contracts.values import Money
from tests.conftest import Infra
from tests.integration.support import (
    ServiceProcess,
    StartService,
    eventually,
    journal_entries,
    new_sku,
    produce,
)

pytestmark = pytest.mark.integration


def _receipt(sku: str, quantity: int) -> Envelope:
    return Envelope.wrap(
        StockReceived(
            movement_id=str(new_event_id()),
            sku=sku,
            location_id="WH-EAST",
            quantity=quantity,
            unit_cost=Money(amount="4.00", currency="USD"),
            reference="dlq test",
        ),
        source="inventory",
        correlation_id=sku,
    )


def _keel(infra: Infra, finance: ServiceProcess, *args: str) -> str:
    """The CLI against this test's broker, its finance, and its stack's keys."""
    result = subprocess.run(
        [sys.executable, "-m", "keel_cli.main", *args],
        env={
            **os.environ,
            "KEEL_KAFKA_BOOTSTRAP_SERVERS": infra.bootstrap,
            "KEEL_FINANCE_URL": finance.url,
            "KEEL_STATE_DIR": finance.env["KEEL_STATE_DIR"].removesuffix("/data"),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def _letters_for(infra: Infra, finance: ServiceProcess, key: str) -> list[dict[str, Any]]:
    letters = json.loads(_keel(infra, finance, "dlq", "list", "finance-service", "--json"))
    return [letter for letter in letters if letter["key"] == key]


def test_poison_message_is_parked_and_replayed_after_fixing(
    infra: Infra, start_service: StartService, tmp_path: Path
) -> None:
    finance = start_service("finance")
    sku = new_sku()
    broken = _receipt(sku, 5)
    # Quantity is not a number: this message can never be applied as it is.
    broken_body = broken.to_bytes().replace(b'"quantity":5', b'"quantity":"five"')
    good = _receipt(sku, 2)  # same key, so the same partition, right behind the broken one

    asyncio.run(produce(infra.bootstrap, "inventory.stock.v1", broken_body, key=sku))
    asyncio.run(produce(infra.bootstrap, "inventory.stock.v1", good.to_bytes(), key=sku))

    good_id = good.payload["movement_id"]
    broken_id = broken.payload["movement_id"]
    assert eventually(lambda: journal_entries(finance, good_id), what="the next message applied")
    letters = eventually(lambda: _letters_for(infra, finance, sku), what="the dead letter")
    assert len(letters) == 1
    assert letters[0]["kind"] == "dead_letter"
    assert letters[0]["original"].startswith("inventory.stock.v1[")
    assert "quantity" in letters[0]["error"]
    assert journal_entries(finance, broken_id) == []

    fixed = tmp_path / "fixed.json"
    fixed.write_bytes(broken.to_bytes())  # the operator's corrected message
    output = _keel(
        infra,
        finance,
        "dlq",
        "replay",
        "finance-service",
        "--offset",
        str(letters[0]["offset"]),
        "--body",
        str(fixed),
    )
    assert "1 message(s) replayed, 1 applied" in output
    entries = journal_entries(finance, broken_id)  # applied before the CLI had its answer
    assert entries[0]["lines"][0]["debit"] == "20.00"
    # A governed action, on the record: who replayed which letter, and that it was corrected.
    offset = letters[0]["offset"]
    [entry] = finance.get("/v1/audit", object_id=f"finance-service.dlq@{offset}").json()["items"]
    assert entry["action"] == "dead_letter.replayed"
    assert entry["actor"] == "admin-ann"
    assert entry["after"] == {"corrected": True, "failed_again": None}
    # Replayed again as it was (broken), it fails again and says why; nothing is posted twice.
    again = finance.post(f"/v1/dead-letters/{offset}/replay", {})
    assert again.json()["applied"] is False
    assert "quantity" in again.json()["error"]
    assert len(journal_entries(finance, broken_id)) == 1
