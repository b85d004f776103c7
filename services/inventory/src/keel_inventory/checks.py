"""Inventory's invariants, recomputed from the ledger for `GET /v1/checks` (`keel check`)."""

from keel_inventory import repository
from keel_inventory.context import Work
from keel_inventory.domain import COMMITTED, HELD, RESERVED, SELLABLE
from keel_inventory.repository.lots import lots_beside_balances
from keel_kit.checks import Invariant


async def _balances_off_the_ledger(uow: Work) -> list[str]:
    totals = await repository.ledger_and_balances(uow.session)
    return [
        f"{sku} at {location} {state}: the ledger sums to {ledger}, the balance says {balance}"
        for (sku, location, state), (ledger, balance) in sorted(totals.items())
        if ledger != balance
    ]


async def _negative_balances(uow: Work) -> list[str]:
    totals = await repository.ledger_and_balances(uow.session)
    return [
        f"{sku} at {location} has {balance} {state}"
        for (sku, location, state), (_, balance) in sorted(totals.items())
        if balance < 0
    ]


async def _oversold(uow: Work) -> list[str]:
    totals = await repository.ledger_and_balances(uow.session)
    findings = []
    for (sku, location, state), (_, reserved) in sorted(totals.items()):
        sellable = totals.get((sku, location, SELLABLE), (0, 0))[1]
        if state == RESERVED and reserved > sellable:
            findings.append(f"{sku} at {location}: {reserved} reserved of {sellable} sellable")
    return findings


async def _reservations_off_their_lines(uow: Work) -> list[str]:
    findings = []
    for h in await repository.reserved_holdings(uow.session):
        where = f"{h.sku} at {h.location_id}"
        if h.status is None:
            findings.append(f"{h.held} reserved {where} name no reservation ({h.reservation_id})")
        elif h.status in (HELD, COMMITTED) and h.held != h.allocated - h.shipped:
            findings.append(
                f"{h.status} reservation {h.reservation_id} holds {h.held} {where}, "
                f"its lines say {h.allocated - h.shipped} ({h.allocated}, {h.shipped} shipped)"
            )
        elif h.status not in (HELD, COMMITTED) and h.held:
            findings.append(
                f"{h.status} reservation {h.reservation_id} still holds {h.held} {where}"
            )
    return findings


async def _channel_holds_off_the_ledger(uow: Work) -> list[str]:
    totals = await repository.channel_holds_beside_ledger(uow.session)
    return [
        f"channel {channel} holds {held} {sku} by its hold row, {ledger} by the ledger"
        for (channel, sku), (ledger, held) in sorted(totals.items())
        if ledger != held
    ]


async def _transfers_off_the_ledger(uow: Work) -> list[str]:
    totals = await repository.in_transit_by_transfer(uow.session)
    return [
        f"transfer {reference}: {ledger} in transit by the ledger, {expected} shipped and "
        "neither received nor written off"
        for reference, (ledger, expected) in sorted(totals.items())
        if ledger != expected
    ]


async def _lots_off_their_ledger(uow: Work) -> list[str]:
    findings = []
    for sku, location, state, lot, ledger, stock in await lots_beside_balances(uow.session):
        if lot:
            findings.append(
                f"{sku} lot {lot} {state} at {location}: its lot ledger sums to {ledger}, its "
                f"stock says {stock}"
            )
        else:
            findings.append(f"{sku} {state} at {location}: {ledger} in lots, {stock} in all")
    return findings


INVARIANTS = (
    Invariant("every balance equals the sum of its ledger movements", _balances_off_the_ledger),
    Invariant("no balance is negative", _negative_balances),
    Invariant("no location has more reserved than sellable (no oversold unit)", _oversold),
    Invariant(
        "reserved stock is exactly what live reservations hold (held: their lines; "
        "committed: what has not shipped yet; released and expired: nothing)",
        _reservations_off_their_lines,
    ),
    Invariant(
        "what each channel holds reserved (which its caps read) is what the ledger says its "
        "reservations hold",
        _channel_holds_off_the_ledger,
    ),
    Invariant(
        "what is in transit is what transfers shipped and have not received",
        _transfers_off_the_ledger,
    ),
    Invariant(
        "every lot's stock is the sum of its lot movements, never negative, and the lots of a "
        "state at a location come to no more than its balance",
        _lots_off_their_ledger,
    ),
)
