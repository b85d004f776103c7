"""The people the CLI acts as against the local stack.

Every `/v1` route needs a principal, so whatever `keel demo`, `bench`, `chaos`, `check` and
`dlq` do is done by a named person with the least role that may do it (the services' permission
tables, README "Who may do what"), with a staff token signed by the stack's issuer. Channels and
warehouses' systems sign their own requests instead (`keel_cli.partners`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from keel_cli import partners, stack
from keel_contracts.roles import Role


@dataclass(frozen=True)
class Person:
    name: str  # the token's `sub`: who the services record as acting
    role: Role

    def headers(self, state_dir: Path | None = None) -> dict[str, str]:
        """Headers that make a request this person's, signed by the stack in `state_dir`."""
        return stack.staff_headers(self.name, self.role, state_dir)


# Registers warehouses and items, and checks every service has learnt them; bench and chaos
# orders too (order entry).
OPERATIONS = Person("ops-olga", Role.OPERATIONS)
# The demo's order entry: takes the channels' orders, the customers' cancellations and returns.
ORDER_DESK = Person("desk-cora", Role.CUSTOMER_SERVICE)
# Receives stock and purchase orders, posts the warehouses' shipment events, grades returns.
WAREHOUSE = Person("warehouse-walt", Role.WAREHOUSE)
# Suppliers, policies, sales history and replenishment runs; sends and confirms orders.
BUYER = Person("buyer-bea", Role.PROCUREMENT)
# Two other buyers: a large purchase order needs two different approvers, neither its creator.
APPROVERS = (Person("buyer-ana", Role.PROCUREMENT), Person("buyer-ben", Role.PROCUREMENT))
CONTROLLER = Person("controller-kim", Role.FINANCE)  # approves refunds
LEADERSHIP = Person("leader-lee", Role.LEADERSHIP)  # reads reports and checks, changes nothing
ADMIN = Person("admin-ann", Role.ADMIN)  # replays parked outbox rows (no other role may)


class Staff:
    """HTTP clients for people at the services: one per (person, service), made by `make` with
    the person's headers on first use, and closed together."""

    def __init__(
        self,
        make: Callable[[str, Mapping[str, str]], httpx.AsyncClient],
        state_dir: Path | None = None,
    ) -> None:
        self._make = make
        self._state_dir = state_dir
        self._clients: dict[tuple[Person, str], httpx.AsyncClient] = {}
        self._partners: dict[str, httpx.AsyncClient] = {}

    def client(self, person: Person, service: str) -> httpx.AsyncClient:
        """`person` at `service`."""
        if (person, service) not in self._clients:
            headers = person.headers(self._state_dir)
            self._clients[(person, service)] = self._make(service, headers)
        return self._clients[(person, service)]

    async def partner(self, kind: str, partner_id: str, service: str) -> httpx.AsyncClient:
        """The partner `kind:partner_id` (a channel, a warehouse) at `service`, signing its
        requests with the secret admin issued it."""
        name = f"{kind}:{partner_id}"
        if name not in self._partners:
            admin = self.client(ADMIN, service)
            client = self._make(service, {})
            client.auth = await partners.signing(admin, kind, partner_id, self._state_dir)
            self._partners[name] = client
        return self._partners[name]

    async def __aenter__(self) -> Staff:
        return self

    async def __aexit__(self, *exc: object) -> None:
        for client in [*self._clients.values(), *self._partners.values()]:
            await client.aclose()
