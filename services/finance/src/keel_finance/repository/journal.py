"""Journal queries: the entries of a source document, the totals per account, and new entries
staged for the unit of work's bulk insert."""

from collections.abc import Iterable, Sequence
from decimal import Decimal

from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_finance.models import JOURNAL_ENTRY, JOURNAL_LINE, JournalEntry, JournalLine
from keel_kit import staged
from keel_kit.tables import utcnow


def add_entry(
    session: AsyncSession,
    *,
    entry_id: str,
    source_type: str,
    source_id: str,
    currency: str,
    memo: str,
    order_id: str | None,
    lines: Iterable[tuple[str, Decimal, Decimal]],
) -> None:
    """Stage an entry and its (account, debit, credit) lines for the unit of work's bulk insert.

    As rows, not ORM objects: nothing reads an entry back in the transaction that posts it, and
    a batch's entries then cost one statement per table. The entry goes first, for its lines'
    foreign key. Its (source type, source id) unique constraint still refuses a second entry
    for one source, when the rows are written: in a savepoint of its own when the kit redoes a
    batch message by message, so the message that posted it is the one dead-lettered.
    """
    staged.stage(
        session,
        JOURNAL_ENTRY,
        {
            "entry_id": entry_id,
            "source_type": source_type,
            "source_id": source_id,
            "currency": currency,
            "memo": memo,
            "order_id": order_id,
            "posted_at": utcnow(),
        },
    )
    for account, debit, credit in lines:
        staged.stage(
            session,
            JOURNAL_LINE,
            {"entry_id": entry_id, "account": account, "debit": debit, "credit": credit},
        )


async def entries_for_source(
    session: AsyncSession, source_id: str
) -> Sequence[tuple[JournalEntry, Sequence[JournalLine]]]:
    entries = (
        await session.exec(
            select(JournalEntry)
            .where(
                or_(
                    col(JournalEntry.source_id) == source_id,
                    col(JournalEntry.order_id) == source_id,
                )
            )
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


async def totals_by_account(session: AsyncSession) -> dict[str, dict[str, tuple[Decimal, Decimal]]]:
    """Per currency, per account: (debits, credits) over every entry posted in that currency.
    An entry is in one currency, so the amounts of two currencies are never added up."""
    rows = await session.exec(
        select(
            JournalEntry.currency,
            JournalLine.account,
            func.sum(JournalLine.debit),
            func.sum(JournalLine.credit),
        )
        .join(JournalEntry, col(JournalEntry.entry_id) == col(JournalLine.entry_id))
        .group_by(col(JournalEntry.currency), col(JournalLine.account))
    )
    totals: dict[str, dict[str, tuple[Decimal, Decimal]]] = {}
    for currency, account, debits, credits in rows.all():
        totals.setdefault(currency, {})[account] = (Decimal(debits or 0), Decimal(credits or 0))
    return totals
