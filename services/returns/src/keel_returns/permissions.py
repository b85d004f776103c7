"""Who may use each of the returns service's routes (admin may use all; see keel_kit.access)."""

from keel_contracts.roles import Role
from keel_kit import kpi_series, replicas
from keel_kit.access import roles, table

RETURN_READERS = roles(
    Role.CUSTOMER_SERVICE, Role.OPERATIONS, Role.WAREHOUSE, Role.FINANCE, read=True
)
POLICY_READERS = roles(Role.OPERATIONS, Role.CUSTOMER_SERVICE, read=True)

PERMISSIONS = (
    replicas.PERMISSIONS
    | kpi_series.PERMISSIONS
    | table(
        [
            ("POST", "/v1/returns", roles(Role.CUSTOMER_SERVICE, Role.OPERATIONS)),
            # The warehouse's queues: returns to receive, and received ones to inspect.
            ("GET", "/v1/returns", RETURN_READERS),
            ("GET", "/v1/returns/summary", RETURN_READERS),
            ("GET", "/v1/returns/{return_id}", RETURN_READERS),
            # The goods come back to, and are graded by, the warehouse.
            ("POST", "/v1/returns/{return_id}/receipt", roles(Role.WAREHOUSE)),
            ("POST", "/v1/returns/{return_id}/inspection", roles(Role.WAREHOUSE)),
            # Approving refunds is finance's.
            (
                "GET",
                "/v1/refunds",
                roles(Role.FINANCE, Role.CUSTOMER_SERVICE, Role.OPERATIONS, read=True),
            ),
            ("POST", "/v1/refunds/{refund_id}/approve", roles(Role.FINANCE)),
            ("PUT", "/v1/return-policies/skus/{sku}", roles(Role.OPERATIONS)),
            ("GET", "/v1/return-policies/skus/{sku}", POLICY_READERS),
            ("PUT", "/v1/return-policies/channels/{channel}", roles(Role.OPERATIONS)),
            ("GET", "/v1/return-policies/channels/{channel}", POLICY_READERS),
        ]
    )
)
