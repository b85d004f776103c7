"""Finance use cases. They add to the caller's transaction; the boundary commits."""

from sqlmodel.ext.asyncio.session import AsyncSession

from keel_contracts import Envelope, new_event_id
from keel_contracts.events import JournalEntryPosted, StockReceived
from keel_contracts.events import JournalLine as JournalLineContract
from keel_finance import domain, repository
from keel_finance.models import JournalEntry, JournalLine
from keel_finance.schemas import AccountBalance, TrialBalance
from keel_kit.outbox import Outbox


async def post_entry(
    *,
    session: AsyncSession,
    outbox: Outbox,
    entry: domain.Entry,
    source_type: str,
    source_id: str,
    memo: str,
    causation: Envelope | None,
) -> JournalEntry:
    """Post a balanced entry for a source document.

    Redelivered events never get here (the inbox skips them); a second, different event for the
    same source breaks the (source type, source id) unique constraint and is dead-lettered rather
    than booked twice.
    """
    row = JournalEntry(
        entry_id=str(new_event_id()),
        source_type=source_type,
        source_id=source_id,
        currency=entry.currency,
        memo=memo,
    )
    session.add(row)
    session.add_all(
        JournalLine(entry_id=row.entry_id, account=p.account, debit=p.debit, credit=p.credit)
        for p in entry.postings
    )
    outbox.add(
        session,
        JournalEntryPosted(
            entry_id=row.entry_id,
            source_id=source_id,
            source_type=source_type,
            currency=entry.currency,
            lines=tuple(
                JournalLineContract(account=p.account, debit=p.debit, credit=p.credit)
                for p in entry.postings
            ),
        ),
        key=source_id,
        causation=causation,
    )
    return row


async def post_stock_receipt(
    *, session: AsyncSession, outbox: Outbox, event: StockReceived, envelope: Envelope
) -> None:
    entry = domain.opening_stock_entry(
        event.unit_cost.currency, event.quantity, event.unit_cost.amount
    )
    await post_entry(
        session=session,
        outbox=outbox,
        entry=entry,
        source_type="stock_receipt",
        source_id=event.movement_id,
        memo=f"receipt {event.reference}: {event.quantity} x {event.sku} at {event.location_id}",
        causation=envelope,
    )


async def trial_balance(*, session: AsyncSession) -> TrialBalance:
    totals = await repository.totals_by_account(session)
    accounts = []
    for account in domain.CHART_OF_ACCOUNTS:
        debits, credits = totals.get(account.code, (domain.ZERO, domain.ZERO))
        accounts.append(
            AccountBalance(
                account=account.code,
                name=account.name,
                kind=account.kind,
                debits=debits,
                credits=credits,
                balance=debits - credits,
            )
        )
    debits = sum((a.debits for a in accounts), domain.ZERO)
    credits = sum((a.credits for a in accounts), domain.ZERO)
    return TrialBalance(
        debits=debits, credits=credits, balanced=debits == credits, accounts=accounts
    )
