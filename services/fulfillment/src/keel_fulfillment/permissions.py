"""Who may use each of the fulfillment service's routes (admin may use all; see
keel_kit.access)."""

from keel_contracts.roles import Role
from keel_kit import replicas
from keel_kit.access import roles, table

PERMISSIONS = replicas.PERMISSIONS | table(
    [
        ("POST", "/v1/warehouses/{location_id}/events", roles(Role.WAREHOUSE)),
        (
            "GET",
            "/v1/shipments",
            roles(Role.WAREHOUSE, Role.OPERATIONS, Role.CUSTOMER_SERVICE, read=True),
        ),
    ]
)
