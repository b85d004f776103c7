"""Return authorization rules, free of I/O: what may come back, how much, and until when."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum


class ReturnStatus(StrEnum):
    AUTHORIZED = "authorized"


@dataclass(frozen=True)
class Clock:
    """Where an item's return window starts: its delivery, or its shipment until delivered."""

    started_at: datetime
    delivered: bool

    def later(self, other: Clock) -> Clock:
        """The clock of the later event: with several shipments of a SKU, the last one counts."""
        return other if as_utc(other.started_at) > as_utc(self.started_at) else self


@dataclass(frozen=True)
class Returnable:
    """What an order can still return of one SKU."""

    sku: str
    shipped: int
    returned: int
    clock: Clock

    @property
    def left(self) -> int:
        return self.shipped - self.returned


@dataclass(frozen=True)
class RequestedLine:
    sku: str
    quantity: int


class ReturnRefused(ValueError):
    """The return cannot be authorized; `field` names the part of the request at fault."""

    def __init__(self, detail: str, *, field: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


def per_sku(lines: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Quantities added up per SKU (a shipment or a return may list a SKU on several lines)."""
    totals: dict[str, int] = defaultdict(int)
    for sku, quantity in lines:
        totals[sku] += quantity
    return dict(totals)


def check_return(
    *,
    order_id: str,
    channel: str | None,
    lines: Sequence[RequestedLine],
    items: Mapping[str, Returnable],
    not_returnable: Mapping[str, str],
    window_days: int,
    now: datetime,
) -> None:
    """Raise `ReturnRefused` naming the first line that cannot come back, else return.

    Lines of one SKU add up (a customer may give a reason per unit), so the line that takes the
    total above what is left is the one named.
    """
    if not any(item.shipped > 0 for item in items.values()):
        raise ReturnRefused(f"nothing of order {order_id} has shipped", field="order_id")
    asked: dict[str, int] = defaultdict(int)
    for n, line in enumerate(lines):
        item = items.get(line.sku)
        if item is None or item.shipped == 0:
            raise ReturnRefused(
                f"sku {line.sku} was not shipped on order {order_id}", field=f"lines.{n}.sku"
            )
        if line.sku in not_returnable:
            raise ReturnRefused(
                f"sku {line.sku} is not returnable: {not_returnable[line.sku]}",
                field=f"lines.{n}.sku",
            )
        closes_at = as_utc(item.clock.started_at) + timedelta(days=window_days)
        if now > closes_at:
            since = "delivery" if item.clock.delivered else "shipment"
            raise ReturnRefused(
                f"the return window of sku {line.sku} ({window_days} days from {since} for "
                f"channel {channel or 'unknown'}) closed at {closes_at.isoformat()}",
                field=f"lines.{n}.sku",
            )
        asked[line.sku] += line.quantity
        if asked[line.sku] > item.left:
            before = asked[line.sku] - line.quantity
            can = max(item.left - before, 0)
            raise ReturnRefused(
                f"quantity {line.quantity} of sku {line.sku} is more than can be returned: "
                f"{can} (shipped {item.shipped}, already returned {item.returned}"
                + (f", {before} on earlier lines" if before else "")
                + ")",
                field=f"lines.{n}.quantity",
            )


def as_utc(moment: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; they were written in UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
