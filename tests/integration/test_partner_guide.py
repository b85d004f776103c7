"""The README's "Integrate as a marketplace" guide, its blocks run in order in one shell as a
partner would run them, against real services on the broker and PostgreSQL: so it cannot rot."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Infra
from tests.integration.support import Stack, StartService

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
GUIDE = "### Integrate as a marketplace"
BLOCK = re.compile(r"^```sh\n(.*?)^```", re.DOTALL | re.MULTILINE)


def guide_blocks() -> list[str]:
    """The guide's shell blocks, in order: from its heading to the next heading of a section."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index(GUIDE)
    end = readme.index("\n## ", start)
    return BLOCK.findall(readme[start:end])


def test_the_guide_has_a_block_for_each_step() -> None:
    blocks = guide_blocks()

    assert len(blocks) == 4
    assert "/secrets" in blocks[0]
    assert "webhook-signature" in blocks[1]
    assert "/v1/orders" in blocks[2]
    assert "fulfillment.shipment.v1" in blocks[3]


def test_a_marketplace_follows_the_guide_from_its_secret_to_its_first_shipment(
    start_service: StartService, infra: Infra, tmp_path: Path
) -> None:
    stack = Stack(start_service, fulfillment=True)
    stack.stock("MUG-1", {"WH-EAST": 10})  # "with MUG-1 stocked"
    partner = tmp_path / "partner"
    partner.mkdir()
    # `./keel` from the partner's folder: the repository's, on the test stack's state folder.
    (partner / "keel").write_text(f'#!/usr/bin/env bash\nexec "{ROOT / "keel"}" "$@"\n')
    (partner / "keel").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    env |= {
        "KEEL_STATE_DIR": str(tmp_path / "stack"),  # where start_service keeps the keys
        "KEEL_ORDER_URL": stack.order.url,
        "KEEL_KAFKA_BOOTSTRAP_SERVERS": infra.bootstrap,
        "PATH": f"{Path(sys.executable).parent}:{env['PATH']}",  # python3 with aiokafka
    }

    run = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + "\n".join(guide_blocks())],
        cwd=partner,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert run.returncode == 0, f"{run.stdout}\n{run.stderr}"
    [created] = [line for line in run.stdout.splitlines() if line.startswith("shipment.created")]
    [order] = stack.order.get("/v1/orders", channel="acme", external_id="A-1001").json()["items"]
    [shipment] = stack.shipments(order["order_id"])
    assert created == f"shipment.created {shipment['shipment_id']}"
    assert stack.view(order["order_id"])["customer_id"] == "acme-C-7"
