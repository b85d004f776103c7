"""Every finance query lives here."""

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_finance.models import JournalEntry, JournalLine


async def entries_for_source(
    session: AsyncSession, source_id: str
) -> Sequence[tuple[JournalEntry, Sequence[JournalLine]]]:
    entries = (
        await session.exec(
            select(JournalEntry)
            .where(JournalEntry.source_id == source_id)
            .order_by(col(JournalEntry.posted_at))
        )
    ).all()
    result = []
    for entry in entries:
        lines = (
            await session.exec(
                select(JournalLine)
                .where(JournalLine.entry_id == entry.entry_id)
                .order_by(col(JournalLine.id))
            )
        ).all()
        result.append((entry, lines))
    return result


async def totals_by_account(session: AsyncSession) -> dict[str, tuple[Decimal, Decimal]]:
    rows = await session.exec(
        select(
            JournalLine.account, func.sum(JournalLine.debit), func.sum(JournalLine.credit)
        ).group_by(col(JournalLine.account))
    )
    return {account: (Decimal(d or 0), Decimal(c or 0)) for account, d, c in rows.all()}
