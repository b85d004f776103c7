"""HTTP models of cycle counts, stock adjustments and the inventory exception queue."""

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from keel_contracts.exception_queue import ExceptionItem
from keel_contracts.limits import MAX_QUANTITY
from keel_contracts.values import Sku
from keel_inventory.schemas import Code
from keel_kit.schemas import RequestBody

# The most SKUs one count covers: a shelf or an aisle, not the whole warehouse.
MAX_COUNT_SKUS = 200


class CountCreate(RequestBody):
    location_id: Code
    skus: list[Sku] = Field(min_length=1, max_length=MAX_COUNT_SKUS)


class CountedLine(RequestBody):
    sku: Sku
    counted: int = Field(ge=0, le=MAX_QUANTITY, description="units found on the shelf")


class CountResults(RequestBody):
    lines: list[CountedLine] = Field(min_length=1, max_length=MAX_COUNT_SKUS)


class AdjustmentCreate(RequestBody):
    sku: Sku
    location_id: Code
    quantity: int = Field(
        ge=-MAX_QUANTITY,
        le=MAX_QUANTITY,
        description="units found (above 0) or gone (below 0) from sellable stock; not 0",
    )
    reason_code: Literal["damage", "loss", "found"]
    lot: Code | None = Field(default=None, description="the lot of the units, if known")


class AdjustmentPublic(BaseModel):
    adjustment_id: str
    status: str = Field(description="applied, pending_approval or rejected")
    sku: str
    location_id: str
    state: str = Field(description="the stock state it changes: sellable, or in_transit")
    quantity: int
    reason_code: str
    count_id: str | None
    lot: str | None
    expected: int = Field(description="the units the ledger held when it was asked for")
    value: Decimal = Field(description="quantity x the item's unit cost, signed")
    currency: str
    requested_by: str
    created_at: datetime
    decided_by: str | None = Field(description="who approved or rejected it; null if automatic")
    decided_at: datetime | None
    movement_id: str | None = Field(description="the ledger movement, once applied")


class AdjustmentsPage(BaseModel):
    items: list[AdjustmentPublic]
    next_cursor: str | None


class CountLinePublic(BaseModel):
    sku: str
    # Null until counted: the count is blind, the counter sees no expected quantity.
    expected: int | None
    counted: int | None
    variance: int | None
    within_tolerance: bool | None


class CountPublic(BaseModel):
    count_id: str
    status: str = Field(description="open (to count) or counted")
    location_id: str
    created_by: str
    created_at: datetime
    counted_by: str | None
    counted_at: datetime | None
    lines: list[CountLinePublic]
    adjustments: list[AdjustmentPublic]


class CountsPage(BaseModel):
    items: list[CountPublic]
    next_cursor: str | None


class StockExceptionPublic(ExceptionItem):
    """An inventory exception in the shared shape; `reference` is the adjustment or transfer."""


class StockExceptionsPage(BaseModel):
    items: list[StockExceptionPublic]
    next_cursor: str | None
