"""Who may use each of the finance service's routes (admin may use all; see keel_kit.access).
Finance's data is for finance and leadership."""

from keel_contracts.roles import Role
from keel_kit import kpi_series, replicas
from keel_kit.access import roles, table

FINANCE_READERS = roles(Role.FINANCE, read=True)

PERMISSIONS = (
    replicas.PERMISSIONS
    | kpi_series.PERMISSIONS
    | table(
        ("GET", path, FINANCE_READERS)
        for path in (
            "/v1/trial-balance",
            "/v1/margins",
            "/v1/journal",
            "/v1/payments/{order_id}",
            "/v1/valuation",
            "/v1/valuation/{sku}",
            "/v1/sales",
            "/v1/reconciliation/inventory",
        )
    )
)
