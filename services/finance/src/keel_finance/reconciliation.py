"""The inventory reconciliation: finance's books against inventory's stock.

Finance's side is its own and must agree to the cent: the journal's inventory account and the
valuations of all SKUs. Inventory's side is asked of inventory's HTTP API (`InventoryClient`):
per SKU, the units it holds in the states finance values. The two sides are read moments apart,
not in one snapshot, so stock events on their way from inventory to finance show as mismatched
quantities; a mismatch that lasts across calls is real.
"""

from keel_contracts import money
from keel_finance import domain, repository
from keel_finance.context import Work
from keel_finance.schemas import InventoryReconciliation, QuantityMismatch

# How many SKUs with differing quantities the reconciliation lists (all are counted).
MISMATCHES_SHOWN = 100


async def reconcile_inventory(*, uow: Work) -> InventoryReconciliation:
    """Finance's books against inventory's valued quantities per SKU; `InventoryUnavailable`
    (a 503) if inventory cannot be asked."""
    # Asked before finance's first query: the unit of work takes a connection (and, on SQLite,
    # the database's lock) only then, so nothing in the database waits on inventory.
    inventory = await uow.service.inventory.valued_quantities()
    as_of = uow.service.clock()
    account, valued = await repository.inventory_account_and_valuation(uow.session)
    finance = await repository.valued_quantities(uow.session)
    account, valued = money.ledger_total(account), money.ledger_total(valued)
    differing = domain.differing_quantities(finance, inventory)
    return InventoryReconciliation(
        matches=account == valued and not differing,
        as_of=as_of,
        account_balance=account,
        valuation_total=valued,
        difference=account - valued,
        skus_compared=len(finance.keys() | inventory.keys()),
        skus_mismatched=len(differing),
        mismatches=[
            QuantityMismatch(sku=sku, finance_quantity=ours, inventory_quantity=theirs)
            for sku, ours, theirs in differing[:MISMATCHES_SHOWN]
        ],
    )
