"""Supplier and replenishment-policy use cases. They add to the caller's transaction; the
boundary commits. Registering a supplier and putting a policy are on the audit trail: a policy
decides what gets ordered from whom."""

from decimal import Decimal
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from keel_contracts.roles import Role
from keel_kit import audit
from keel_kit.identity import Principal
from keel_kit.problems import Conflict, DomainError, NotFound
from keel_procurement import domain, references, repository, supplier_ratings
from keel_procurement.context import Work
from keel_procurement.models import ReplenishmentPolicy, Supplier
from keel_procurement.schemas import (
    PolicyPublic,
    PolicyPut,
    SupplierCreate,
    SupplierPublic,
    SuppliersPage,
)

SERVICE_LEVEL_PLACES = Decimal("0.0001")  # ReplenishmentPolicy.service_level is Numeric(5, 4)


async def register_supplier(*, uow: Work, cmd: SupplierCreate, actor: Principal) -> SupplierPublic:
    """A new supplier, with no record yet: it has no purchase orders to measure."""
    if await repository.get_supplier(uow.session, cmd.supplier_id) is not None:
        raise Conflict(f"supplier {cmd.supplier_id} already exists", field="supplier_id")
    supplier = Supplier(**cmd.model_dump())
    uow.session.add(supplier)
    await audit.record(
        uow,
        actor=actor,
        action="supplier.created",
        object_type="supplier",
        object_id=supplier.supplier_id,
        owner_role=Role.PROCUREMENT,
        after=cmd.model_dump(mode="json"),
    )
    return SupplierPublic.model_validate(supplier, from_attributes=True)


async def view_supplier(*, uow: Work, supplier_id: str) -> SupplierPublic:
    """The supplier with its delivery and fill record measured from its own purchase orders."""
    supplier = await repository.get_supplier(uow.session, supplier_id)
    if supplier is None:
        raise NotFound(f"unknown supplier {supplier_id}")
    return await _measured(uow.session, supplier)


async def suppliers_page(*, uow: Work, limit: int, cursor: str | None) -> SuppliersPage:
    """One page of the suppliers by id, each with its measured record (its scorecard)."""
    found = await repository.suppliers(uow.session, after=cursor, limit=limit + 1)
    items = [await _measured(uow.session, supplier) for supplier in found[:limit]]
    return SuppliersPage(
        items=items, next_cursor=items[-1].supplier_id if len(found) > limit else None
    )


async def _measured(session: AsyncSession, supplier: Supplier) -> SupplierPublic:
    record = await supplier_ratings.delivery_record(session, supplier)
    fill = domain.fill_record(await repository.fills(session, supplier.supplier_id))
    return SupplierPublic(
        supplier_id=supplier.supplier_id,
        name=supplier.name,
        lead_time_days=supplier.lead_time_days,
        created_at=supplier.created_at,
        measured_lead_time_days=record.measured_lead_time_days,
        lead_time_spread_days=record.lead_time_spread_days,
        on_time_rate=record.on_time_rate,
        orders_measured=record.orders_measured,
        orders_on_time=record.orders_on_time,
        fill_rate=fill.fill_rate,
        fill_orders=fill.orders,
        units_ordered=fill.units_ordered,
        units_filled=fill.units_filled,
    )


async def put_policy(
    *, uow: Work, sku: str, location_id: str, cmd: PolicyPut, actor: Principal
) -> PolicyPublic:
    """Create or replace how `sku` is restocked at `location_id`."""
    session, catchup = uow.session, uow.service.catchup
    await references.require_skus(session, catchup, {sku: "sku"})
    await references.require_location(session, catchup, location_id)
    if await repository.get_supplier(session, cmd.supplier_id) is None:
        raise DomainError(f"unknown supplier {cmd.supplier_id}", field="supplier_id")
    policy = await repository.get_policy(session, sku, location_id)
    before = None if policy is None else _policy_state(policy)
    if policy is None:
        policy = ReplenishmentPolicy(sku=sku, location_id=location_id, **cmd.model_dump())
    else:
        policy.sqlmodel_update(cmd.model_dump())
        policy.updated_at = uow.service.clock()
    session.add(policy)
    await audit.record(
        uow,
        actor=actor,
        action="replenishment_policy.put",
        object_type="replenishment_policy",
        object_id=f"{sku}/{location_id}",  # as the policy's URL names it
        owner_role=Role.PROCUREMENT,
        before=before,
        after=_policy_state(policy),
    )
    return PolicyPublic.model_validate(policy, from_attributes=True)


def _policy_state(policy: ReplenishmentPolicy) -> dict[str, Any]:
    """The policy as the audit trail keeps it."""
    return {
        "supplier_id": policy.supplier_id,
        # At the column's scale, so a policy just put and one read back compare equal.
        "service_level": str(policy.service_level.quantize(SERVICE_LEVEL_PLACES)),
        "min_order_qty": policy.min_order_qty,
        "pack_size": policy.pack_size,
    }


async def view_policy(*, uow: Work, sku: str, location_id: str) -> PolicyPublic:
    policy = await repository.get_policy(uow.session, sku, location_id)
    if policy is None:
        raise NotFound(f"no replenishment policy for {sku} at {location_id}")
    return PolicyPublic.model_validate(policy, from_attributes=True)
