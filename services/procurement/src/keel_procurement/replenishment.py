"""The demand signal and replenishment runs.

Demand: every `stock.issued` is a sale leaving a location; its units count toward the day of
its envelope's `occurred_at` (UTC). Days are folded into an exponentially weighted mean and
variance once they are over (see `domain.fold`). On hand is what procurement has seen:
`stock.received` minus `stock.issued` at the location; adjustments, transfers and counts are not
on that topic, so the figure drifts from inventory's ledger if they happen (documented limit).

A run looks at every replenishment policy: position = on hand + units still owed on open
purchase orders (drafts too, so a repeated run does not order twice). The lead time is the
supplier's measured one once it has delivered (with its spread in the safety stock from two
deliveries on; see `domain.replenish`), its stated one before. At or below the reorder point,
it suggests the order-up-to quantity and drafts one purchase order per supplier and location
with the suggested lines, at the unit cost the item master registered. The run is kept with what
it made; its suggestions are read a page at a time (`replenishment_runs`).
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from keel_contracts import Envelope, new_event_id
from keel_contracts.events import StockIssued, StockReceived
from keel_contracts.times import as_utc
from keel_kit.problems import Conflict
from keel_procurement import domain, repository
from keel_procurement import purchase_order_drafts as drafts
from keel_procurement.context import Planning, Work
from keel_procurement.domain import DailyDemand, LeadTimeSource
from keel_procurement.models import (
    DemandSignal,
    ReplenishmentPolicy,
    ReplenishmentRun,
    ReplenishmentSuggestion,
)
from keel_procurement.schemas import (
    DemandHistoryCreate,
    DemandHistoryPublic,
    DemandPublic,
    LineCreate,
    PurchaseOrderCreate,
    ReplenishmentRunPublic,
    SuggestionPublic,
    SuggestionsPage,
)

ORDERED = "ordered"  # the suggestion is on a draft purchase order (po_id)
MAX_PAGE = 200


async def stock_issued(*, uow: Work, event: StockIssued, cause: Envelope) -> None:
    """The issued units count toward the day the issue happened, not the day it arrived here."""
    signal = await _signal(uow.session, event.sku, event.location_id)
    day = as_utc(cause.occurred_at).date()
    state = domain.record_issue(_state(signal), day, event.quantity, uow.service.planning.alpha)
    _store(signal, state, now=uow.service.clock())
    signal.on_hand -= event.quantity
    uow.session.add(signal)


async def stock_received(*, uow: Work, event: StockReceived) -> None:
    signal = await _signal(uow.session, event.sku, event.location_id)
    signal.on_hand += event.quantity
    signal.updated_at = uow.service.clock()
    uow.session.add(signal)


async def demand(*, uow: Work, sku: str, location_id: str) -> DemandPublic:
    signal = await repository.get_demand_signal(uow.session, sku, location_id)
    today = uow.service.clock().date()
    state = _as_of(signal, today, uow.service.planning)
    return DemandPublic(
        sku=sku,
        location_id=location_id,
        mean_daily_demand=state.mean,
        variance=state.variance,
        days_observed=state.days,
        today_quantity=state.open_quantity if state.open_day == today else 0,
        on_hand=signal.on_hand if signal is not None else 0,
    )


async def import_history(*, uow: Work, history: DemandHistoryCreate) -> DemandHistoryPublic:
    """Seed demand signals from a business's past daily sales, all or none: a series for a
    signal that already has closed days is a 409 naming it (history is never refolded)."""
    session, planning = uow.session, uow.service.planning
    signals = await repository.demand_signals(session)
    for index, series in enumerate(history.series):
        key = (series.sku, series.location_id)
        signal = signals.get(key) or DemandSignal(sku=series.sku, location_id=series.location_id)
        days = [(day.date, day.quantity) for day in series.days]
        seeded = domain.seed_history(_state(signal), days, planning.alpha)
        if seeded is None:
            raise Conflict(
                f"{series.sku} at {series.location_id} already has demand of its own; "
                "history can only start a signal",
                field=f"series.{index}",
            )
        _store(signal, seeded, now=uow.service.clock())
        signals[key] = signal
        session.add(signal)
    return DemandHistoryPublic(
        series=len(history.series), days=sum(len(s.days) for s in history.series)
    )


async def scheduled_run(uow: Work) -> None:
    """The run the schedule makes: the same as one asked for over HTTP."""
    await run(uow=uow)


async def run(*, uow: Work) -> ReplenishmentRunPublic:
    session, planning = uow.session, uow.service.planning
    run_id = str(new_event_id())
    today = uow.service.clock().date()
    signals = await repository.demand_signals(session)
    owed = await repository.on_order(session)
    lead_times: dict[str, LeadTime] = {}
    made: list[ReplenishmentSuggestion] = []
    for policy in await repository.policies(session):
        key = (policy.sku, policy.location_id)
        if policy.supplier_id not in lead_times:
            lead_times[policy.supplier_id] = await _lead_time(session, policy.supplier_id)
        lead_time = lead_times[policy.supplier_id]
        signal = signals.get(key)
        on_hand = signal.on_hand if signal is not None else 0
        decision = domain.replenish(
            demand=_as_of(signal, today, planning),
            lead_time_days=lead_time.days,
            lead_time_sigma=lead_time.sigma,
            review_days=planning.review_days,
            service_level=policy.service_level,
            position=on_hand + owed.get(key, 0),
            min_order_qty=policy.min_order_qty,
            pack_size=policy.pack_size,
        )
        if decision.needed:
            made.append(_suggestion(run_id, policy, decision, lead_time.source, on_hand, planning))

    po_ids = await _draft_orders(uow, made)
    session.add_all(made)
    # Kept even when it made nothing: that a run found every policy above its reorder point is
    # worth knowing too (the schedule makes one a day by default).
    kept = ReplenishmentRun(
        run_id=run_id,
        suggestions_made=len(made),
        purchase_orders_drafted=len(po_ids),
        created_at=uow.service.clock(),
    )
    session.add(kept)
    return ReplenishmentRunPublic.model_validate(kept, from_attributes=True)


async def page(*, uow: Work, status: str | None, cursor: str | None, limit: int) -> SuggestionsPage:
    """One page of suggestions, newest first; `next_cursor` continues after its last one, and is
    null on the last page."""
    limit = max(1, min(limit, MAX_PAGE))
    rows = await repository.suggestions(
        uow.session,
        status=status,
        before=cursor,
        limit=limit + 1,  # one more tells whether another page follows
    )
    items = [suggestion_public(row) for row in rows[:limit]]
    return SuggestionsPage(
        items=items, next_cursor=items[-1].suggestion_id if len(rows) > limit else None
    )


async def _draft_orders(uow: Work, made: list[ReplenishmentSuggestion]) -> list[str]:
    """One draft purchase order per supplier and location, through the ordinary draft use case
    (so it is validated, priced and announced like one drafted by hand)."""
    groups: dict[tuple[str, str], list[ReplenishmentSuggestion]] = defaultdict(list)
    for suggestion in made:
        groups[(suggestion.supplier_id, suggestion.location_id)].append(suggestion)
    known = await repository.items(uow.session, {s.sku for s in made})
    po_ids: list[str] = []
    for (supplier_id, location_id), group in groups.items():
        currency = known[group[0].sku].currency
        po = await drafts.draft(
            uow=uow,
            created_by=drafts.drafted_by_run(group[0].run_id),
            references_checked=True,  # the policies' items and locations were, when put
            cmd=PurchaseOrderCreate(
                supplier_id=supplier_id,
                location_id=location_id,
                currency=currency,
                lines=[
                    LineCreate(sku=s.sku, quantity=s.quantity, unit_cost=known[s.sku].unit_cost)
                    for s in group
                ],
            ),
        )
        for suggestion in group:
            suggestion.po_id = po.po_id
        po_ids.append(po.po_id)
    return po_ids


@dataclass(frozen=True)
class LeadTime:
    days: Decimal
    sigma: Decimal | None  # the measured spread; None when there is none to go by
    source: LeadTimeSource


async def _lead_time(session: AsyncSession, supplier_id: str) -> LeadTime:
    """The supplier's measured mean lead time (and its spread, from two deliveries on) once any
    of its orders has delivered; its stated lead time, taken as fixed, until then."""
    supplier = await repository.get_supplier(session, supplier_id)
    assert supplier is not None  # a policy names an existing supplier (foreign key)
    record = domain.delivery_record(
        await repository.arrivals(session, supplier_id), supplier.lead_time_days
    )
    if record.measured_lead_time_days is not None:
        return LeadTime(
            record.measured_lead_time_days, record.lead_time_spread_days, LeadTimeSource.MEASURED
        )
    return LeadTime(Decimal(supplier.lead_time_days), None, LeadTimeSource.STATED)


def _suggestion(
    run_id: str,
    policy: ReplenishmentPolicy,
    decision: domain.Replenishment,
    source: LeadTimeSource,
    on_hand: int,
    planning: Planning,
) -> ReplenishmentSuggestion:
    return ReplenishmentSuggestion(
        suggestion_id=str(new_event_id()),
        run_id=run_id,
        sku=policy.sku,
        location_id=policy.location_id,
        supplier_id=policy.supplier_id,
        status=ORDERED,
        mean_daily_demand=decision.mean,
        demand_sigma=decision.sigma,
        lead_time_days=decision.lead_time_days,
        lead_time_source=source,
        lead_time_sigma=decision.lead_time_sigma,
        review_days=planning.review_days,
        service_level=policy.service_level,
        z=decision.z,
        safety_stock=decision.safety_stock,
        reorder_point=decision.reorder_point,
        order_up_to=decision.order_up_to,
        on_hand=on_hand,
        on_order=decision.position - on_hand,
        position=decision.position,
        raw_quantity=decision.raw_quantity,
        min_order_qty=policy.min_order_qty,
        pack_size=policy.pack_size,
        quantity=decision.quantity,
    )


def suggestion_public(suggestion: ReplenishmentSuggestion) -> SuggestionPublic:
    return SuggestionPublic.model_validate(suggestion, from_attributes=True)


async def _signal(session: AsyncSession, sku: str, location_id: str) -> DemandSignal:
    """The signal as this transaction knows it: read with its batch's (or now), else new."""
    loaded = repository.loaded_signals(session)
    key = (sku, location_id)
    if key not in loaded:
        loaded[key] = await repository.get_demand_signal(session, sku, location_id)
    signal = loaded[key]
    if signal is None:
        signal = loaded[key] = DemandSignal(sku=sku, location_id=location_id)
    return signal


def _state(signal: DemandSignal | None) -> DailyDemand:
    if signal is None:
        return domain.NO_DEMAND
    return DailyDemand(
        mean=Decimal(signal.mean),
        variance=Decimal(signal.variance),
        days=signal.days,
        open_day=signal.open_day,
        open_quantity=signal.open_quantity,
    )


def _as_of(signal: DemandSignal | None, today: date, planning: Planning) -> DailyDemand:
    """The signal with every day before today closed, without storing it (reading is pure)."""
    return domain.close_days_before(_state(signal), today, planning.alpha)


def _store(signal: DemandSignal, state: DailyDemand, *, now: datetime) -> None:
    signal.mean = state.mean
    signal.variance = state.variance
    signal.days = state.days
    signal.open_day = state.open_day
    signal.open_quantity = state.open_quantity
    signal.updated_at = now
