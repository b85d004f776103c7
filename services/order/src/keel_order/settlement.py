"""When an accepted order counts as settled: a rule of the lifecycle, free of I/O.

An order is settled in a final state, or while it waits for something named, within that
wait's limit: stock (backordered), a warehouse or a carrier (released, partially shipped,
shipped), a person (on hold, until the hold's SLA), the channel's release delay (confirmed), the
validation answers (validating, until the stuck-validation job would have held it). `keel check`
reports every order that is not.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from keel_order.domain import NOTICES, Status

SETTLED = frozenset({Status.DELIVERED, Status.CLOSED, Status.CANCELLED, Status.REJECTED})
WAITING_ON_OTHERS = frozenset(
    {Status.BACKORDERED, Status.RELEASED, Status.PARTIALLY_SHIPPED, Status.SHIPPED}
)
# Every unit has left: the payment is captured and finance posts the sale (DESIGN §2).
EARNED = frozenset({Status.SHIPPED, Status.DELIVERED, Status.CLOSED})
# Periodic jobs act on the second or so after a limit passes; allow them this much.
GRACE = timedelta(seconds=30)


def unsettled(
    *,
    status: Status,
    updated_at: datetime,
    holds: Sequence[tuple[str, datetime]],
    release_delay: timedelta,
    validation_timeout: timedelta,
    now: datetime,
) -> str | None:
    """Why an order is not settled, or None. `holds` are its open holds as (type, due_at)."""
    overdue = [kind for kind, due_at in holds if kind not in NOTICES and due_at < now]
    if overdue:
        return f"{', '.join(overdue)} hold overdue"
    if status in SETTLED or status in WAITING_ON_OTHERS:
        return None
    if status == Status.ON_HOLD:
        gates = [kind for kind, _ in holds if kind not in NOTICES]
        return None if gates else "on hold with no open hold to resolve"
    if status == Status.CONFIRMED and updated_at + release_delay + GRACE < now:
        return f"confirmed since {updated_at:%Y-%m-%d %H:%M:%S} and never released"
    validating = status in (Status.RECEIVED, Status.VALIDATING)
    if validating and updated_at + validation_timeout + GRACE < now:
        return f"{status} since {updated_at:%Y-%m-%d %H:%M:%S}, past the validation timeout"
    return None
