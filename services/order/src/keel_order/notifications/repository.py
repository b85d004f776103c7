"""The customer notifications' queries."""

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select as core_select
from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_kit.db import one_of
from keel_order.models import Customer, CustomerNotification, core_table


class Unsent(NamedTuple):
    """A message waiting for the port."""

    id: int
    order_id: str
    customer_id: str
    kind: str
    message: str
    created_at: datetime


async def unsent(session: AsyncSession, *, limit: int) -> Sequence[Unsent]:
    """The oldest messages the port has not taken yet, locked so that no other run sends them:
    plain rows, as nothing but `mark_sent` changes them."""
    table = core_table(CustomerNotification)
    query = (
        core_select(*(table.c[name] for name in Unsent._fields))
        .where(table.c.sent_at.is_(None))
        .order_by(table.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = await (await session.connection()).execute(query)
    return [Unsent(*row) for row in rows.all()]


async def mark_sent(session: AsyncSession, ids: Collection[int], at: datetime) -> None:
    """One statement for a run's messages, not an ORM update each."""
    table = core_table(CustomerNotification)
    await session.exec(update(table).where(one_of(session, table.c.id, ids)).values(sent_at=at))


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
