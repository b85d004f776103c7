"""HTTP models of the finance API. An amount beside its currency is written with that
currency's places (`keel_contracts.money.shown`: 1500 JPY, 15.00 USD, 1.500 KWD); the trial
balance and the margins are per currency, so none of their amounts adds up two currencies. (The
inventory reconciliation compares sums over every currency, to the journal's two places.)"""

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel


class JournalLinePublic(BaseModel):
    account: str
    account_name: str
    debit: Decimal
    credit: Decimal


class JournalEntryPublic(BaseModel):
    entry_id: str
    source_type: str
    source_id: str
    currency: str
    memo: str
    posted_at: datetime
    lines: list[JournalLinePublic]


class AccountBalance(BaseModel):
    account: str
    name: str
    kind: str
    debits: Decimal
    credits: Decimal
    balance: Decimal


class CurrencyTrialBalance(BaseModel):
    """The accounts as the entries posted in one currency leave them: each entry balances, so
    each currency does on its own."""

    currency: str
    debits: Decimal
    credits: Decimal
    balanced: bool
    accounts: list[AccountBalance]


class TrialBalance(BaseModel):
    """Every account per currency posted in, by currency code; `balanced` when each currency's
    debits equal its credits (and with nothing posted)."""

    balanced: bool
    currencies: list[CurrencyTrialBalance]


class PaymentPublic(BaseModel):
    order_id: str
    status: str
    method: str
    authorization_id: str | None
    amount: Decimal
    currency: str
    captured_amount: Decimal
    refunded_amount: Decimal
    reason: str
    created_at: datetime
    updated_at: datetime


class ChannelMargin(BaseModel):
    """A channel's margin in one currency; a channel selling in two has a line for each."""

    channel: str
    currency: str
    revenue: Decimal
    cost_of_goods: Decimal
    margin: Decimal
    margin_percent: Decimal


class MarginsPublic(BaseModel):
    channels: list[ChannelMargin]


class StockValuationPublic(BaseModel):
    sku: str
    currency: str
    quantity: int
    value: Decimal
    # None with nothing on hand (none, or fewer than none: units issued that finance never
    # valued are owed, at the cost posted): there is no average to speak of.
    average_cost: Decimal | None


class StockValuationPage(BaseModel):
    items: list[StockValuationPublic]
    next_cursor: str | None


class SalePublic(BaseModel):
    """A posted sale: what the customer owes for the order (goods and shipping)."""

    order_id: str
    currency: str
    amount: Decimal


class SalesPage(BaseModel):
    items: list[SalePublic]
    next_cursor: str | None  # null at the end


class QuantityMismatch(BaseModel):
    sku: str
    finance_quantity: int
    inventory_quantity: int


class InventoryReconciliation(BaseModel):
    """The inventory account's balance in the journal (`account_balance`) against the sum of the
    valuations (`valuation_total`; `difference` is the balance less the sum), and each SKU's
    valued quantity against inventory's. `matches` only when the
    money agrees to the cent and every SKU's quantity agrees. `mismatches` lists the SKUs whose
    quantities differ in SKU order, the first 100 of them; `skus_mismatched` counts them all."""

    matches: bool
    as_of: datetime
    account_balance: Decimal
    valuation_total: Decimal
    difference: Decimal
    skus_compared: int
    skus_mismatched: int
    mismatches: list[QuantityMismatch]
