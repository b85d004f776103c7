"""The inventory reconciliation: finance's books against inventory's stock.

Finance's side is its own and must agree to the cent: the journal's inventory account and the
valuations of all SKUs. Inventory's side is asked of inventory's HTTP API (a service never reads
another's database, DESIGN §1): per SKU, the units it holds in the states finance values. The
two sides are read moments apart, not in one snapshot, so stock events on their way from
inventory to finance show as mismatched quantities; a mismatch that lasts across calls is real.
"""

from collections.abc import Mapping
from typing import Annotated

import httpx
from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_finance import domain, repository
from keel_finance.schemas import InventoryReconciliation, QuantityMismatch
from keel_kit.problems import DomainError
from keel_kit.tables import utcnow

# Inventory's largest page of balances: the fewest round trips.
PAGE_SIZE = 1000
TIMEOUT_SECONDS = 10.0
# How many SKUs with differing quantities the reconciliation lists (all are counted).
MISMATCHES_SHOWN = 100


class InventoryUnavailable(DomainError):
    status = 503
    title = "Service unavailable"


class _SkuTotals(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sku: str
    valued_quantity: int


class _TotalsPage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    items: list[_SkuTotals]
    next_cursor: str | None


class InventoryClient:
    """Inventory's stock as finance reads it, through inventory's HTTP API (`transport` lets
    tests answer in its place)."""

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._transport = transport
        self._timeout = timeout

    async def valued_quantities(self) -> dict[str, int]:
        """Every SKU's units in the states finance values (sellable, reserved ones included,
        quarantine and damaged), a page at a time."""
        quantities: dict[str, int] = {}
        after: str | None = None
        async with httpx.AsyncClient(
            base_url=self.base_url, transport=self._transport, timeout=self._timeout
        ) as client:
            while True:
                page = await self._page(client, after)
                quantities.update((item.sku, item.valued_quantity) for item in page.items)
                if page.next_cursor is None or page.next_cursor == after:
                    return quantities
                after = page.next_cursor

    async def _page(self, client: httpx.AsyncClient, after: str | None) -> _TotalsPage:
        params: dict[str, str | int] = {"limit": PAGE_SIZE}
        if after is not None:
            params["after"] = after
        where = f"inventory at {self.base_url}"
        try:
            response = await client.get("/v1/balances", params=params)
        except httpx.HTTPError as error:
            raise InventoryUnavailable(
                f"{where} is unreachable: {type(error).__name__}: {error}"
            ) from error
        if response.status_code != 200:
            raise InventoryUnavailable(
                f"{where} answered {response.status_code} to GET /v1/balances"
            )
        try:
            return _TotalsPage.model_validate_json(response.content)
        except ValidationError as error:
            raise InventoryUnavailable(
                f"{where} answered GET /v1/balances with something other than a page of balances"
            ) from error


def get_inventory(request: Request) -> InventoryClient:
    inventory: InventoryClient = request.app.state.inventory
    return inventory


InventoryDep = Annotated[InventoryClient, Depends(get_inventory)]


async def reconcile(
    *, session: AsyncSession, inventory: Mapping[str, int]
) -> InventoryReconciliation:
    """Finance's books against inventory's valued quantities per SKU (`inventory`)."""
    as_of = utcnow()
    account, valued = await repository.inventory_account_and_valuation(session)
    finance = await repository.valued_quantities(session)
    account, valued = account.quantize(domain.CENT), valued.quantize(domain.CENT)
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
