"""HTTP models of the finance API."""

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


class TrialBalance(BaseModel):
    debits: Decimal
    credits: Decimal
    balanced: bool
    accounts: list[AccountBalance]


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
    channel: str
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
    average_cost: Decimal | None  # None with nothing on hand: there is no average to speak of


class StockValuationPage(BaseModel):
    items: list[StockValuationPublic]
    next_cursor: str | None
