"""The purchase-order lifecycle: draft, approve, send, confirm (and move the date later),
receive, close or cancel.

Every status change writes its event on `procurement.purchase_order.v1`, keyed by the purchase
order, in the caller's transaction (the outbox); a refusal raises before anything is written, so
the boundary rolls back whole and nothing is booked.
"""

from datetime import UTC, date, datetime, time

from keel_contracts import money, new_event_id
from keel_contracts.events import (
    PurchaseOrderApproved,
    PurchaseOrderCancelled,
    PurchaseOrderClosed,
    PurchaseOrderConfirmed,
    PurchaseOrderDelayed,
    PurchaseOrderDrafted,
    PurchaseOrderReceived,
    PurchaseOrderSent,
)
from keel_contracts.limits import MAX_QUANTITY
from keel_contracts.times import as_utc
from keel_contracts.values import Line
from keel_kit.access import ForbiddenActor
from keel_kit.problems import Conflict, DomainError, NotFound
from keel_procurement import domain, references, repository
from keel_procurement import purchase_order_views as views
from keel_procurement.context import Work
from keel_procurement.domain import Action, Status
from keel_procurement.models import (
    PurchaseOrder,
    PurchaseOrderApproval,
    PurchaseOrderLine,
    Receipt,
    ReceiptLine,
)
from keel_procurement.schemas import (
    CancelRequest,
    ConfirmationCreate,
    PurchaseOrderCreate,
    PurchaseOrderPublic,
    ReceiptCreate,
    ReceiptLinePublic,
    ReceiptPublic,
)


def drafted_by_run(run_id: str) -> str:
    """A replenishment run's draft is created by the run, no person: any buyer may approve it."""
    return f"replenishment-run:{run_id}"


async def draft(
    *, uow: Work, cmd: PurchaseOrderCreate, created_by: str, references_checked: bool = False
) -> PurchaseOrderPublic:
    """Draft a purchase order as `created_by` (who may then not approve it). An item or location
    the replicas lack may only not have reached this service yet (see `references`); with
    `references_checked` (the caller took them from procurement's own checked data) a missing
    one is simply unknown."""
    session, outbox = uow.session, uow.outbox
    catchup = None if references_checked else uow.service.catchup
    if await repository.get_supplier(session, cmd.supplier_id) is None:
        raise DomainError(f"unknown supplier {cmd.supplier_id}", field="supplier_id")
    await references.require_location(session, catchup, cmd.location_id)
    fields: dict[str, str] = {}
    for index, line in enumerate(cmd.lines):
        if line.sku in fields:
            raise DomainError(f"sku {line.sku} is on two lines", field=f"lines.{index}.sku")
        fields[line.sku] = f"lines.{index}.sku"
    await references.require_skus(session, catchup, fields)

    total = domain.total((line.quantity, line.unit_cost) for line in cmd.lines)
    po = PurchaseOrder(
        po_id=str(new_event_id()),
        supplier_id=cmd.supplier_id,
        location_id=cmd.location_id,
        currency=cmd.currency,
        status=Status.DRAFT,
        total=total,
        approvals_required=domain.approvals_required(total, uow.service.rules.approval_threshold),
        created_by=created_by,
    )
    lines = [
        PurchaseOrderLine(
            po_id=po.po_id,
            line_no=number,
            sku=line.sku,
            quantity=line.quantity,
            unit_cost=line.unit_cost,
        )
        for number, line in enumerate(cmd.lines, start=1)
    ]
    session.add(po)
    session.add_all(lines)
    outbox.add(
        session,
        PurchaseOrderDrafted(
            purchase_order_id=po.po_id,
            supplier_id=po.supplier_id,
            location_id=po.location_id,
            lines=tuple(
                views.event_line(po, line.sku, line.quantity, line.unit_cost) for line in lines
            ),
            total=money.shown_money(total, po.currency),
        ),
        key=po.po_id,
    )
    return views.public(po, lines, [])


async def view(*, uow: Work, po_id: str) -> PurchaseOrderPublic:
    return await views.view_of(uow.session, await _get(uow, po_id))


async def approve(*, uow: Work, po_id: str, approver: str) -> PurchaseOrderPublic:
    """Record `approver`'s approval (the caller: a person, never a role); the order is approved
    once it has as many different approvers as its amount requires (until then it stays a draft
    awaiting the next one). Whoever drafted the order may not approve it, so even a single
    approval is a second person's."""
    session, outbox = uow.session, uow.outbox
    po = await _get(uow, po_id, lock=True)
    _check(po, Action.APPROVE)
    if approver == po.created_by:
        raise ForbiddenActor(
            f"{approver} drafted purchase order {po_id} and may not approve it; "
            "another person must",
            field="approver",
        )
    approvers = await repository.approvers_of(session, po_id)
    if approver in approvers:
        raise Conflict(
            f"{approver} has already approved purchase order {po_id}; "
            "it needs a second, different approver",
            field="approver",
        )
    session.add(PurchaseOrderApproval(po_id=po_id, approver=approver))
    approvers.append(approver)
    if len(approvers) >= po.approvals_required:
        _move(uow, po, Status.APPROVED)
        po.approved_at = po.updated_at
        outbox.add(
            session,
            PurchaseOrderApproved(
                purchase_order_id=po_id,
                supplier_id=po.supplier_id,
                approvers=tuple(approvers),
                total=money.shown_money(po.total, po.currency),
            ),
            key=po_id,
        )
    return await views.view_of(session, po, approvers)


async def send(*, uow: Work, po_id: str) -> PurchaseOrderPublic:
    po = await _get(uow, po_id, lock=True)
    _check(po, Action.SEND)
    _move(uow, po, Status.SENT)
    po.sent_at = po.updated_at
    uow.outbox.add(
        uow.session,
        PurchaseOrderSent(
            purchase_order_id=po_id,
            supplier_id=po.supplier_id,
            location_id=po.location_id,
            sent_at=po.sent_at,
        ),
        key=po_id,
    )
    return await views.view_of(uow.session, po)


async def confirm(*, uow: Work, po_id: str, cmd: ConfirmationCreate) -> PurchaseOrderPublic:
    """The supplier accepted the order and promised a delivery date; confirmed again, it moves
    that date (see `_move_date`)."""
    session, outbox = uow.session, uow.outbox
    po = await _get(uow, po_id, lock=True)
    _check(po, Action.CONFIRM)
    if po.status != Status.SENT:
        return await _move_date(uow, po, cmd)
    assert po.sent_at is not None  # a sent order has its sending time
    if cmd.expected_date < as_utc(po.sent_at).date():
        raise DomainError(
            f"expected date {cmd.expected_date} is before the order was sent",
            field="expected_date",
        )
    _move(uow, po, Status.CONFIRMED)
    po.confirmed_at = po.updated_at
    po.expected_date = cmd.expected_date
    po.promised_date = cmd.expected_date
    lines = await repository.lines_of(session, po_id)
    outbox.add(
        session,
        PurchaseOrderConfirmed(
            purchase_order_id=po_id,
            supplier_id=po.supplier_id,
            location_id=po.location_id,
            lines=tuple(Line(sku=line.sku, quantity=line.quantity) for line in lines),
            expected_at=_midnight(cmd.expected_date),
        ),
        key=po_id,
    )
    return await views.view_of(session, po)


async def _move_date(uow: Work, po: PurchaseOrder, cmd: ConfirmationCreate) -> PurchaseOrderPublic:
    """The supplier of a confirmed (or partly received) order gives a new date. Later: it is the
    expected date from now on (the first promise is kept, punctuality is judged by it) and the
    units still outstanding are announced as delayed. The same date changes nothing, so a
    repeated confirmation is harmless. Earlier is refused."""
    session, outbox = uow.session, uow.outbox
    if po.expected_date is None:
        raise Conflict(
            f"purchase order {po.po_id}: cannot confirm a purchase order that is {po.status} "
            "without a date: its goods began arriving before the supplier confirmed, so there "
            "is no date to move",
            field="expected_date",
        )
    previous = po.expected_date
    try:
        later = domain.date_moves_later(previous, cmd.expected_date)
    except domain.EarlierDate as error:
        raise Conflict(f"purchase order {po.po_id}: {error}", field="expected_date") from error
    if not later:
        return await views.view_of(session, po)
    po.expected_date = cmd.expected_date
    po.updated_at = uow.service.clock()
    session.add(po)
    lines = await repository.lines_of(session, po.po_id)
    outstanding = domain.short_lines(
        {line.sku: line.quantity for line in lines},
        {line.sku: line.received_quantity for line in lines},
    )
    outbox.add(
        session,
        PurchaseOrderDelayed(
            purchase_order_id=po.po_id,
            supplier_id=po.supplier_id,
            location_id=po.location_id,
            lines=tuple(Line(sku=sku, quantity=n) for sku, n in outstanding.items()),
            previous_expected_at=_midnight(previous),
            expected_at=_midnight(cmd.expected_date),
        ),
        key=po.po_id,
    )
    return await views.view_of(session, po, lines=lines)


async def receive(*, uow: Work, po_id: str, cmd: ReceiptCreate) -> ReceiptPublic:
    """Book goods that arrived. Every line is checked before anything is booked: a SKU not on
    the order, or a line taken beyond its ordered quantity plus the tolerance, refuses the whole
    receipt."""
    session, outbox, rules = uow.session, uow.outbox, uow.service.rules
    po = await _get(uow, po_id, lock=True)
    _check(po, Action.RECEIVE)
    lines = await repository.lines_of(session, po_id)
    by_sku = {line.sku: line for line in lines}
    first_index: dict[str, int] = {}
    for index, given in enumerate(cmd.lines):
        if given.sku not in by_sku:
            raise DomainError(
                f"sku {given.sku} is not on purchase order {po_id}", field=f"lines.{index}.sku"
            )
        first_index.setdefault(given.sku, index)
    arriving = domain.merge_lines((given.sku, given.quantity) for given in cmd.lines)
    for sku, quantity in arriving.items():
        if quantity > MAX_QUANTITY:  # more than purchase_order.received carries on a line
            raise DomainError(
                f"line {sku}: {quantity} units in one receipt; at most {MAX_QUANTITY} may arrive",
                field=f"lines.{first_index[sku]}.quantity",
            )
        line = by_sku[sku]
        limit = domain.receivable_limit(line.quantity, rules.over_receipt_tolerance)
        if line.received_quantity + quantity > limit:
            raise DomainError(
                f"line {sku}: receiving {quantity} would make {line.received_quantity + quantity}"
                f" of {line.quantity} ordered; at most {limit} may be received",
                field=f"lines.{first_index[sku]}.quantity",
            )

    for sku, quantity in arriving.items():
        by_sku[sku].received_quantity += quantity
        session.add(by_sku[sku])
    receipt = Receipt(receipt_id=str(new_event_id()), po_id=po_id)
    receipt_lines = [
        ReceiptLine(receipt_id=receipt.receipt_id, sku=sku, quantity=quantity)
        for sku, quantity in arriving.items()
    ]
    repository.add_receipt(session, receipt, receipt_lines)
    status = domain.status_after_receipt(
        ((line.quantity, line.received_quantity) for line in lines), rules.under_receipt_tolerance
    )
    _move(uow, po, status)
    if po.first_received_at is None:
        po.first_received_at = receipt.received_at  # the supplier's lead time ends here
    if status is Status.RECEIVED:
        po.received_at = receipt.received_at
    outbox.add(
        session,
        PurchaseOrderReceived(
            purchase_order_id=po_id,
            receipt_id=receipt.receipt_id,
            supplier_id=po.supplier_id,
            location_id=po.location_id,
            lines=tuple(
                views.event_line(po, sku, quantity, by_sku[sku].unit_cost)
                for sku, quantity in arriving.items()
            ),
            received_at=receipt.received_at,
            complete=status is Status.RECEIVED,
        ),
        key=po_id,
    )
    return ReceiptPublic(
        receipt_id=receipt.receipt_id,
        po_id=po_id,
        received_at=receipt.received_at,
        lines=[ReceiptLinePublic(sku=sku, quantity=n) for sku, n in arriving.items()],
        purchase_order=await views.view_of(session, po),
    )


async def cancel(*, uow: Work, po_id: str, cmd: CancelRequest) -> PurchaseOrderPublic:
    po = await _get(uow, po_id, lock=True)
    _check(po, Action.CANCEL)
    _move(uow, po, Status.CANCELLED)
    po.cancelled_at = po.updated_at
    po.cancel_reason = cmd.reason
    uow.outbox.add(
        uow.session,
        PurchaseOrderCancelled(
            purchase_order_id=po_id,
            supplier_id=po.supplier_id,
            location_id=po.location_id,
            reason=cmd.reason,
        ),
        key=po_id,
    )
    return await views.view_of(uow.session, po)


async def close(*, uow: Work, po_id: str) -> PurchaseOrderPublic:
    """No more goods are expected: a partly received order is closed short."""
    session, outbox = uow.session, uow.outbox
    po = await _get(uow, po_id, lock=True)
    _check(po, Action.CLOSE)
    lines = await repository.lines_of(session, po_id)
    short = domain.short_lines(
        {line.sku: line.quantity for line in lines},
        {line.sku: line.received_quantity for line in lines},
    )
    _move(uow, po, Status.CLOSED)
    po.closed_at = po.updated_at
    outbox.add(
        session,
        PurchaseOrderClosed(
            purchase_order_id=po_id,
            supplier_id=po.supplier_id,
            location_id=po.location_id,
            short_lines=tuple(Line(sku=sku, quantity=n) for sku, n in short.items()),
        ),
        key=po_id,
    )
    return await views.view_of(session, po)


async def _get(uow: Work, po_id: str, *, lock: bool = False) -> PurchaseOrder:
    po = await repository.get_purchase_order(uow.session, po_id, lock=lock)
    if po is None:
        raise NotFound(f"unknown purchase order {po_id}")
    return po


def _check(po: PurchaseOrder, action: Action) -> None:
    try:
        domain.check_action(action, Status(po.status))
    except domain.IllegalTransition as error:
        raise Conflict(f"purchase order {po.po_id}: {error}") from error


def _move(uow: Work, po: PurchaseOrder, status: Status) -> None:
    po.status = status
    po.updated_at = uow.service.clock()
    uow.session.add(po)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)
