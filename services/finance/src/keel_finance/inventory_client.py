"""Inventory's stock as finance reads it: through inventory's HTTP API, since a service never
reads another's database (DESIGN §1). The inventory reconciliation is its only reader."""

from collections.abc import Callable

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from keel_kit import telemetry
from keel_kit.problems import DomainError

# Inventory's largest page of balances: the fewest round trips.
PAGE_SIZE = 1000
TIMEOUT_SECONDS = 10.0


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
    """Inventory's `GET /v1/balances`, a page at a time (`transport` lets tests answer in its
    place). It holds no connections between calls: each reconciliation opens its own and
    closes them, so there is nothing to close when the app stops."""

    def __init__(
        self,
        base_url: str,
        *,
        credentials: Callable[[], dict[str, str]],
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._credentials = credentials  # finance's own principal: inventory allows it the read
        self._transport = transport
        self._timeout = timeout

    async def valued_quantities(self) -> dict[str, int]:
        """Every SKU's units in the states finance values (sellable, reserved ones included,
        quarantine, damaged and in transit between locations), a page at a time."""
        quantities: dict[str, int] = {}
        cursor: str | None = None
        async with telemetry.traced_client(
            httpx.AsyncClient(
                base_url=self.base_url, transport=self._transport, timeout=self._timeout
            )
        ) as client:
            while True:
                page = await self._page(client, cursor)
                quantities.update((item.sku, item.valued_quantity) for item in page.items)
                if page.next_cursor is None or page.next_cursor == cursor:
                    return quantities
                cursor = page.next_cursor

    async def _page(self, client: httpx.AsyncClient, cursor: str | None) -> _TotalsPage:
        # The cursor is inventory's to read: finance only hands back the `next_cursor` it got.
        params: dict[str, str | int] = {"limit": PAGE_SIZE}
        if cursor is not None:
            params["cursor"] = cursor
        where = f"inventory at {self.base_url}"
        try:
            response = await client.get("/v1/balances", params=params, headers=self._credentials())
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
