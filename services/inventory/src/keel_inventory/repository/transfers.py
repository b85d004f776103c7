"""Transfer queries. Transfers are read and written straight through the session (no batch
deferral: they move by HTTP, one at a time)."""

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_inventory.domain import IN_TRANSIT
from keel_inventory.models import StockMovement, Transfer
from keel_inventory.repository.batch import flush


async def get_transfer(
    session: AsyncSession, transfer_id: str, *, lock: bool = False
) -> Transfer | None:
    query = select(Transfer).where(Transfer.transfer_id == transfer_id)
    if lock:
        query = query.with_for_update()
    return (await session.exec(query)).first()


async def in_transit_by_transfer(session: AsyncSession) -> dict[str, tuple[int, int]]:
    """(units in transit by the ledger, and by the transfer: shipped less received and written
    off) per transfer
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
        found.setdefault(transfer.transfer_id, [0, 0])[1] = in_transit(transfer)
    return {reference: (by_ledger, expected) for reference, (by_ledger, expected) in found.items()}


def in_transit(transfer: Transfer) -> int:
    """Units of a shipped transfer neither received nor written off."""
    return transfer.quantity - transfer.received - transfer.written_off
