"""The bounds every door applies, so that whatever one service accepts every service downstream
can carry to the ledger.

Each number is chosen from the narrowest place its value lands downstream:

- `values.Amount` (18 digits, 4 places) holds less than 10**14. It carries every amount on the
  wire (an order's total, a payment, a purchase order's total, a refund, each journal line) and
  matches the Numeric(18, 4) columns those land in (finance's payments and refunds, procurement's
  purchase orders, returns' order totals). Finance's journal lines and issue and return costs
  are Numeric(18, 2), below 10**16: wider, so not the limit. A SKU's valuation, a running sum
  over its receipts, is Numeric(24, 2): its units on hand (a 32-bit count) at MAX_UNIT_AMOUNT.
- A document's total (an order, a purchase order, a refund) is at most `MAX_AMOUNT`, checked
  across its lines where a sum can pass it; a single line never can (see below).
- One line is at most `MAX_QUANTITY` units at `MAX_UNIT_AMOUNT` each. The product stays below
  10**14 because finance costs an issue of up to `MAX_QUANTITY` units (`stock.issued`) at its
  moving average cost, which never exceeds the dearest unit cost received, and posts that cost
  as one journal line: no per-document check could catch it, so the unit bound must.
- Free text and identifiers carry no control characters (PostgreSQL refuses NUL; none belongs
  in a name, a reason or a reference) and are no longer than the column they land in.
- Business dates lie in the years 2000 to 2999.

The contracts' message fields keep their existing, looser validation: a consumer that refused
what an older producer published would dead-letter it (the additive-only rule of
`keel_contracts.snapshots`). The doors, the services' HTTP schemas, apply these instead.
"""

import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, Field, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

# What `values.Amount` holds: 18 digits, 4 of them places.
AMOUNT_CEILING = Decimal(10) ** 14

# The largest total of one document, to the cent: the most `values.Amount` (and every
# Numeric(18, 4) money column) holds, to the ledger's two places.
MAX_AMOUNT = Decimal("99999999999999.99")

# Units on one line: `values.Quantity`'s own bound, which every line on the wire already has.
MAX_QUANTITY = 1_000_000

# One unit's price or cost: below 10**8, so MAX_QUANTITY of them stay within MAX_AMOUNT. A
# price (or shipping, or a fee) is to the cent: its largest is the same bound, to two places.
MAX_UNIT_AMOUNT = Decimal("99999999.9999")
MAX_UNIT_PRICE = Decimal("99999999.99")

# Lines in one document: the most any door takes (a purchase order's or a receipt's 500; an
# order takes 200). It bounds the work of one request; the money is bounded by MAX_AMOUNT.
MAX_LINES = 500

# Places of a unit cost (a fraction of the minor unit is a real cost: 3 for 1.00 is 0.3333)
# and of a price or fee a customer pays, which finance posts to journal lines of two places.
COST_PLACES = 4
LEDGER_PLACES = 2

if MAX_UNIT_AMOUNT * MAX_QUANTITY > MAX_AMOUNT or MAX_AMOUNT >= AMOUNT_CEILING:
    raise AssertionError("a full line must fit one amount, and one amount the wire's Amount")

# ISO 4217 minor units of the currencies Keel's channels sell in; any other takes two. A price
# may have no more places than its currency has, nor more than the journal keeps (LEDGER_PLACES,
# or a sale of 0.005 + 0.005 would post unbalanced): a three-place currency such as KWD is
# priced to 0.01 until the journal keeps more places.
MINOR_UNITS: dict[str, int] = {
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "CAD": 2,
    "AUD": 2,
    "CHF": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "PLN": 2,
    "MXN": 2,
    "BRL": 2,
    "INR": 2,
    "CNY": 2,
    "JPY": 0,
    "KRW": 0,
    "CLP": 0,
    "ISK": 0,
    "VND": 0,
    "KWD": 3,
    "BHD": 3,
    "OMR": 3,
    "JOD": 3,
    "TND": 3,
}
DEFAULT_MINOR_UNITS = 2

# Business dates (a delivery expected, a day's sales): a year 1 or 9999 is a typo, and at the
# edges of Python's and PostgreSQL's calendars adding a lead time overflows into a 500.
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2999, 12, 31)

# C0 and C1 controls (NUL above all: PostgreSQL refuses it in text) and lone surrogates (JSON can
# escape one; no UTF-8 encoder, PostgreSQL's or Kafka's serializer's, accepts it).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def minor_units(currency: str) -> int:
    """ISO 4217 minor units of `currency` (JPY 0, USD 2, KWD 3); one Keel does not list has 2."""
    return MINOR_UNITS.get(currency, DEFAULT_MINOR_UNITS)


def price_places(currency: str) -> int:
    """The places a price, fee or shipping amount in `currency` may have: its minor units, at
    most what the journal keeps (`keel_contracts.money` posts to the same places)."""
    return min(minor_units(currency), LEDGER_PLACES)


def places(amount: Decimal) -> int:
    """Decimal places `amount` is written with, trailing zeros aside (10.50 has 1, 10.00 none)."""
    exponent = amount.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def printable(value: str) -> str:
    """Refuse a control character anywhere in free text or an identifier."""
    found = _CONTROL.search(value)
    if found is not None:
        raise PydanticCustomError(
            "control_character",
            "must not contain control characters (found U+{code} at position {position})",
            {"code": f"{ord(found.group()):04X}", "position": found.start()},
        )
    return value


# Put in any string's Annotated metadata: Annotated[str, StringConstraints(...), NoControl].
NoControl = AfterValidator(printable)

# A unit cost (inventory's items and receipts, procurement's lines): never negative, four places.
UnitCost = Annotated[Decimal, Field(ge=0, le=MAX_UNIT_AMOUNT, decimal_places=COST_PLACES)]
# A unit price, shipping amount or fee a customer pays; its currency may allow fewer places.
UnitPrice = Annotated[Decimal, Field(ge=0, le=MAX_UNIT_PRICE, decimal_places=LEDGER_PLACES)]
BusinessDate = Annotated[date, Field(ge=EARLIEST_DATE, le=LATEST_DATE)]


def refuse(model: str, location: tuple[str | int, ...], message: str, value: object) -> None:
    """Fail a model validator as a 422 naming `location` (a model-level error names no field)."""
    error = PydanticCustomError("value_error", "{detail}", {"detail": message})
    detail = InitErrorDetails(type=error, loc=location, input=value)
    raise ValidationError.from_exception_data(model, [detail])


def check_total(model: str, location: tuple[str | int, ...], total: Decimal, what: str) -> None:
    """Refuse a document whose `total` passes MAX_AMOUNT, naming the field that made it."""
    if total > MAX_AMOUNT:
        refuse(
            model,
            location,
            f"{what} is {total}; the most one amount can carry to the ledger is {MAX_AMOUNT}",
            str(total),
        )


def check_price_places(
    model: str, location: tuple[str | int, ...], amount: Decimal, currency: str
) -> None:
    """Refuse a price with more places than its currency (and the journal) allow."""
    allowed = price_places(currency)
    if places(amount) > allowed:
        refuse(
            model,
            location,
            f"{currency} amounts have at most {allowed} decimal places; got {amount}",
            str(amount),
        )


def check_units_per_sku(model: str, lines: Iterable[tuple[str, int]]) -> None:
    """Refuse lines whose units of one SKU add up past MAX_QUANTITY, naming the line that takes
    them over: a document's lines of one SKU travel on as one line (a reservation's allocation,
    a shipment's line, an issue), which carries at most MAX_QUANTITY."""
    units: dict[str, int] = {}
    for index, (sku, quantity) in enumerate(lines):
        units[sku] = units.get(sku, 0) + quantity
        if units[sku] > MAX_QUANTITY:
            refuse(
                model,
                ("lines", index, "quantity"),
                f"the lines of sku {sku} add up to {units[sku]} units; "
                f"at most {MAX_QUANTITY} of one sku travel on one line",
                quantity,
            )
