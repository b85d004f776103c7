"""Every finance query lives here: `journal` (entries and their lines), `payments` (payments and
refunds), `valuations` (stock at moving average cost, locked while it moves) and `stock_costs`
(what issues, returns and adjustments were costed at). A batch's consumer loads what its
messages need of each in a query or two (see `keel_finance.handlers`), and the handlers then
find it in memory."""

from keel_finance.repository.journal import add_entry, entries_for_source, totals_by_account
from keel_finance.repository.payments import (
    add_payment,
    add_refund,
    get_payment,
    get_refund,
    load_payments,
    load_refunds,
)
from keel_finance.repository.stock_costs import (
    Moves,
    is_adjusted,
    is_returned,
    load_adjustments,
    load_returns,
    record_adjustment,
    record_issue,
    record_return,
    sold_moves,
)
from keel_finance.repository.valuations import (
    VALUATION,
    create_valuation,
    get_valuation,
    inventory_account_and_valuation,
    lock_valuations,
    valuation_for_update,
    valuations,
    valued_quantities,
)

__all__ = [
    "VALUATION",
    "Moves",
    "add_entry",
    "add_payment",
    "add_refund",
    "create_valuation",
    "entries_for_source",
    "get_payment",
    "get_refund",
    "get_valuation",
    "inventory_account_and_valuation",
    "is_adjusted",
    "is_returned",
    "load_adjustments",
    "load_payments",
    "load_refunds",
    "load_returns",
    "lock_valuations",
    "record_adjustment",
    "record_issue",
    "record_return",
    "sold_moves",
    "totals_by_account",
    "valuation_for_update",
    "valuations",
    "valued_quantities",
]
