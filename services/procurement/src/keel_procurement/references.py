"""Checks that what a request names exists. Suppliers are procurement's own; items and
locations are replicas of inventory's, so one that is missing may only not have arrived yet:
while the replica lags behind its topic the answer is a 503 to retry (`ReplicaBehind`), and
"unknown" (422) only once it has caught up (see `keel_kit.catchup`).

`catchup=None` is for references taken from procurement's own checked data (a replenishment
run drafting from its policies): a replica never forgets, so a missing one is simply unknown.
"""

from collections.abc import Mapping

from sqlmodel.ext.asyncio.session import AsyncSession

from keel_kit.catchup import ReplicaCatchup
from keel_kit.location_replicas import LOCATIONS_TOPIC
from keel_kit.problems import DomainError
from keel_kit.replicas import ITEMS_TOPIC
from keel_procurement import repository


async def require_location(
    session: AsyncSession, catchup: ReplicaCatchup | None, location_id: str
) -> None:
    if await repository.get_location(session, location_id) is not None:
        return
    if catchup is not None:
        await catchup.require_caught_up(
            LOCATIONS_TOPIC,
            [location_id],
            missing=f"location {location_id}",
            field="location_id",
        )
        if await repository.get_location(session, location_id) is not None:
            return  # it arrived while we asked
    raise DomainError(f"unknown location {location_id}", field="location_id")


async def require_skus(
    session: AsyncSession, catchup: ReplicaCatchup | None, fields: Mapping[str, str]
) -> None:
    """`fields` maps each SKU to the request field naming it; the first unknown one is named."""
    known = await repository.known_skus(session, set(fields))
    missing = [sku for sku in fields if sku not in known]
    if missing and catchup is not None:
        behind = await catchup.behind(ITEMS_TOPIC, keys=missing)
        if behind is not None:
            raise behind.naming(f"sku {missing[0]}", field=fields[missing[0]])
        known |= await repository.known_skus(session, set(missing))  # arrived while we asked
    for sku, field in fields.items():
        if sku not in known:
            raise DomainError(f"unknown sku {sku}", field=field)
