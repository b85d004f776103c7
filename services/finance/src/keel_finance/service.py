"""Finance use cases. They add to the caller's transaction; the boundary commits."""

import logging
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from keel_contracts import Envelope, Message, money, new_event_id
from keel_contracts.events import (
    JournalEntryPosted,
    OrderPlaced,
    StockAdjusted,
    StockIssued,
    StockReceived,
    StockReturned,
)
from keel_contracts.events import JournalLine as JournalLineContract
from keel_finance import domain, repository
from keel_finance.context import Work
from keel_finance.models import ORDER_CHANNEL, ReturnedStock, StockValuation
from keel_finance.schemas import (
    AccountBalance,
    CurrencyTrialBalance,
    JournalEntryPublic,
    JournalLinePublic,
    StockValuationPage,
    StockValuationPublic,
    TrialBalance,
)
from keel_kit import staged
from keel_kit.handlers import PermanentError
from keel_kit.problems import NotFound

log = logging.getLogger(__name__)


async def post_entry(
    *,
    uow: Work,
    entry: domain.Entry,
    source_type: str,
    source_id: str,
    memo: str,
    cause: Envelope,
    order_id: str | None = None,
) -> None:
    """Post a balanced entry for a source document.

    Redelivered events never get here (the inbox skips them); a second, different event for the
    same source breaks the (source type, source id) unique constraint and is dead-lettered rather
    than booked twice.
    """
    session = uow.session
    entry_id = str(new_event_id())
    repository.add_entry(
        session,
        entry_id=entry_id,
        source_type=source_type,
        source_id=source_id,
        currency=entry.currency,
        memo=memo,
        order_id=order_id,
        lines=((p.account, p.debit, p.credit) for p in entry.postings),
    )
    uow.outbox.add(
        session,
        JournalEntryPosted(
            entry_id=entry_id,
            source_id=source_id,
            source_type=source_type,
            currency=entry.currency,
            lines=tuple(
                JournalLineContract(account=p.account, debit=p.debit, credit=p.credit)
                for p in entry.postings
            ),
        ),
        key=source_id,
        causation=cause,
    )


async def lock_the_valuations(session: AsyncSession, events: Sequence[Message]) -> None:
    """Lock, in one query, the valuations a batch's stock events will move: those of the events
    that get as far as their SKU's valuation (not an issue without a movement id, nor a return
    not yet graded or already valued, nor an adjustment already valued). The batch's returns
    and adjustments are looked up first (`repository.load_returns`, `load_adjustments`)."""
    if session.in_nested_transaction():
        return  # the kit redoing a batch message by message: each locks what it reads
    skus: set[str] = set()
    for event in events:
        match event:
            case StockReceived() | StockIssued(movement_id=str()):
                skus.add(event.sku)
            case StockReturned(disposition=str()):
                if not await repository.is_returned(session, event.movement_id):
                    skus.add(event.sku)
            case StockAdjusted():
                if not await repository.is_adjusted(session, event.movement_id):
                    skus.add(event.sku)
    await repository.lock_valuations(session, skus)


async def post_stock_receipt(*, uow: Work, event: StockReceived, cause: Envelope) -> None:
    """Add received units to the SKU's valuation at their cost, and post that value: against
    goods received not invoiced for a purchase order's goods, else against opening balance."""
    session = uow.session
    row = await repository.valuation_for_update(session, event.sku)
    if row is None:
        row = await repository.create_valuation(session, event.sku, event.unit_cost.currency)
    try:
        stock, value = stock_value(row).receive(
            event.quantity, event.unit_cost.amount, event.unit_cost.currency
        )
    except domain.CurrencyMismatch as error:
        raise PermanentError(f"{event.sku}: {error}") from error
    store_valuation(row, stock, now=uow.service.clock())
    if not value:
        return  # goods received free lower the average cost; there is no money to post
    currency = event.unit_cost.currency
    if event.purchase_order_id is not None:
        entry = domain.purchase_receipt_entry(currency, value)
    else:
        entry = domain.opening_stock_entry(currency, value)
    await post_entry(
        uow=uow,
        entry=entry,
        source_type="stock_receipt",
        source_id=event.movement_id,
        memo=f"receipt {event.reference}: {event.quantity} x {event.sku} at {event.location_id}",
        cause=cause,
    )


async def post_cost_of_goods(*, uow: Work, event: StockIssued, cause: Envelope) -> None:
    """Take issued units out of the SKU's valuation at moving average cost, post that cost, and
    remember it for the order's returns.

    The event's unit cost (the item master's) is used only for units the valuation has no record
    of: an issue is never refused for it, since the goods have left either way. Those units are
    taken out of the valuation all the same, so its value keeps equal to the inventory account
    (its quantity goes below zero instead).
    """
    if event.movement_id is None:
        raise PermanentError("stock.issued without a movement_id cannot be posted once-only")
    session = uow.session
    row = await repository.valuation_for_update(session, event.sku)
    if row is None:  # never received here: all of it is costed at the event's unit cost
        row = await repository.create_valuation(session, event.sku, event.unit_cost.currency)
    try:
        stock, cost = stock_value(row).issue(
            event.quantity, event.unit_cost.amount, event.unit_cost.currency
        )
    except domain.CurrencyMismatch as error:
        raise PermanentError(f"{event.sku}: {error}") from error
    if cost.unvalued_quantity:
        _warn_unvalued(event, cost, stock)
    store_valuation(row, stock, now=uow.service.clock())
    repository.record_issue(
        session,
        movement_id=event.movement_id,
        order_id=event.order_id,
        sku=event.sku,
        currency=cost.currency,
        quantity=event.quantity,
        value=cost.total,
    )
    if not cost.total:
        return  # free goods cost nothing; an entry must move some money
    await post_entry(
        uow=uow,
        entry=domain.cost_of_goods_entry(cost.currency, cost.total),
        source_type="stock_issue",
        source_id=event.movement_id,
        memo=f"issued {event.quantity} x {event.sku} from {event.location_id} "
        f"on shipment {event.shipment_id}",
        cause=cause,
        order_id=event.order_id,
    )


async def post_stock_return(*, uow: Work, event: StockReturned, cause: Envelope) -> None:
    """Bring graded returned units back into inventory at the cost they left at, taking back the
    cost of goods sold: the cost finance posted for the order's issues of the SKU, else the
    moving average, else the event's unit cost. Restocked, refurbished and damaged units stay in
    the valuation; written-off ones leave it again at the same value, as a loss of their own.

    Once per return movement, under whatever event id it is delivered.
    """
    if event.disposition is None:
        # Received back, not yet graded: inventory holds the units in pending_inspection, outside
        # the stock it values, and only inspection tells whether they are worth their cost
        # (restock) or nothing (write-off). Valued now they would have to be revalued then, so
        # the books move once, at inspection; until then the sale's cost of goods stands.
        return
    session = uow.session
    if await repository.is_returned(session, event.movement_id):
        return  # delivered again under a new event id
    row = await repository.valuation_for_update(session, event.sku)
    stock = (
        domain.StockValue(event.unit_cost.currency, 0, domain.ZERO)
        if row is None
        else stock_value(row)
    )
    sold = domain.SoldStock.tally(await repository.sold_moves(session, event.order_id, event.sku))
    write_off = event.disposition == "write_off"
    try:
        cost = domain.return_cost(
            event.quantity,
            sold=sold,
            stock=stock,
            unit_cost=event.unit_cost.amount,
            currency=event.unit_cost.currency,
        )
        if not write_off:
            stock = stock.add(event.quantity, cost.value, cost.currency, what="a return")
    except domain.CurrencyMismatch as error:
        raise PermanentError(f"{event.sku}: {error}") from error
    if not write_off:
        # Written-off units come back and leave at one value: their valuation stays as it was.
        if row is None:
            row = await repository.create_valuation(session, event.sku, cost.currency)
        store_valuation(row, stock, now=uow.service.clock())
    repository.record_return(
        session,
        ReturnedStock(
            movement_id=event.movement_id,
            return_id=event.return_id,
            order_id=event.order_id,
            sku=event.sku,
            disposition=event.disposition,
            currency=cost.currency,
            quantity=event.quantity,
            value=cost.value,
        ),
    )
    if not cost.value:
        return  # free goods come back at nothing; an entry must move some money
    what = f"{event.quantity} x {event.sku} of return {event.return_id} at {event.location_id}"
    await post_entry(
        uow=uow,
        entry=domain.returned_goods_entry(cost.currency, cost.value),
        source_type="stock_return",
        source_id=event.movement_id,
        memo=f"returned {what} ({event.disposition})"[:200],
        cause=cause,
        order_id=event.order_id,
    )
    if write_off:
        await post_entry(
            uow=uow,
            entry=domain.write_off_entry(cost.currency, cost.value),
            source_type="stock_write_off",
            source_id=event.movement_id,
            memo=f"wrote off {what}"[:200],
            cause=cause,
            order_id=event.order_id,
        )


def stock_value(row: StockValuation) -> domain.StockValue:
    """The valuation row as the domain's value (see `store_valuation` for the way back)."""
    return domain.StockValue(row.currency, row.quantity, row.value)


def store_valuation(row: StockValuation, stock: domain.StockValue, *, now: datetime) -> None:
    """Write what an event made of the SKU's stock back to its (locked) valuation row."""
    row.currency = stock.currency
    row.quantity = stock.quantity
    row.value = stock.value
    row.updated_at = now


def _warn_unvalued(event: StockIssued, cost: domain.IssueCost, stock: domain.StockValue) -> None:
    # The valuation now owes units finance never valued (its quantity is below zero, and the
    # inventory reconciliation shows it against inventory's): worth a human look, but not worth
    # holding up the books of goods that have shipped.
    log.warning(
        "issue %s of %d x %s: finance values only %d on hand; %d costed at the event's %s %s "
        "(%s), leaving %d in the valuation",
        event.movement_id,
        event.quantity,
        event.sku,
        event.quantity - cost.unvalued_quantity,
        cost.unvalued_quantity,
        event.unit_cost.amount,
        event.unit_cost.currency,
        cost.unvalued,
        stock.quantity,
    )


async def valuation(*, uow: Work, sku: str) -> StockValuationPublic:
    row = await repository.get_valuation(uow.session, sku)
    if row is None:
        raise NotFound(f"finance has valued no stock of sku {sku}")
    return _valuation_public(row)


async def valuations(*, uow: Work, cursor: str | None, limit: int) -> StockValuationPage:
    """A page of valuations in SKU order; `cursor` is the previous page's `next_cursor`."""
    rows = await repository.valuations(uow.session, cursor=cursor, limit=limit)
    items = [_valuation_public(row) for row in rows]
    return StockValuationPage(
        items=items, next_cursor=items[-1].sku if len(items) == limit else None
    )


def _valuation_public(row: StockValuation) -> StockValuationPublic:
    average = stock_value(row).average_cost
    return StockValuationPublic(
        sku=row.sku,
        currency=row.currency,
        quantity=row.quantity,
        value=money.shown(row.value, row.currency),
        average_cost=None if average is None else money.shown(average, row.currency),
    )


def remember_channel(*, uow: Work, event: OrderPlaced) -> None:
    # Staged for one bulk insert with the batch's others: nothing reads it back before then.
    staged.stage(uow.session, ORDER_CHANNEL, {"order_id": event.order_id, "channel": event.channel})


async def trial_balance(*, uow: Work) -> TrialBalance:
    """Every account of the chart per currency posted in, zeros included."""
    totals = await repository.totals_by_account(uow.session)
    currencies = [_trial_balance_in(currency, totals[currency]) for currency in sorted(totals)]
    return TrialBalance(balanced=all(c.balanced for c in currencies), currencies=currencies)


def _trial_balance_in(
    currency: str, totals: dict[str, tuple[Decimal, Decimal]]
) -> CurrencyTrialBalance:
    accounts = []
    for account in domain.CHART_OF_ACCOUNTS:
        debits, credits = totals.get(account.code, (domain.ZERO, domain.ZERO))
        accounts.append(
            AccountBalance(
                account=account.code,
                name=account.name,
                kind=account.kind,
                debits=money.shown(debits, currency),
                credits=money.shown(credits, currency),
                balance=money.shown(debits - credits, currency),
            )
        )
    debits = sum((d for d, _ in totals.values()), domain.ZERO)
    credits = sum((c for _, c in totals.values()), domain.ZERO)
    return CurrencyTrialBalance(
        currency=currency,
        debits=money.shown(debits, currency),
        credits=money.shown(credits, currency),
        balanced=debits == credits,
        accounts=accounts,
    )


async def journal(*, uow: Work, source_id: str) -> list[JournalEntryPublic]:
    """The entries posted for a source document, or for an order, oldest first; each amount
    with the places of its entry's currency."""
    entries = await repository.entries_for_source(uow.session, source_id)
    return [
        JournalEntryPublic(
            **entry.model_dump(),
            lines=[
                JournalLinePublic(
                    account=line.account,
                    account_name=domain.ACCOUNTS[line.account].name,
                    debit=money.shown(line.debit, entry.currency),
                    credit=money.shown(line.credit, entry.currency),
                )
                for line in lines
            ],
        )
        for entry, lines in entries
    ]
