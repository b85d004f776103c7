"""Finance use cases. They add to the caller's transaction; the boundary commits."""

from sqlmodel.ext.asyncio.session import AsyncSession

from keel_contracts import Envelope, new_event_id
from keel_contracts.events import JournalEntryPosted, OrderPlaced, StockIssued, StockReceived
from keel_contracts.events import JournalLine as JournalLineContract
from keel_finance import domain, repository
from keel_finance.models import JournalEntry, JournalLine, OrderChannel
from keel_finance.schemas import AccountBalance, ChannelMargin, MarginsPublic, TrialBalance
from keel_kit.handlers import PermanentError
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
    order_id: str | None = None,
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
        order_id=order_id,
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


async def post_cost_of_goods(
    *, session: AsyncSession, outbox: Outbox, event: StockIssued, envelope: Envelope
) -> None:
    if event.movement_id is None:
        raise PermanentError("stock.issued without a movement_id cannot be posted once-only")
    await post_entry(
        session=session,
        outbox=outbox,
        entry=domain.cost_of_goods_entry(
            event.unit_cost.currency, event.quantity, event.unit_cost.amount
        ),
        source_type="stock_issue",
        source_id=event.movement_id,
        memo=f"issued {event.quantity} x {event.sku} from {event.location_id} "
        f"on shipment {event.shipment_id}",
        causation=envelope,
        order_id=event.order_id,
    )


def remember_channel(*, session: AsyncSession, event: OrderPlaced) -> None:
    session.add(OrderChannel(order_id=event.order_id, channel=event.channel))


async def margins(*, session: AsyncSession) -> MarginsPublic:
    rows = await repository.margins_by_channel(session)
    channels = []
    for channel, revenue, cost in rows:
        margin = revenue - cost
        percent = (margin / revenue * 100).quantize(domain.CENT) if revenue else domain.ZERO
        channels.append(
            ChannelMargin(
                channel=channel,
                revenue=revenue,
                cost_of_goods=cost,
                margin=margin,
                margin_percent=percent,
            )
        )
    return MarginsPublic(channels=channels)


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
