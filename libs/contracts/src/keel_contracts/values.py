"""Value types shared by payloads: money as a decimal string with a currency; quantities."""

from decimal import Decimal
from typing import Annotated

from pydantic import Field, StringConstraints

from keel_contracts.limits import MAX_QUANTITY
from keel_contracts.wire import WireModel

Sku = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Quantity = Annotated[int, Field(gt=0, le=MAX_QUANTITY)]
# Below 10**14 (limits.AMOUNT_CEILING); the doors keep what they accept within it (see limits).
Amount = Annotated[Decimal, Field(max_digits=18, decimal_places=4)]


class Money(WireModel):
    """An amount in one currency. Serialised as a decimal string so no float ever touches money."""

    amount: Amount
    currency: Currency


class Line(WireModel):
    """A SKU and a quantity: the unit of reservations, shipments and receipts."""

    sku: Sku
    quantity: Quantity
