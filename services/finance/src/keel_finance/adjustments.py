"""Stock adjustments in the books: units inventory found, or found missing, at a location (a
cycle count's variance, damage, loss, found units, transfer units lost in transit), posted
against inventory shrinkage. Like the other stock use cases, they add to the caller's
transaction; the boundary commits."""

import logging

from keel_contracts import Envelope
from keel_contracts.events import StockAdjusted
from keel_finance import domain, repository
from keel_finance.context import Work
from keel_finance.models import AdjustedStock
from keel_finance.service import post_entry, stock_value, store_valuation
from keel_kit.handlers import PermanentError

log = logging.getLogger(__name__)

MEMO_LENGTH = 200  # the journal entry's memo column


async def post_stock_adjustment(*, uow: Work, event: StockAdjusted, cause: Envelope) -> None:
    """Move the SKU's valuation by the units found or lost, and post what that changed of its
    value against inventory shrinkage.

    Lost units leave the valuation as issued ones do, at the moving average cost (units beyond
    those it values at the event's unit cost, driving its quantity below zero). Found units are
    added at the moving average cost, or at the event's unit cost with no units on hand to
    average. Either way the valuation's value moves by exactly what the inventory account does,
    and its quantity by the units inventory's valued stock (sellable or in transit) moved by, so
    the inventory reconciliation agrees before and after.

    Once per adjustment movement, under whatever event id it is delivered: free goods post
    nothing, yet their units must not be counted twice either, so the movement is remembered
    rather than found by its journal entry.
    """
    session = uow.session
    if await repository.is_adjusted(session, event.movement_id):
        return  # delivered again under a new event id
    row = await repository.valuation_for_update(session, event.sku)
    if row is None:  # never received here: valued at the event's unit cost
        row = await repository.create_valuation(session, event.sku, event.unit_cost.currency)
    unit_cost, currency = event.unit_cost.amount, event.unit_cost.currency
    try:
        if event.quantity < 0:
            stock, cost = stock_value(row).issue(-event.quantity, unit_cost, currency)
            if cost.unvalued_quantity:
                _warn_unvalued(event, cost, stock)
            change, currency = -cost.total, cost.currency
        else:
            stock, change = stock_value(row).find(event.quantity, unit_cost, currency)
            currency = stock.currency
    except domain.CurrencyMismatch as error:
        raise PermanentError(f"{event.sku}: {error}") from error
    store_valuation(row, stock, now=uow.service.clock())
    repository.record_adjustment(
        session,
        AdjustedStock(
            movement_id=event.movement_id,
            adjustment_id=event.adjustment_id,
            sku=event.sku,
            location_id=event.location_id,
            reason_code=event.reason_code,
            currency=currency,
            quantity=event.quantity,
            value=change,
        ),
    )
    if not change:
        return  # free goods change no value; an entry must move some money
    await post_entry(
        uow=uow,
        entry=domain.shrinkage_entry(currency, change),
        source_type="stock_adjustment",
        source_id=event.movement_id,
        memo=_memo(event),
        cause=cause,
    )


def _memo(event: StockAdjusted) -> str:
    return (
        f"adjusted {event.quantity:+d} x {event.sku} at {event.location_id} "
        f"({event.reason_code}, adjustment {event.adjustment_id})"
    )[:MEMO_LENGTH]


def _warn_unvalued(event: StockAdjusted, cost: domain.IssueCost, stock: domain.StockValue) -> None:
    # As for an issue: the valuation now owes units finance never valued, which the inventory
    # reconciliation shows as a quantity off inventory's. Worth a look, not worth holding up
    # the books of units that are gone either way.
    log.warning(
        "adjustment %s (movement %s) of %d x %s: finance values only %d on hand; %d costed at "
        "the event's %s %s (%s), leaving %d in the valuation",
        event.adjustment_id,
        event.movement_id,
        event.quantity,
        event.sku,
        -event.quantity - cost.unvalued_quantity,
        cost.unvalued_quantity,
        event.unit_cost.amount,
        event.unit_cost.currency,
        cost.unvalued,
        stock.quantity,
    )
