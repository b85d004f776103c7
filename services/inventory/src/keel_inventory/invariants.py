"""The stock invariants report (`GET /v1/invariants`): how many balances are off the ledger and
how many locations are oversold, with the offenders listed a page at a time. A diagnostic over
the whole ledger, not a hot path; `checks.py` recomputes the same invariants for `keel check`.

Cursors are opaque (`keel_kit.cursors`): the key of the last offender shown.
"""

from keel_inventory import repository
from keel_inventory.context import Work
from keel_inventory.repository import MismatchKey, OversoldKey
from keel_inventory.schemas import (
    InvariantsPublic,
    LedgerMismatch,
    LedgerMismatchesPage,
    Oversold,
    OversoldPage,
)
from keel_kit import cursors


async def summary(*, uow: Work) -> InvariantsPublic:
    mismatched = await repository.count_ledger_mismatches(uow.session)
    locations, units = await repository.count_oversold(uow.session)
    return InvariantsPublic(
        ledger_matches_balances=mismatched == 0,
        mismatched_balances=mismatched,
        oversold_locations=locations,
        oversold_units=units,
    )


async def mismatches(*, uow: Work, cursor: str | None, limit: int) -> LedgerMismatchesPage:
    """Balances off their ledger by SKU, location and state; `next_cursor` is null on the last
    page."""
    after: MismatchKey | None = None
    if cursor is not None:
        sku, location_id, state = cursors.decode_cursor(cursor, parts=3)
        after = (sku, location_id, state)
    # One more than the page tells whether another page follows.
    rows = await repository.ledger_mismatches(uow.session, after=after, limit=limit + 1)
    items = [
        LedgerMismatch(sku=sku, location_id=loc, state=state, ledger=ledger, balance=balance)
        for sku, loc, state, ledger, balance in rows[:limit]
    ]
    last = items[-1] if len(rows) > limit else None
    return LedgerMismatchesPage(
        items=items,
        next_cursor=(
            cursors.encode_cursor([last.sku, last.location_id, last.state]) if last else None
        ),
    )


async def oversold(*, uow: Work, cursor: str | None, limit: int) -> OversoldPage:
    """Locations with more reserved than sellable by SKU and location; `next_cursor` is null on
    the last page."""
    after: OversoldKey | None = None
    if cursor is not None:
        sku, location_id = cursors.decode_cursor(cursor, parts=2)
        after = (sku, location_id)
    rows = await repository.oversold_locations(uow.session, after=after, limit=limit + 1)
    items = [
        Oversold(sku=sku, location_id=loc, sellable=sellable, reserved=reserved)
        for sku, loc, sellable, reserved in rows[:limit]
    ]
    last = items[-1] if len(rows) > limit else None
    return OversoldPage(
        items=items,
        next_cursor=cursors.encode_cursor([last.sku, last.location_id]) if last else None,
    )
