"""With the broker stopped, a state-changing request still succeeds; its event waits in the
outbox and is delivered once the broker is back."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from keel_cli.runtime import kafka
from tests.conftest import REPO_ROOT
from tests.integration.support import StartService, eventually, journal_entries, new_sku, stock

pytestmark = pytest.mark.integration

# A broker of this test's own, so stopping it cannot disturb the other tests.
OUTAGE_STATE_DIR = REPO_ROOT / ".keel" / "test-outage"
OUTAGE_PORT = 19192


@pytest.fixture
def own_broker() -> Iterator[Path]:
    kafka.ensure_installed(OUTAGE_STATE_DIR)
    kafka.start(OUTAGE_STATE_DIR, port=OUTAGE_PORT, controller_port=OUTAGE_PORT + 1)
    yield OUTAGE_STATE_DIR
    kafka.stop(OUTAGE_STATE_DIR)


def test_receipt_during_outage_is_delivered_after_recovery(
    own_broker: Path, start_service: StartService
) -> None:
    bootstrap = kafka.bootstrap(OUTAGE_PORT)
    inventory = start_service("inventory", bootstrap=bootstrap)
    finance = start_service("finance", bootstrap=bootstrap)
    sku = new_sku()

    kafka.stop(own_broker)
    eventually(
        lambda: inventory.get("/health/ready").status_code == 503,
        what="inventory to notice the broker is gone",
    )
    [movement_id] = stock(inventory, sku, {"WH-EAST": 4})  # asserts 201
    eventually(
        lambda: inventory.metric("keel_outbox_backlog") >= 1, what="the event waiting in the outbox"
    )
    assert journal_entries(finance, movement_id) == []

    kafka.start(own_broker, port=OUTAGE_PORT, controller_port=OUTAGE_PORT + 1)
    entries = eventually(
        lambda: journal_entries(finance, movement_id), timeout=90, what="delivery after recovery"
    )
    assert len(entries) == 1
    eventually(lambda: inventory.metric("keel_outbox_backlog") == 0, what="an empty outbox")
