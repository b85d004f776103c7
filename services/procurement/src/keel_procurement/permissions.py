"""Who may use each of the procurement service's routes (admin may use all; see
keel_kit.access). Buying is procurement's; receiving the goods is the warehouse's."""

from keel_contracts.roles import Role
from keel_kit import kpi_series, replicas
from keel_kit.access import roles, table

BUYERS = roles(Role.PROCUREMENT)
PURCHASE_READERS = roles(Role.PROCUREMENT, Role.WAREHOUSE, Role.OPERATIONS, Role.FINANCE, read=True)
PLANNING_READERS = roles(Role.PROCUREMENT, Role.OPERATIONS, read=True)

PERMISSIONS = (
    replicas.PERMISSIONS
    | kpi_series.PERMISSIONS
    | table(
        [
            ("POST", "/v1/suppliers", BUYERS),
            ("GET", "/v1/suppliers", PURCHASE_READERS),
            ("GET", "/v1/suppliers/{supplier_id}", PURCHASE_READERS),
            ("PUT", "/v1/policies/{sku}/{location_id}", BUYERS),
            ("GET", "/v1/policies/{sku}/{location_id}", PLANNING_READERS),
            ("POST", "/v1/purchase-orders", BUYERS),
            ("GET", "/v1/purchase-orders", PURCHASE_READERS),
            ("GET", "/v1/purchase-orders/{po_id}", PURCHASE_READERS),
            ("POST", "/v1/purchase-orders/{po_id}/approve", BUYERS),
            ("POST", "/v1/purchase-orders/{po_id}/send", BUYERS),
            ("POST", "/v1/purchase-orders/{po_id}/confirm", BUYERS),
            ("POST", "/v1/purchase-orders/{po_id}/receipts", roles(Role.WAREHOUSE)),
            ("POST", "/v1/purchase-orders/{po_id}/cancel", BUYERS),
            ("POST", "/v1/purchase-orders/{po_id}/close", BUYERS),
            ("GET", "/v1/demand/{sku}/{location_id}", PLANNING_READERS),
            ("POST", "/v1/demand-history", BUYERS),
            ("POST", "/v1/replenishment-runs", BUYERS),
            ("GET", "/v1/replenishment-runs", PLANNING_READERS),
            ("GET", "/v1/replenishment-runs/{run_id}", PLANNING_READERS),
            ("GET", "/v1/replenishment-runs/{run_id}/suggestions", PLANNING_READERS),
            ("GET", "/v1/suggestions", PLANNING_READERS),
        ]
    )
)
