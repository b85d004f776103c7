"""Transfer queries. Transfers are read and written straight through the session (no batch
deferral: they move by HTTP, one at a time)."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_inventory.domain import IN_TRANSIT
from keel_inventory.models import StockMovement, Transfer
from keel_inventory.repository.batch import flush
from keel_kit import cursors


async def get_transfer(
    session: AsyncSession, transfer_id: str, *, lock: bool = False
) -> Transfer | None:
    query = select(Transfer).where(Transfer.transfer_id == transfer_id)
    if lock:
        query = query.with_for_update()
    return (await session.exec(query)).first()


async def transfers(
    session: AsyncSession,
    *,
    status: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> Sequence[Transfer]:
    """Transfers by (created_at, transfer_id), from after the position `after`."""
    query = select(Transfer)
    if status is not None:
        query = query.where(Transfer.status == status)
    if after is not None:
        query = query.where(
            cursors.after(col(Transfer.created_at), col(Transfer.transfer_id), after)
        )
    query = query.order_by(col(Transfer.created_at), col(Transfer.transfer_id)).limit(limit)
    return (await session.exec(query)).all()


async def in_transit_by_transfer(session: AsyncSession) -> dict[str, tuple[int, int]]:
    """(units in transit by the ledger, shipped less received by the transfer) per transfer
    that has either (a diagnostic: it reads the whole ledger)."""
    await flush(session)
    ledger = await session.exec(
        select(StockMovement.reference, func.sum(StockMovement.quantity))
        .where(StockMovement.state == IN_TRANSIT)
        .group_by(col(StockMovement.reference))
    )
    found = {reference: [int(units), 0] for reference, units in ledger.all()}
    shipped = await session.exec(select(Transfer).where(col(Transfer.shipped_at).is_not(None)))
    for transfer in shipped.all():
        found.setdefault(transfer.transfer_id, [0, 0])[1] = transfer.quantity - transfer.received
    return {reference: (by_ledger, expected) for reference, (by_ledger, expected) in found.items()}
