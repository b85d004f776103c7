"""Service tests: free text and references the returns service could not store are a 422 at the
door, naming the field (keel_contracts.limits)."""

from __future__ import annotations

from typing import Any

import pytest

from returns_harness import Stack

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


def request(order_id: str = "o-1", reason: str = "too small") -> dict[str, Any]:
    return {"order_id": order_id, "lines": [{"sku": "MUG-1", "quantity": 1, "reason": reason}]}


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        (request(reason="broke\x00n"), "lines.0.reason", "U+0000"),
        (request(reason="line\nbreak"), "lines.0.reason", "U+000A"),
        (request(order_id="o-\x1b1"), "order_id", "U+001B"),
        (request(order_id="o" * 37), "order_id", "at most 36"),
    ],
)
async def test_a_return_with_text_no_column_can_hold_is_a_422_naming_the_field(
    stack: Stack, body: dict[str, Any], field: str, says: str
) -> None:
    response = await stack.client.post("/v1/returns", json=body)

    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["field"] == field
    assert says in error["message"]


async def test_a_refusal_reason_with_a_control_character_is_a_422(stack: Stack) -> None:
    policy = {"returnable": False, "reason": "hazardous\x7f"}

    response = await stack.client.put("/v1/return-policies/skus/MUG-1", json=policy)

    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["reason"]
