"""Warehouse events: one per request, or a warehouse system's batch of them, judged the same way.

A batch costs a fixed handful of queries whatever its size: its shipments (locked), the lines
of those it ships and the event ids already seen are each read once; the events it applies are
written with one INSERT at the end of the unit of work. Each event is judged alone, in the order
sent, against what was read and what the events before it changed: a shipment picked then
shipped in one batch moves twice, an event id sent twice is a duplicate the second time.

A refused event leaves no trace because every rule is judged before anything is written: an
event only changes its shipment, the events seen and the outbox once it has passed them all.
That costs nothing per event, where a savepoint per event would cost two round trips each, and
would have to take back staged outbox rows by hand (the ORM rolls back only its own objects).
"""

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass

from keel_contracts.events import ShipmentDelivered, ShipmentShipped
from keel_contracts.values import Line
from keel_fulfillment import domain, repository
from keel_fulfillment.context import Work
from keel_fulfillment.domain import AppliedEvent, ShipmentStatus
from keel_fulfillment.models import Shipment, ShipmentLine
from keel_fulfillment.schemas import (
    BatchAccepted,
    BatchOutcome,
    EventAccepted,
    WarehouseEventBatch,
    WarehouseEventIn,
)
from keel_fulfillment.service import move_shipment
from keel_kit import telemetry
from keel_kit.problems import Conflict, DomainError, NotFound

ACCEPTED = 202  # what a single POST answers an event it applied or already had


@dataclass
class _Known:
    """What judging the events needs, read once for all of them and kept current as they
    apply."""

    shipments: dict[str, Shipment]  # locked, by id
    lines: dict[str, list[ShipmentLine]]  # of the shipments some event ships, by shipment id
    seen: dict[str, AppliedEvent]  # applied already, by event id: before or in this batch


async def record_warehouse_event(
    *, uow: Work, location_id: str, cmd: WarehouseEventIn, signed_by: str | None = None
) -> EventAccepted:
    """Apply a warehouse's event once; the same event id again changes nothing. A refusal is
    raised, so the event leaves no trace.

    `signed_by` is the location of the warehouse system that signed the request, if one did:
    another location's shipment is then not found, rather than named.
    """
    [outcome] = await _apply(uow, location_id, [cmd], signed_by)
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


async def record_warehouse_events(
    *, uow: Work, location_id: str, cmd: WarehouseEventBatch, signed_by: str | None = None
) -> BatchAccepted:
    """Apply or refuse each event of a batch alone, in order, answering each with what a
    single POST would have answered."""
    outcomes = await _apply(uow, location_id, cmd.events, signed_by)
    results = [
        BatchOutcome(event_id=event.event_id, status=outcome.status, problem=outcome.document())
        if isinstance(outcome, DomainError)
        else BatchOutcome(event_id=event.event_id, status=ACCEPTED, event=outcome)
        for event, outcome in zip(cmd.events, outcomes, strict=True)
    ]
    accepted = sum(1 for r in results if r.event is not None)
    return BatchAccepted(accepted=accepted, refused=len(results) - accepted, results=results)


async def _apply(
    uow: Work, location_id: str, events: Sequence[WarehouseEventIn], signed_by: str | None
) -> list[EventAccepted | DomainError]:
    """Each event applied, or why not, in the order of `events`."""
    if signed_by not in (None, location_id):  # another location's door: nothing there is theirs
        return [NotFound(f"no shipment {e.shipment_id}") for e in events]
    session = uow.session
    # Shipments first: once they are locked, a concurrent request applying the same events
    # has committed, so the seen events read next include its own.
    shipments = await repository.lock_shipments(session, {e.shipment_id for e in events})
    shipping = [e.shipment_id for e in events if e.type == "shipped"]
    lines: dict[str, list[ShipmentLine]] = {}
    if shipping:
        for line in await repository.lines(session, shipping):
            lines.setdefault(line.shipment_id, []).append(line)
    known = _Known(
        shipments=shipments,
        lines=lines,
        seen=await repository.warehouse_events(session, {e.event_id for e in events}),
    )
    answers: list[EventAccepted | DomainError] = []
    for cmd in events:
        answer = _judge(cmd, known, location_id, signed_by)
        if answer is not None:
            answers.append(answer)
            continue
        # One of several is traced on its own, as the order intake's batch does, so that each
        # order's trace goes on from its shipment rather than all of them from one request.
        with telemetry.trace_of_its_own("warehouse event") if len(events) > 1 else nullcontext():
            answers.append(_accept(uow, cmd, known, location_id))
    return answers


def _judge(
    cmd: WarehouseEventIn, known: _Known, location_id: str, signed_by: str | None
) -> EventAccepted | DomainError | None:
    """The answer to an event that changes nothing (a duplicate, a refusal), or None for one
    that may be applied."""
    seen = known.seen.get(cmd.event_id)
    shipment = known.shipments.get(cmd.shipment_id)
    if seen is not None:
        if seen != AppliedEvent(cmd.shipment_id, cmd.type, location_id):
            return Conflict(
                f"event {cmd.event_id} was already used for another event", field="event_id"
            )
        return EventAccepted(
            event_id=cmd.event_id,
            shipment_id=cmd.shipment_id,
            status=shipment.status if shipment else cmd.type,
            duplicate=True,
        )
    if shipment is None or signed_by not in (None, shipment.location_id):
        return NotFound(f"no shipment {cmd.shipment_id}")
    if shipment.location_id != location_id:
        return DomainError(
            f"shipment {cmd.shipment_id} ships from {shipment.location_id}", field="shipment_id"
        )
    try:
        domain.check_next(ShipmentStatus(shipment.status), ShipmentStatus(cmd.type))
    except domain.IllegalShipmentEvent as error:
        return Conflict(str(error), field="type")
    return None


def _accept(uow: Work, cmd: WarehouseEventIn, known: _Known, location_id: str) -> EventAccepted:
    session, outbox = uow.session, uow.outbox
    shipment = known.shipments[cmd.shipment_id]
    target = ShipmentStatus(cmd.type)
    move_shipment(shipment, target, now=uow.service.clock())
    applied = AppliedEvent(shipment.shipment_id, cmd.type, location_id)
    known.seen[cmd.event_id] = applied
    repository.add_warehouse_event(session, cmd.event_id, applied)
    if target == ShipmentStatus.SHIPPED:
        shipment.carrier, shipment.tracking_number = cmd.carrier, cmd.tracking_number
        lines = known.lines.get(shipment.shipment_id, [])
        outbox.add(
            session,
            ShipmentShipped(
                shipment_id=shipment.shipment_id,
                order_id=shipment.order_id,
                location_id=shipment.location_id,
                lines=tuple(Line(sku=line.sku, quantity=line.quantity) for line in lines),
                carrier=cmd.carrier or "",
                tracking_number=cmd.tracking_number or "",
            ),
            key=shipment.order_id,
        )
    elif target == ShipmentStatus.DELIVERED:
        outbox.add(
            session,
            ShipmentDelivered(shipment_id=shipment.shipment_id, order_id=shipment.order_id),
            key=shipment.order_id,
        )
    session.add(shipment)
    return EventAccepted(
        event_id=cmd.event_id,
        shipment_id=shipment.shipment_id,
        status=shipment.status,
        duplicate=False,
    )
