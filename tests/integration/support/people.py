"""Who the scenarios' requests come from: one person for each role that acts in them, as the
services' permission tables (services/*/permissions.py) expect, and an admin for what is not
about roles. Their tokens are signed with the test's own keys (see `ServiceHttp.as_person`)."""

from __future__ import annotations

from dataclasses import dataclass

from keel_contracts.roles import Role


@dataclass(frozen=True)
class Person:
    """A user acting in a role: the `sub` and `role` of their staff token."""

    user: str
    role: Role


ADMIN = Person("ada", Role.ADMIN)  # every request a test does not say otherwise about
OPERATIONS = Person("otis", Role.OPERATIONS)  # items, locations
CUSTOMER_SERVICE = Person("cora", Role.CUSTOMER_SERVICE)  # orders by phone, returns
WAREHOUSE = Person("wes", Role.WAREHOUSE)  # receipts, warehouse events, returned goods
FINANCE = Person("fay", Role.FINANCE)  # payment holds, refund approvals
# Whoever drafts a purchase order may not approve it, and above the approval threshold two
# different people must: the buyer drafts, sends and confirms; the approvers approve.
BUYER = Person("bea", Role.PROCUREMENT)
APPROVERS = (Person("kim", Role.PROCUREMENT), Person("lee", Role.PROCUREMENT))
