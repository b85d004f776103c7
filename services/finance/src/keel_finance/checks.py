"""Finance's invariants for `GET /v1/checks` (`keel check`): the books balance, each sale is
posted once, refunds stay within captures, and the stock account equals the valuation.

Whether finance's valued quantities match inventory's is the reconciliation's question
(`GET /v1/reconciliation/inventory`), which `keel check` asks as well.
"""

from keel_contracts import money
from keel_finance import checks_repository, repository
from keel_finance.context import Work
from keel_kit.checks import Invariant


async def _unbalanced_entries(uow: Work) -> list[str]:
    return [
        f"entry {entry_id} debits {debits} and credits {credits}"
        for entry_id, debits, credits in await checks_repository.unbalanced_entries(uow.session)
    ]


async def _trial_balance_off(uow: Work) -> list[str]:
    findings = []
    for currency, accounts in sorted((await repository.totals_by_account(uow.session)).items()):
        debits = sum(d for d, _ in accounts.values())
        credits = sum(c for _, c in accounts.values())
        if debits != credits:
            findings.append(f"{currency} debits {debits} against credits {credits}")
    return findings


async def _captures_without_sale(uow: Work) -> list[str]:
    return [
        f"order {order_id} was captured but its sale is not posted"
        for order_id in await checks_repository.captured_without_sale(uow.session)
    ]


async def _refunds_beyond_captures(uow: Work) -> list[str]:
    return [
        f"order {order_id} refunded {refunded} of {captured} captured"
        for order_id, refunded, captured in await checks_repository.over_refunded(uow.session)
    ]


async def _stock_account_off_the_valuation(uow: Work) -> list[str]:
    account, valued = await repository.inventory_account_and_valuation(uow.session)
    account, valued = money.ledger_total(account), money.ledger_total(valued)
    if account == valued:
        return []
    return [f"the inventory account holds {account}, the valuations sum to {valued}"]


INVARIANTS = (
    Invariant("every journal entry balances", _unbalanced_entries),
    Invariant("the trial balance is zero", _trial_balance_off),  # in each currency
    # Never twice: the journal's unique key on (source type, source id) refuses a second sale.
    Invariant("each captured order's sale is posted once", _captures_without_sale),
    Invariant("no order is refunded more than was captured", _refunds_beyond_captures),
    Invariant(
        "the inventory account equals the sum of the stock valuations",
        _stock_account_off_the_valuation,
    ),
)
