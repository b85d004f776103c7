"""The AsyncAPI parser behind `python -m keel_cli.asyncapi --check` (which `./keel test` runs on
the committed documents) catches a broken document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from keel_cli import asyncapi

pytestmark = pytest.mark.unit


def test_the_parser_refuses_an_operation_on_a_message_its_channel_lacks(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    document = json.loads(asyncapi.SUITE.read_text())
    send = document["operations"]["order-sends-orders.order.v1"]
    send["messages"] = [{"$ref": "#/channels/orders.order.v1/messages/StockReserved"}]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(document))

    assert asyncapi.validate([broken]) == 1
    assert "invalid-ref" in capfd.readouterr().out
