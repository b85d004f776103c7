"""Who may use each of the fulfillment service's routes (admin may use all; see
keel_kit.access)."""

from keel_contracts.roles import Role
from keel_fulfillment import partners
from keel_kit import replicas
from keel_kit.access import roles, table

PERMISSIONS = (
    replicas.PERMISSIONS
    | partners.PERMISSIONS
    | table(
        [
            # A signed warehouse system: its own location's shipments only (checked in the route).
            (
                "POST",
                "/v1/warehouses/{location_id}/events",
                roles(Role.WAREHOUSE, Role.WAREHOUSE_SYSTEM),
            ),
            (
                "POST",
                "/v1/warehouses/{location_id}/events/batch",
                roles(Role.WAREHOUSE, Role.WAREHOUSE_SYSTEM),
            ),
            (
                "GET",
                "/v1/warehouses/{location_id}/shipments",
                roles(Role.WAREHOUSE, Role.WAREHOUSE_SYSTEM, Role.OPERATIONS, read=True),
            ),
            (
                "GET",
                "/v1/shipments",
                roles(
                    Role.WAREHOUSE,
                    Role.WAREHOUSE_SYSTEM,
                    Role.OPERATIONS,
                    Role.CUSTOMER_SERVICE,
                    read=True,
                ),
            ),
        ]
    )
)
