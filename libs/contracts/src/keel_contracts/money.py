"""Money's places and rounding, once: each use of an amount that must be rounded has one rule
here, named for that use, with the reason for its rounding.

A currency has its ISO 4217 minor units (`limits.MINOR_UNITS`: JPY 0, USD 2, KWD 3; one Keel
does not list has 2), of which the journal keeps at most `limits.LEDGER_PLACES`: a KWD amount is
posted to 0.01, and a JPY one to the whole yen. A unit cost keeps `limits.COST_PLACES` whatever
its currency, since a fraction of the minor unit is a real cost (three for 1.00 are 0.3333 each).
`minor_units`, `ledger_places` and `least` say so per currency; the rules round to them:

    rule           places                     rounding    use
    posting        the currency's ledger's    half-even   a journal line, and every value
                                                          kept to match one (a valuation's)
    charge         the currency's ledger's    half-up     what a customer is charged, or given
                                                          back of a charge
    cap            the currency's ledger's    floor       a limit, such as what is left to refund
    unit_cost      COST_PLACES                half-even   a unit's average cost
    ledger_total   LEDGER_PLACES              half-even   sums of posted amounts read back
    shown          the currency's minor       (display    an amount in an answer or a message,
                   units, more if they count  only)       beside its currency

Half-up for negative amounts rounds away from zero and half-even to the even neighbour, as for
positive ones; floor goes down, so `cap` of a negative amount is never above it either.
"""

from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

from keel_contracts.limits import COST_PLACES, LEDGER_PLACES, minor_units, price_places
from keel_contracts.values import Money

_CENT = Decimal(1).scaleb(-LEDGER_PLACES)
_COST = Decimal(1).scaleb(-COST_PLACES)


def ledger_places(currency: str) -> int:
    """The places the journal keeps in `currency`: its minor units, at most LEDGER_PLACES (the
    journal's columns and lines have two). They are the places a price may have, which the
    doors check (`limits.price_places`), so what a customer pays is posted as it is."""
    return price_places(currency)


def least(currency: str) -> Decimal:
    """The smallest amount the journal posts in `currency`: 1 JPY, 0.01 USD, 0.01 KWD. A payment
    or refund of less would post nothing."""
    return Decimal(1).scaleb(-ledger_places(currency))


def posting(amount: Decimal, currency: str) -> Decimal:
    """A journal line: half-even to the ledger places of its currency (JPY to the whole yen).

    Also every value kept to agree with the journal (what a receipt adds to a valuation, what an
    issue or a return moves of it): rounded here before it is posted, it is posted unchanged, so
    the valuation moves by exactly what the journal does. Half-even, because over many issues it
    rounds up as often as down, and the rounding left in a SKU's value does not drift one way.
    """
    return amount.quantize(least(currency), rounding=ROUND_HALF_EVEN)


def charge(amount: Decimal, currency: str) -> Decimal:
    """What a customer is charged, or given back of a charge (the goods and shipping of a refund,
    its restocking fee): half-up to the ledger places of its currency, the rounding a customer
    expects on a bill (a 10% fee on 0.25 USD, 0.025, is 0.03; on 5 JPY, 0.5, is 1)."""
    return amount.quantize(least(currency), rounding=ROUND_HALF_UP)


def cap(amount: Decimal, currency: str) -> Decimal:
    """A limit, such as what is left of an order or a capture to refund: down to the ledger
    places of its currency, never above the exact amount, so nothing refunded against it can
    pass what there is (a sub-cent left over is never refunded)."""
    return amount.quantize(least(currency), rounding=ROUND_FLOOR)


def unit_cost(amount: Decimal) -> Decimal:
    """A unit's average cost (a valuation's value over its units): half-even to COST_PLACES, as
    precise as a unit cost on the wire, in any currency (a fraction of a yen is a real cost)."""
    return amount.quantize(_COST, rounding=ROUND_HALF_EVEN)


def ledger_total(amount: Decimal) -> Decimal:
    """A sum of journal lines, or of amounts posted as they are (valuations, refunds), read back
    from the database to be compared or reported, such as the inventory account against the
    valuations: to LEDGER_PLACES, the most any line has. Exact where the database sums decimals;
    it drops the float noise of SQLite's sums."""
    return amount.quantize(_CENT, rounding=ROUND_HALF_EVEN)


def shown(amount: Decimal, currency: str) -> Decimal:
    """An amount in `currency` as people write it in an answer or a message: with the currency's
    ISO 4217 places always (333 JPY, 10.00 USD, 1.500 KWD), more only when they carry value (a
    unit cost of 4.1250 USD reads 4.125, one of 333.3333 JPY keeps its four). Display only: it
    never changes the amount, so a yen amount a column keeps to two places (333.00) reads 333
    and a dinar one (1.50) reads 1.500, as the currency is written."""
    fixed = amount.quantize(Decimal(1).scaleb(-minor_units(currency)))
    return fixed if fixed == amount else amount.normalize()


def shown_money(amount: Decimal, currency: str) -> Money:
    """`amount` in `currency` as an answer or a message carries it: `shown`, with its currency."""
    return Money(amount=shown(amount, currency), currency=currency)
