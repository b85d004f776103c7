"""A supplier's measured delivery record, and its announcement to the services that plan with
it: inventory weighs the stock a supplier has yet to deliver by how often it comes on time."""

from sqlmodel.ext.asyncio.session import AsyncSession

from keel_contracts.events import SupplierRated
from keel_procurement import domain, repository
from keel_procurement.context import Work
from keel_procurement.models import Supplier


async def delivery_record(session: AsyncSession, supplier: Supplier) -> domain.DeliveryRecord:
    """Lead times and punctuality over the supplier's orders that have received goods."""
    arrivals = await repository.arrivals(session, supplier.supplier_id)
    return domain.delivery_record(arrivals, supplier.lead_time_days)


async def announce(uow: Work, supplier_id: str) -> None:
    """Publish the supplier's record as it stands (`supplier.rated`, compacted by supplier):
    called when one of its orders' first goods arrive, which is when the record moves."""
    supplier = await repository.get_supplier(uow.session, supplier_id)
    if supplier is None:
        return  # an order names a supplier that exists; there is nothing to rate otherwise
    record = await delivery_record(uow.session, supplier)
    uow.outbox.add(
        uow.session,
        SupplierRated(
            supplier_id=supplier_id,
            orders_measured=record.orders_measured,
            on_time_rate=record.on_time_rate,
            measured_lead_time_days=record.measured_lead_time_days,
        ),
        key=supplier_id,
    )
