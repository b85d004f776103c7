"""Whatever a door accepts, every service downstream can carry to the ledger (issue 9, §2).

Property-based: hypothesis makes order, receipt and purchase-order bodies, some within the
bounds of `keel_contracts.limits` and some beyond them. Each body is either refused by the
service's own HTTP schema (the 422 at the door) or it is accepted, and then every value it
produces downstream is worked out with the services' own domain code and must fit where it
lands: the contracts' Amount on the wire and the Numeric columns of the services' models
(finance's journal lines, valuations, payments and refunds; the order's totals; returns'
refunds; procurement's purchase orders).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import Column, Numeric

from keel_contracts import money
from keel_contracts.events import JournalLine as WireJournalLine
from keel_contracts.limits import MAX_QUANTITY, MAX_UNIT_AMOUNT, MINOR_UNITS, places
from keel_contracts.values import Line, Money
from keel_finance import domain as finance
from keel_finance.models import IssuedStock, JournalLine, Payment, ReturnedStock, StockValuation
from keel_finance.models import Refund as PaymentRefund
from keel_inventory.models import StockMovement
from keel_inventory.schemas import ReceiptCreate
from keel_order.models import Order, OrderLine
from keel_order.schemas import OrderCreate
from keel_procurement import domain as procurement
from keel_procurement.models import PurchaseOrder, PurchaseOrderLine
from keel_procurement.schemas import PurchaseOrderCreate
from keel_returns import domain as returns
from keel_returns.models import Refund as ReturnRefund
from keel_returns.models import ShippedOrder

pytestmark = pytest.mark.contract

BOUNDED = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CURRENCIES = [*sorted(MINOR_UNITS), "XTS"]  # XTS: a code Keel has no minor units for


def fits(value: Decimal, column: Any) -> None:
    """`value` is stored exactly in `column`: no more places than its scale, and no more
    integer digits than its precision leaves."""
    kind = column.type if isinstance(column, Column) else column
    assert isinstance(kind, Numeric)
    assert kind.precision is not None
    assert kind.scale is not None
    assert places(value) <= kind.scale, f"{value} has more than {kind.scale} places"
    assert abs(value) < Decimal(10) ** (kind.precision - kind.scale), f"{value} overflows {kind}"


def carried(amount: Decimal, currency: str) -> None:
    """`amount` travels in a contract message (its Amount validates on construction)."""
    Money(amount=amount, currency=currency)


def posted(entry: finance.Entry) -> None:
    """Every line of a balanced entry fits a journal line and `journal.entry_posted`."""
    for posting in entry.postings:
        fits(posting.debit, column(JournalLine, "debit"))
        fits(posting.credit, column(JournalLine, "credit"))
        WireJournalLine(account=posting.account, debit=posting.debit, credit=posting.credit)


def column(model: Any, name: str) -> Column[Any]:
    return model.__table__.c[name]  # type: ignore[no-any-return]


def amounts(top: Decimal, most_places: int) -> st.SearchStrategy[Decimal]:
    """Non-negative decimals up to `top` with up to `most_places` places."""
    return st.integers(0, most_places).flatmap(
        lambda p: st.decimals(min_value=0, max_value=top, places=p)
    )


# Beyond the bounds as well as within them: the door is what must tell them apart.
unit_prices = amounts(MAX_UNIT_AMOUNT * Decimal("1.1"), 3)
unit_costs = amounts(MAX_UNIT_AMOUNT * Decimal("1.1"), 5)
skus = st.sampled_from([f"SKU-{n}" for n in range(8)])


def order_line(quantity: st.SearchStrategy[int]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"sku": skus, "quantity": quantity, "unit_price": unit_prices.map(str)}
    )


# Many lines of one SKU at one price: their units add up to about what one line carries.
one_sku_lines = st.tuples(
    unit_prices.map(str), st.lists(st.integers(9_000, 10_000), min_size=95, max_size=110)
).map(lambda drawn: [{"sku": "SKU-0", "quantity": q, "unit_price": drawn[0]} for q in drawn[1]])

orders = st.fixed_dictionaries(
    {
        "currency": st.sampled_from(CURRENCIES),
        "lines": st.one_of(
            st.lists(order_line(st.integers(1, 11_000)), min_size=1, max_size=5),
            st.lists(order_line(st.integers(9_000, 10_000)), min_size=90, max_size=200),
            one_sku_lines,
        ),
        "shipping": unit_prices.map(str),
        "grades": st.lists(st.sampled_from(list(returns.Grade)), min_size=8, max_size=8),
    }
)


def order_body(drawn: dict[str, Any]) -> dict[str, Any]:
    address = {"name": "A", "line1": "1 St", "city": "C", "postal_code": "1", "country": "US"}
    return {
        "channel": "web",
        "external_id": "E-1",
        "customer": {"customer_id": "C-1", "email": "a@b.co"},
        "currency": drawn["currency"],
        "lines": drawn["lines"],
        "shipping": {"amount": drawn["shipping"], "address": address},
        "payment": {"method": "card", "token": "tok"},
    }


@BOUNDED
@given(orders)
@example(  # the dearest order the door takes: a full line's worth under the cap, 99 times
    {
        "currency": "USD",
        "lines": [{"sku": "SKU-1", "quantity": 10_000, "unit_price": "99999999.99"}] * 99,
        "shipping": "99999999.99",
        "grades": ["B"] * 8,
    }
)
@example(  # a million units of one SKU on 100 lines, and one line more
    {
        "currency": "USD",
        "lines": [{"sku": "SKU-0", "quantity": 10_000, "unit_price": "1.00"}] * 101,
        "shipping": "0",
        "grades": ["A"] * 8,
    }
)
def test_an_accepted_order_fits_every_column_and_message_downstream(drawn: dict[str, Any]) -> None:
    try:
        order = OrderCreate.model_validate(order_body(drawn))
    except ValidationError:
        event("refused at the door")
        return  # a 422: nothing goes downstream
    event("accepted")
    currency, goods, shipping = order.currency, order.goods, order.shipping.amount
    total = goods + shipping
    # Inventory: the order's units of each SKU travel on as one line (an allocation, an issue).
    for sku, quantity in returns.per_sku((line.sku, line.quantity) for line in order.lines).items():
        Line(sku=sku, quantity=quantity)
    # The order service: its rows and what it announces and asks for.
    fits(goods, column(Order, "goods_total"))
    fits(shipping, column(Order, "shipping_amount"))
    for line in order.lines:
        fits(line.unit_price, column(OrderLine, "unit_price"))
        carried(line.unit_price, currency)
    for amount in (total, goods, shipping):
        carried(amount, currency)
    # Finance: the payment, the sale when the goods leave, the capture.
    fits(total, column(Payment, "amount"))
    try:
        finance.check_authorization(total, currency)
    except finance.PaymentRefused:
        return  # a free order is declined (payment.declined): nothing is posted
    sale = finance.sale_entry(currency, goods, shipping)
    assert sale.postings[0].debit == total  # posted to the cent, nothing rounded away
    posted(sale)
    posted(finance.capture_entry(currency, total))
    # Returns: every unit comes back at a grade; the refund and finance's payment of it.
    order_money = returns.OrderMoney(
        currency=currency,
        total=total,
        shipping=shipping,
        unit_prices=_cheapest_prices(order),
        ordered=returns.per_sku((line.sku, line.quantity) for line in order.lines),
        refunded=Decimal(0),
        shipping_refunded=False,
    )
    fits(total, column(ShippedOrder, "total"))
    graded = {
        (sku, drawn["grades"][int(sku.removeprefix("SKU-"))]): quantity
        for sku, quantity in order_money.ordered.items()
    }
    quote = returns.quote_refund(
        graded=graded,
        order=order_money,
        whole_order=True,
        shipping_policy=returns.ShippingRefund.ALWAYS,
    )
    for name in ("amount", "goods", "restocking_fee", "shipping"):
        fits(getattr(quote, name), column(ReturnRefund, name))
        carried(getattr(quote, name), currency)
    for quoted in quote.lines:
        carried(quoted.amount, currency)
        carried(quoted.restocking_fee, currency)
    fits(quote.amount, column(PaymentRefund, "requested_amount"))
    if quote.amount >= money.least(currency):
        posted(finance.refund_entry(currency, quote.amount))


def _cheapest_prices(order: OrderCreate) -> dict[str, Decimal]:
    """Per SKU the lowest price it was ordered at, as the returns service keeps it."""
    prices: dict[str, Decimal] = {}
    for line in order.lines:
        prices[line.sku] = min(prices.get(line.sku, line.unit_price), line.unit_price)
    return prices


receipts = st.fixed_dictionaries(
    {
        "sku": skus,
        "location_id": st.just("WH-1"),
        "quantity": st.integers(1, MAX_QUANTITY * 2),
        "unit_cost": unit_costs.map(str),
        "reference": st.just("R-1"),
    }
)


def assert_stock_flows_fit(quantity: int, unit_cost: Decimal, currency: str) -> None:
    """A receipt through finance's valuation and journal, then the units issued and returned."""
    fits(unit_cost, column(StockMovement, "unit_cost"))
    carried(unit_cost, currency)
    stock, value = finance.StockValue(currency, 0, Decimal(0)).receive(
        quantity, unit_cost, currency
    )
    fits(stock.value, column(StockValuation, "value"))
    if not value:
        return  # finance posts nothing for stock received at no cost
    posted(finance.opening_stock_entry(currency, value))
    posted(finance.purchase_receipt_entry(currency, value))
    remaining, cost = stock.issue(quantity, unit_cost, currency)
    fits(cost.total, column(IssuedStock, "value"))
    posted(finance.cost_of_goods_entry(currency, cost.total))
    sold = finance.SoldStock(currency, quantity, cost.total)
    back = finance.return_cost(
        quantity, sold=sold, stock=remaining, unit_cost=unit_cost, currency=currency
    )
    fits(back.value, column(ReturnedStock, "value"))
    posted(finance.returned_goods_entry(currency, back.value))
    posted(finance.write_off_entry(currency, back.value))


@BOUNDED
@given(receipts, st.sampled_from(CURRENCIES))
@example(  # the dearest receipt the door takes
    {
        "sku": "SKU-1",
        "location_id": "WH-1",
        "quantity": MAX_QUANTITY,
        "unit_cost": str(MAX_UNIT_AMOUNT),
        "reference": "R-1",
    },
    "USD",
)
def test_an_accepted_receipt_can_be_valued_posted_issued_and_returned(
    body: dict[str, Any], currency: str
) -> None:
    try:
        receipt = ReceiptCreate.model_validate(body)
    except ValidationError:
        event("refused at the door")
        return
    event("accepted")
    assert_stock_flows_fit(receipt.quantity, receipt.unit_cost, currency)


purchase_order_lines = st.lists(
    st.fixed_dictionaries(
        {
            "quantity": st.integers(1, MAX_QUANTITY * 2),
            "unit_cost": unit_costs.map(str),
        }
    ),
    min_size=1,
    max_size=8,
)


@BOUNDED
@given(purchase_order_lines, st.sampled_from(CURRENCIES))
def test_an_accepted_purchase_order_fits_and_each_of_its_lines_can_be_received(
    lines: list[dict[str, Any]], currency: str
) -> None:
    body = {
        "supplier_id": "S-1",
        "location_id": "WH-1",
        "currency": currency,
        "lines": [{"sku": f"SKU-{n}", **line} for n, line in enumerate(lines)],
    }
    try:
        purchase_order = PurchaseOrderCreate.model_validate(body)
    except ValidationError:
        event("refused at the door")
        return
    event("accepted")
    total = procurement.total((line.quantity, line.unit_cost) for line in purchase_order.lines)
    fits(total, column(PurchaseOrder, "total"))
    carried(money.shown(total, currency), currency)  # as purchase_order.drafted carries it
    for line in purchase_order.lines:
        fits(line.unit_cost, column(PurchaseOrderLine, "unit_cost"))
        carried(money.shown(line.unit_cost, currency), currency)
        assert_stock_flows_fit(line.quantity, line.unit_cost, currency)


def test_a_full_stock_at_the_dearest_cost_fits_the_valuation() -> None:
    # The valuation's quantity is a 32-bit integer; at the dearest unit cost the doors accept,
    # that many units are still a value the valuation column holds.
    most_units = 2**31 - 1
    fits(money.posting(MAX_UNIT_AMOUNT * most_units, "USD"), column(StockValuation, "value"))


def test_prices_finer_than_the_journal_would_post_unbalanced_so_the_door_refuses_them() -> None:
    # Why a three-place currency is priced to two places: finance rounds each posting to the
    # cent, and 0.005 of goods with 0.005 of shipping would post 0.01 against 0.00.
    with pytest.raises(finance.UnbalancedEntry):
        finance.sale_entry("KWD", Decimal("0.005"), Decimal("0.005"))
    body = order_body(
        {
            "currency": "KWD",
            "lines": [{"sku": "SKU-1", "quantity": 1, "unit_price": "0.005"}],
            "shipping": "0.005",
        }
    )
    with pytest.raises(ValidationError):
        OrderCreate.model_validate(body)
