"""Who may act in Keel: the roles a principal carries (DESIGN §5).

A staff token carries one role; a company's identity provider may give several, and a caller is
allowed a route when any of its roles is. Partners (marketplaces and web stores, warehouses'
systems) carry no token: they sign each request, and the signature gives them their partner role.
A token naming a partner role is refused.
"""

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # every route
    OPERATIONS = "operations"
    CUSTOMER_SERVICE = "customer_service"
    WAREHOUSE = "warehouse"
    PROCUREMENT = "procurement"
    FINANCE = "finance"
    LEADERSHIP = "leadership"  # reads everything, changes nothing
    SERVICE = "service"  # a Keel service calling another, as itself
    CHANNEL = "channel"  # a marketplace or web store, by its signature: its own orders only
    WAREHOUSE_SYSTEM = "warehouse_system"  # a warehouse's system, by its signature: its shipments


PARTNER_ROLES = (Role.CHANNEL, Role.WAREHOUSE_SYSTEM)
STAFF_ROLES = tuple(r for r in Role if r is not Role.SERVICE and r not in PARTNER_ROLES)
