"""The order service's invariants for `GET /v1/checks` (`keel check`)."""

from collections import defaultdict
from datetime import datetime, timedelta

from keel_contracts.times import as_utc
from keel_kit.checks import Invariant
from keel_order import repository
from keel_order.context import Work
from keel_order.settlement import SETTLED, unsettled


async def _unsettled_orders(uow: Work) -> list[str]:
    now = uow.service.clock()
    holds: dict[str, list[tuple[str, datetime]]] = defaultdict(list)
    for hold in await repository.open_holds(uow.session):
        holds[hold.order_id].append((hold.type, as_utc(hold.due_at)))
    findings = []
    for order in await repository.open_orders(uow.session, SETTLED):
        why = unsettled(
            status=order.status,
            updated_at=as_utc(order.updated_at),
            holds=holds[order.order_id],
            release_delay=timedelta(seconds=order.release_delay_seconds),
            validation_timeout=uow.service.validation_timeout,
            now=now,
        )
        if why is not None:
            findings.append(f"order {order.order_id}: {why}")
    return findings


INVARIANTS = (
    Invariant(
        "every accepted order is settled: final, or waiting for a named reason within its limit",
        _unsettled_orders,
    ),
)
