"""A reservation as the API shows it: the order's held (or released, expired, committed) stock
with its lines and locations, or its request still waiting in the backorder queue."""

from typing import cast

from keel_contracts.times import as_utc
from keel_inventory import domain, repository
from keel_inventory.context import Work
from keel_inventory.schemas import (
    AllocationPublic,
    ReservationLine,
    ReservationPublic,
    ReservationStatus,
)
from keel_kit.problems import NotFound


async def view(*, uow: Work, order_id: str) -> ReservationPublic:
    """The order's reservation, else its queued request; unknown orders are a 404."""
    session = uow.session
    reservation = await repository.get_reservation(session, order_id)
    if reservation is not None:
        rid = reservation.reservation_id
        picks = (await repository.allocations_of(session, [rid]))[rid]
        lines = domain.merge_lines((sku, n) for _, sku, n in picks)
        return ReservationPublic(
            order_id=order_id,
            reservation_id=rid,
            channel=reservation.channel,
            status=cast(ReservationStatus, reservation.status),
            lines=[ReservationLine(sku=sku, quantity=n) for sku, n in lines.items()],
            allocations=[
                AllocationPublic(location_id=loc, sku=sku, quantity=n) for loc, sku, n in picks
            ],
            expires_at=as_utc(reservation.expires_at),
            created_at=as_utc(reservation.created_at),
        )
    queued = await repository.get_backorder(session, order_id)
    if queued is None or queued.id is None:
        raise NotFound(f"no reservation for order {order_id}")
    lines = await repository.lines_of_backorder(session, queued.id)
    return ReservationPublic(
        order_id=order_id,
        reservation_id=None,
        channel=queued.channel,
        status="waiting",
        lines=[ReservationLine(sku=sku, quantity=n) for sku, n in lines.items()],
        allocations=[],
        expires_at=None,
        created_at=as_utc(queued.created_at),
    )
