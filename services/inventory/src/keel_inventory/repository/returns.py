"""Return queries: the steps of each return already applied to stock, and the balance an
inspection takes from.

The steps table is not part of a batch's deferred writes (see `batch`): it is read and written
straight through the session, so a savepoint rolls it back with its message.
"""

from collections.abc import Sequence

from sqlalchemy import select as core_select
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_inventory.models import ReturnStockStep
from keel_inventory.repository.batch import BALANCE, flush


async def return_steps(
    session: AsyncSession, return_id: str
) -> dict[tuple[str, str], ReturnStockStep]:
    """The return's applied steps by (sku, step)."""
    rows = await session.exec(select(ReturnStockStep).where(ReturnStockStep.return_id == return_id))
    return {(row.sku, row.step): row for row in rows.all()}


def add_return_steps(session: AsyncSession, steps: Sequence[ReturnStockStep]) -> None:
    session.add_all(steps)


async def balance(session: AsyncSession, *, sku: str, location_id: str, state: str) -> int:
    """One balance as it stands in this transaction (what the batch holds back written first)."""
    await flush(session)
    row = await (await session.connection()).execute(
        core_select(BALANCE.c.quantity).where(
            BALANCE.c.sku == sku, BALANCE.c.location_id == location_id, BALANCE.c.state == state
        )
    )
    return int(row.scalar_one_or_none() or 0)
