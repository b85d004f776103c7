"""The body of an order as a sales channel posts it."""

from __future__ import annotations

import itertools
from typing import Any

_numbers = itertools.count(1)


def order_body(
    sku: str,
    *,
    channel: str = "web",
    quantity: int = 1,
    token: str = "tok_visa",
    unit_price: str = "20.00",
    external_id: str | None = None,
) -> dict[str, Any]:
    """One line of `sku`, shipped to Portland, paid by card with `token` (the simulated
    provider's `tok_visa` approves, `tok_declined` declines, `tok_review` asks for a review).
    The external id, also the idempotency key, is new each time unless given."""
    n = next(_numbers)
    return {
        "channel": channel,
        "external_id": external_id or f"{channel}-{sku}-{n}",
        "customer": {"customer_id": f"C-{n % 50}", "email": f"c{n % 50}@example.com"},
        "currency": "USD",
        "lines": [{"sku": sku, "quantity": quantity, "unit_price": unit_price}],
        "shipping": {
            "amount": "4.99",
            "address": {
                "name": "Pat",
                "line1": "2 Elm St",
                "city": "Portland",
                "postal_code": "97201",
                "country": "US",
            },
        },
        "payment": {"method": "card", "token": token},
    }
