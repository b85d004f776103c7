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
