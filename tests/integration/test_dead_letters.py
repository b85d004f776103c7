"""A malformed message goes to the dead-letter topic with its error, the next message on the
same partition is processed, and `keel dlq replay` re-delivers the corrected message."""

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
from tests.integration.support import StartService, eventually, journal_entries, new_sku, produce

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


def _keel(infra: Infra, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "keel_cli.main", *args],
        env={**os.environ, "KEEL_KAFKA_BOOTSTRAP_SERVERS": infra.bootstrap},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def _letters_for(infra: Infra, key: str) -> list[dict[str, Any]]:
    letters = json.loads(_keel(infra, "dlq", "list", "finance-service", "--json"))
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
    letters = eventually(lambda: _letters_for(infra, sku), what="the dead letter")
    assert len(letters) == 1
    assert letters[0]["original"].startswith("inventory.stock.v1[")
    assert "quantity" in letters[0]["error"]
    assert journal_entries(finance, broken_id) == []

    fixed = tmp_path / "fixed.json"
    fixed.write_bytes(broken.to_bytes())  # the operator's corrected message
    output = _keel(
        infra,
        "dlq",
        "replay",
        "finance-service",
        "--offset",
        str(letters[0]["offset"]),
        "--body",
        str(fixed),
    )
    assert "1 message(s) replayed" in output
    entries = eventually(lambda: journal_entries(finance, broken_id), what="the replayed message")
    assert entries[0]["lines"][0]["debit"] == "20.00"
