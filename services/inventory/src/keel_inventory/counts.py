"""Cycle counts: the warehouse counts some SKUs at a location, blind, and the ledger is set right.

A count is asked for by operations or the warehouse; until its results come, it shows the SKUs
to count and nothing of what the ledger holds, so the counter counts what is there rather than
confirming a number. The results are compared with the sellable units (reserved included: they
are still on the shelf) the ledger holds as the results are posted, under the stock-changes
lock, and each variance becomes an adjustment (keel_inventory.adjustments): applied at once
within tolerance, else pending approval with a count_discrepancy in the queue.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from enum import StrEnum

from keel_contracts import new_event_id
from keel_contracts.roles import Role
from keel_contracts.times import as_utc
from keel_inventory import adjustments, repository
from keel_inventory.adjustment_rules import AdjustmentStatus, ReasonCode
from keel_inventory.context import Work
from keel_inventory.count_schemas import (
    CountCreate,
    CountLinePublic,
    CountPublic,
    CountResults,
    CountsPage,
)
from keel_inventory.models import CycleCount, CycleCountLine, StockAdjustment
from keel_inventory.paging import next_cursor, position
from keel_inventory.repository.governance import (
    adjustments_of_counts,
    count_lines,
    locked,
    oldest_first,
)
from keel_kit import audit
from keel_kit.identity import Principal
from keel_kit.problems import Conflict, DomainError, NotFound


class CountStatus(StrEnum):
    OPEN = "open"
    COUNTED = "counted"


async def create(*, uow: Work, cmd: CountCreate, actor: Principal) -> CountPublic:
    """A count task for `cmd.skus` at a location (422: unknown location or SKU, a SKU twice)."""
    session = uow.session
    if await repository.get_location(session, cmd.location_id) is None:
        raise DomainError(f"unknown location {cmd.location_id}", field="location_id")
    twice = [sku for sku, times in Counter(cmd.skus).items() if times > 1]
    if twice:
        raise DomainError(f"{twice[0]} is named twice", field="skus")
    for index, sku in enumerate(cmd.skus):
        await adjustments.known_item(uow, sku, field=f"skus.{index}")
    count = CycleCount(
        count_id=str(new_event_id()),
        location_id=cmd.location_id,
        status=CountStatus.OPEN,
        created_by=actor.subject,
        created_at=uow.service.clock(),
    )
    session.add(count)
    lines = [CycleCountLine(count_id=count.count_id, sku=sku) for sku in cmd.skus]
    session.add_all(lines)
    await _audit(uow, count, actor, "count.created", after={"skus": list(cmd.skus)})
    return public(count, lines, [])


async def post_results(
    *, uow: Work, count_id: str, cmd: CountResults, actor: Principal
) -> CountPublic:
    """What the counter found, each line's variance against the ledger made an adjustment
    (409: the count has its results already; 422: a SKU not in the count, twice, or missing)."""
    session = uow.session
    count = await locked(session, CycleCount, count_id)
    if count is None:
        raise NotFound(f"no count {count_id}")
    if count.status != CountStatus.OPEN:
        raise Conflict(f"count {count_id} was counted already, by {count.counted_by}")
    lines = {line.sku: line for line in await count_lines(session, [count_id])}
    counted = _checked_results(cmd, lines)
    await repository.lock_stock_changes(session)
    held = await repository.lock_stock_levels(session, sorted(counted))
    tolerance = adjustments.tolerance(uow)
    made: list[StockAdjustment] = []
    for sku, found in counted.items():
        line = lines[sku]
        line.expected = held[sku].get(count.location_id, [0, 0])[0]
        line.counted = found
        item = await adjustments.known_item(uow, sku)
        variance = found - line.expected
        line.within_tolerance = tolerance.allows(
            variance, expected=line.expected, unit_cost=item.unit_cost
        )
        session.add(line)
        if variance:
            made.append(
                await adjustments.propose(
                    uow,
                    item=item,
                    location_id=count.location_id,
                    quantity=variance,
                    reason=ReasonCode.COUNT_VARIANCE,
                    expected=line.expected,
                    actor=actor,
                    count_id=count_id,
                )
            )
    count.status, count.counted_by = CountStatus.COUNTED, actor.subject
    count.counted_at = uow.service.clock()
    session.add(count)
    pending = sum(a.status == AdjustmentStatus.PENDING_APPROVAL for a in made)
    await _audit(
        uow, count, actor, "count.counted", after={"adjustments": len(made), "pending": pending}
    )
    return public(count, list(lines.values()), made)


def _checked_results(cmd: CountResults, lines: dict[str, CycleCountLine]) -> dict[str, int]:
    counted: dict[str, int] = {}
    for index, line in enumerate(cmd.lines):
        if line.sku not in lines:
            raise DomainError(f"{line.sku} is not in this count", field=f"lines.{index}.sku")
        if line.sku in counted:
            raise DomainError(f"{line.sku} is counted twice", field=f"lines.{index}.sku")
        counted[line.sku] = line.counted
    missing = sorted(lines.keys() - counted.keys())
    if missing:
        raise DomainError(f"every SKU of the count is counted: {missing[0]} is not", field="lines")
    return counted


async def view(*, uow: Work, count_id: str) -> CountPublic:
    count = await uow.session.get(CycleCount, count_id)
    if count is None:
        raise NotFound(f"no count {count_id}")
    lines = await count_lines(uow.session, [count_id])
    return public(count, lines, await adjustments_of_counts(uow.session, [count_id]))


async def page(
    *,
    uow: Work,
    status: CountStatus | None,
    location_id: str | None,
    limit: int,
    cursor: str | None,
) -> CountsPage:
    """Counts (in `status`, at `location_id`, if given), the oldest first; `next_cursor`
    continues."""
    where = [] if status is None else [CycleCount.status == status]
    if location_id is not None:
        where.append(CycleCount.location_id == location_id)
    found = await oldest_first(
        uow.session,
        CycleCount,
        at=CycleCount.created_at,
        key=CycleCount.count_id,
        where=where,
        after=position(cursor),
        limit=limit + 1,
    )
    shown = found[:limit]
    ids = [count.count_id for count in shown]
    lines_of, made_by = defaultdict(list), defaultdict(list)
    for line in await count_lines(uow.session, ids):
        lines_of[line.count_id].append(line)
    for made in await adjustments_of_counts(uow.session, ids):
        made_by[made.count_id].append(made)
    return CountsPage(
        items=[public(c, lines_of[c.count_id], made_by[c.count_id]) for c in shown],
        next_cursor=next_cursor(found, limit, lambda c: (c.created_at, c.count_id)),
    )


def public(
    count: CycleCount, lines: list[CycleCountLine], made: list[StockAdjustment]
) -> CountPublic:
    return CountPublic(
        count_id=count.count_id,
        status=count.status,
        location_id=count.location_id,
        created_by=count.created_by,
        created_at=as_utc(count.created_at),
        counted_by=count.counted_by,
        counted_at=as_utc(count.counted_at) if count.counted_at else None,
        lines=[
            CountLinePublic(
                sku=line.sku,
                expected=line.expected,
                counted=line.counted,
                variance=(
                    line.counted - line.expected
                    if line.counted is not None and line.expected is not None
                    else None
                ),
                within_tolerance=line.within_tolerance,
            )
            for line in sorted(lines, key=lambda line: line.sku)
        ],
        adjustments=[adjustments.public(a) for a in made],
    )


async def _audit(
    uow: Work, count: CycleCount, actor: Principal, action: str, *, after: dict[str, object]
) -> None:
    await audit.record(
        uow,
        actor=actor,
        action=action,
        object_type="count",
        object_id=count.count_id,
        owner_role=Role.WAREHOUSE,
        after={"status": count.status, "location_id": count.location_id, **after},
    )
