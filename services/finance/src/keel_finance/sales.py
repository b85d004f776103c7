"""The sales finance has posted, for `keel check` to match with the order service's shipped
orders."""

from keel_contracts import money
from keel_finance import checks_repository
from keel_finance.context import Work
from keel_finance.schemas import SalePublic, SalesPage


async def posted_sales(*, uow: Work, cursor: str | None, limit: int) -> SalesPage:
    """Posted sales in order id order; `cursor` is the last page's `next_cursor`."""
    rows = await checks_repository.posted_sales(uow.session, cursor=cursor, limit=limit)
    page = rows[:limit]
    return SalesPage(
        items=[
            SalePublic(order_id=o, currency=c, amount=money.shown(money.ledger_total(a), c))
            for o, c, a in page
        ],
        next_cursor=page[-1][0] if len(rows) > limit else None,
    )
