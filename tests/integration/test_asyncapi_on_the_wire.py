"""The AsyncAPI documents against the running suite: every record an order's life writes on the
real broker is what the suite document says (topic, key, headers, envelope and payload), each
service serves the document committed for it, and its page draws in a real browser with nothing
loaded from elsewhere."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from playwright.async_api import Request, expect

from keel_contracts import TOPICS, topic
from keel_kit.topic_reader import read_topic
from tests.conftest import Infra
from tests.integration.support import Stack, StartService, eventually, new_sku, order_body
from tests.integration.support.browser import chromium, screenshot

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SUITE = json.loads((ROOT / "libs" / "contracts" / "asyncapi.json").read_text())
# What an order's life must have written, at the least, for the check to mean something.
EXPECTED = {
    "item.registered",
    "stock.received",
    "order.placed",
    "stock.reserve",
    "stock.reserved",
    "payment.authorized",
    "order.confirmed",
    "shipment.created",
    "shipment.shipped",
    "stock.issued",
    "payment.captured",
    "journal.entry_posted",
}


@pytest.fixture(scope="module")
def stack(start_module_service: StartService) -> Stack:
    return Stack(start_module_service, fulfillment=True)


def validator(message: dict[str, Any], part: str) -> Any:
    schemas = SUITE["components"]["schemas"]
    return jsonschema_rs.validator_for({**message[part], "components": {"schemas": schemas}})


async def records_about(infra: Infra, order_id: str, sku: str) -> list[Any]:
    """Every record on the registry's topics about the order (its correlation id) or its SKU
    (the key of item and stock records). Records other tests wrote, unreadable ones included,
    are left alone."""

    def about(record: Any) -> bool:
        if record.key == sku.encode():
            return True
        try:
            return bool(json.loads(record.value).get("correlation_id") == order_id)
        except (ValueError, TypeError, AttributeError):  # not JSON, a tombstone, not an object
            return False

    found = []
    for spec in TOPICS:
        found += [r for r in await read_topic(infra.kafka, spec.name) if about(r)]
    return found


def wire_problems(record: Any) -> list[str]:
    """How the record differs from the suite document's description of its message."""
    headers = {name: value.decode() for name, value in record.headers}
    messages = SUITE["components"]["messages"]
    [(title, message)] = [(t, m) for t, m in messages.items() if m["name"] == headers["keel-type"]]
    where = f"{record.topic}@{record.offset} ({message['name']})"
    if title not in SUITE["channels"][record.topic]["messages"]:
        return [f"{where}: the document does not list it on this topic"]
    body = json.loads(record.value)
    problems = [f"{where}: {e.message}" for e in validator(message, "payload").iter_errors(body)]
    problems += [
        f"{where}: header {e.message}" for e in validator(message, "headers").iter_errors(headers)
    ]
    key_field = topic(record.topic).key
    if key_field in body["payload"] and record.key.decode() != str(body["payload"][key_field]):
        problems.append(f"{where}: keyed {record.key!r}, not by its {key_field}")
    return problems


def test_every_record_of_an_orders_life_is_what_the_suite_document_says(
    stack: Stack, infra: Infra
) -> None:
    sku = new_sku()
    stack.stock(sku, {"WH-EAST": 5})
    order_id = stack.place(order_body(sku, quantity=2))
    stack.deliver(order_id)

    def complete() -> list[Any] | None:
        records = asyncio.run(records_about(infra, order_id, sku))
        types = {dict(r.headers)["keel-type"].decode() for r in records}
        return records if types >= EXPECTED else None

    records = eventually(complete, timeout=90, what=f"all of {sorted(EXPECTED)} on the broker")

    assert [problem for record in records for problem in wire_problems(record)] == []


@pytest.mark.parametrize("service", ["order", "inventory", "finance", "fulfillment"])
def test_each_service_serves_the_document_committed_for_it(stack: Stack, service: str) -> None:
    running = getattr(stack, service)
    committed = json.loads((ROOT / "services" / service / "asyncapi.json").read_text())

    assert running.get("/asyncapi.json").json() == committed
    assert running.get("/asyncapi/suite.json").json() == SUITE


@pytest.mark.asyncio
async def test_the_pages_draw_the_documents_with_nothing_loaded_from_elsewhere(
    stack: Stack,
) -> None:
    requested: list[str] = []

    def record(request: Request) -> None:
        requested.append(request.url)

    async with chromium() as browser:
        page = await browser.new_page()
        page.on("request", record)

        await page.goto(f"{stack.order.url}/asyncapi")
        sends = page.get_by_role("heading", name="SEND orders.order.v1")
        await expect(sends).to_be_visible()
        await expect(page.get_by_role("heading", name="RECEIVE finance.payment.v1")).to_be_visible()
        await screenshot(page, "asyncapi-order")
        await page.goto(f"{stack.order.url}/asyncapi/suite")
        dead_letters = page.get_by_role("heading", name="SEND returns-service.dlq")
        await expect(dead_letters).to_be_visible()
        await screenshot(page, "asyncapi-suite")

    assert requested, "the browser made no requests"
    assert [url for url in requested if not url.startswith(stack.order.url)] == []
