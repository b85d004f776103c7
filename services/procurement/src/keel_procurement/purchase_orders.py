"""The purchase-order lifecycle after the draft (`purchase_order_drafts`): approve, send,
confirm (and move the date later), receive, close or cancel.

Every status change writes its event on `procurement.purchase_order.v1`, keyed by the purchase
order, in the caller's transaction (the outbox), and its entry on the audit trail, naming the
person who took the step; a refusal raises before anything is written, so the boundary rolls
back whole and nothing is booked.
"""

from datetime import UTC, date, datetime, time

from keel_contracts import money, new_event_id
from keel_contracts.events import (
    PurchaseOrderApproved,
    PurchaseOrderCancelled,
    PurchaseOrderClosed,
    PurchaseOrderConfirmed,
    PurchaseOrderDelayed,
    PurchaseOrderReceived,
    PurchaseOrderSent,
)
from keel_contracts.limits import MAX_QUANTITY
from keel_contracts.roles import Role
from keel_contracts.times import as_utc
from keel_contracts.values import Line
from keel_kit.access import ForbiddenActor
from keel_kit.identity import Principal
from keel_kit.problems import Conflict, DomainError, NotFound
from keel_procurement import domain, receipt_lots, repository, supplier_ratings
from keel_procurement import purchase_order_audit as trail
from keel_procurement import purchase_order_views as views
from keel_procurement.context import Work
from keel_procurement.domain import Action, Status
from keel_procurement.models import PurchaseOrder, PurchaseOrderApproval, Receipt, ReceiptLine
from keel_procurement.schemas import (
    CancelRequest,
    ConfirmationCreate,
    PurchaseOrderPublic,
    ReceiptCreate,
    ReceiptLinePublic,
    ReceiptPublic,
)


async def view(*, uow: Work, po_id: str) -> PurchaseOrderPublic:
    return await views.view_of(uow.session, await _get(uow, po_id))


async def approve(*, uow: Work, po_id: str, actor: Principal) -> PurchaseOrderPublic:
    """Record `actor`'s approval (the caller: a person, never a role); the order is approved
    once it has as many different approvers as its amount requires (until then it stays a draft
    awaiting the next one). Whoever drafted the order may not approve it, so even a single
    approval is a second person's. Each approval is on the audit trail, the first of two too."""
    session, outbox = uow.session, uow.outbox
    approver = actor.subject
    po = await _get(uow, po_id, lock=True)
    _check(po, Action.APPROVE)
    if approver == po.created_by:
        raise ForbiddenActor(
            f"{approver} drafted purchase order {po_id} and may not approve it; "
            "another person must",
            field="approver",
        )
    approvers = await repository.approvers_of(session, po_id)
    before = trail.state(po, approvers=list(approvers))
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
    # 0 once approved; until then the trail shows the order awaiting another person.
    missing = max(po.approvals_required - len(approvers), 0)
    after = trail.state(po, approvers=list(approvers), approvals_missing=missing)
    await trail.record(
        uow, actor=actor, action="purchase_order.approved", po=po, before=before, after=after
    )
    return await views.view_of(session, po, approvers)


async def send(*, uow: Work, po_id: str, actor: Principal) -> PurchaseOrderPublic:
    po = await _get(uow, po_id, lock=True)
    _check(po, Action.SEND)
    before = trail.state(po)
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
    after = trail.state(po)
    await trail.record(
        uow, actor=actor, action="purchase_order.sent", po=po, before=before, after=after
    )
    return await views.view_of(uow.session, po)


async def confirm(
    *, uow: Work, po_id: str, cmd: ConfirmationCreate, actor: Principal
) -> PurchaseOrderPublic:
    """The supplier accepted the order and promised a delivery date; confirmed again, it moves
    that date (see `_move_date`). `actor` is who recorded the supplier's word."""
    session, outbox = uow.session, uow.outbox
    po = await _get(uow, po_id, lock=True)
    _check(po, Action.CONFIRM)
    if po.status != Status.SENT:
        return await _move_date(uow, po, cmd, actor)
    before = trail.state(po, expected_date=None)
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
    after = trail.state(po, expected_date=cmd.expected_date.isoformat())
    await trail.record(
        uow, actor=actor, action="purchase_order.confirmed", po=po, before=before, after=after
    )
    return await views.view_of(session, po)


async def _move_date(
    uow: Work, po: PurchaseOrder, cmd: ConfirmationCreate, actor: Principal
) -> PurchaseOrderPublic:
    """The supplier of a confirmed (or partly received) order gives a new date. Later: it is the
    expected date from now on (the first promise is kept, punctuality is judged by it) and the
    units still outstanding are announced as delayed. The same date changes nothing, so a
    repeated confirmation is harmless (and not on the audit trail). Earlier is refused."""
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
    before = trail.state(po, expected_date=previous.isoformat())
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
    after = trail.state(po, expected_date=cmd.expected_date.isoformat(), outstanding=outstanding)
    await trail.record(
        uow, actor=actor, action="purchase_order.delayed", po=po, before=before, after=after
    )
    return await views.view_of(session, po, lines=lines)


async def receive(*, uow: Work, po_id: str, cmd: ReceiptCreate, actor: Principal) -> ReceiptPublic:
    """Book goods that arrived, in the lots the lines name (`receipt_lots`). Every line is
    checked before anything is booked: a SKU not on the order, a line taken beyond its ordered
    quantity plus the tolerance, or a lot a receipt cannot carry refuses the whole receipt. The
    audit trail's entry is warehouse's: its people count the goods."""
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
    lots = receipt_lots.lots_by_sku(cmd.lines)
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

    before = trail.state(po, received=trail.received(lines))
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
        session.add(po)
        await supplier_ratings.announce(uow, po.supplier_id)
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
                views.received_line(po, sku, quantity, by_sku[sku].unit_cost, lots[sku])
                for sku, quantity in arriving.items()
            ),
            received_at=receipt.received_at,
            complete=status is Status.RECEIVED,
        ),
        key=po_id,
    )
    after = trail.state(
        po,
        received=trail.received(lines),
        receipt_id=receipt.receipt_id,
        arrived=arriving,
        **trail.lots(lots),
    )
    await trail.record(
        uow,
        actor=actor,
        action="purchase_order.received",
        po=po,
        before=before,
        after=after,
        owner_role=Role.WAREHOUSE,
    )
    return ReceiptPublic(
        receipt_id=receipt.receipt_id,
        po_id=po_id,
        received_at=receipt.received_at,
        lines=[
            ReceiptLinePublic(sku=sku, quantity=n, lot=lots[sku][0], expires_on=lots[sku][1])
            for sku, n in arriving.items()
        ],
        purchase_order=await views.view_of(session, po),
    )


async def cancel(
    *, uow: Work, po_id: str, cmd: CancelRequest, actor: Principal
) -> PurchaseOrderPublic:
    po = await _get(uow, po_id, lock=True)
    _check(po, Action.CANCEL)
    before = trail.state(po)
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
    await trail.record(
        uow,
        actor=actor,
        action="purchase_order.cancelled",
        po=po,
        before=before,
        after=trail.state(po),
        reason=cmd.reason,
    )
    return await views.view_of(uow.session, po)


async def close(*, uow: Work, po_id: str, actor: Principal) -> PurchaseOrderPublic:
    """No more goods are expected: a partly received order is closed short."""
    session, outbox = uow.session, uow.outbox
    po = await _get(uow, po_id, lock=True)
    _check(po, Action.CLOSE)
    before = trail.state(po)
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
    after = trail.state(po, short=short)
    await trail.record(
        uow, actor=actor, action="purchase_order.closed", po=po, before=before, after=after
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
