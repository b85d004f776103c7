"""The customer notifications' queries."""

from collections.abc import Collection, Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_order.models import Customer, CustomerNotification


async def unsent(session: AsyncSession, *, limit: int) -> Sequence[CustomerNotification]:
    """The oldest messages the port has not taken yet, locked so that no other run sends them."""
    query = (
        select(CustomerNotification)
        .where(col(CustomerNotification.sent_at).is_(None))
        .order_by(col(CustomerNotification.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await session.exec(query)).all()


async def customer_emails(session: AsyncSession, customer_ids: Collection[str]) -> dict[str, str]:
    query = select(Customer.customer_id, Customer.email).where(
        col(Customer.customer_id).in_(customer_ids)
    )
    return {customer_id: email for customer_id, email in (await session.exec(query)).all()}


async def of_order(session: AsyncSession, order_id: str) -> Sequence[CustomerNotification]:
    query = (
        select(CustomerNotification)
        .where(CustomerNotification.order_id == order_id)
        .order_by(col(CustomerNotification.id))
    )
    return (await session.exec(query)).all()
