"""Who may act in Keel: the roles a principal's token carries (DESIGN §5).

A staff token carries one role; a company's identity provider may give several, and a caller is
allowed a route when any of its roles is. Partners (channels, warehouses) sign their requests
instead and are not roles.
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


STAFF_ROLES = tuple(r for r in Role if r is not Role.SERVICE)
