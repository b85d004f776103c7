"""Who may use each of the inventory service's routes (admin may use all; see keel_kit.access)."""

from keel_contracts.roles import Role
from keel_kit import kpi_series
from keel_kit.access import roles, table

STOCK_READERS = roles(
    Role.OPERATIONS,
    Role.WAREHOUSE,
    Role.PROCUREMENT,
    Role.CUSTOMER_SERVICE,
    Role.FINANCE,
    read=True,
)

PERMISSIONS = kpi_series.PERMISSIONS | table(
    [
        ("POST", "/v1/items", roles(Role.OPERATIONS, Role.PROCUREMENT)),
        ("POST", "/v1/locations", roles(Role.OPERATIONS)),
        # A receipt creates stock: only the people who hold the goods post one.
        ("POST", "/v1/receipts", roles(Role.WAREHOUSE)),
        ("GET", "/v1/availability/{sku}", STOCK_READERS),
        ("GET", "/v1/availability/{sku}/promise", STOCK_READERS),
        # Operations decides what each channel may sell; the readers of stock may see it.
        ("PUT", "/v1/allocations/{channel_id}", roles(Role.OPERATIONS)),
        ("PUT", "/v1/allocations/{channel_id}/{sku}", roles(Role.OPERATIONS)),
        ("GET", "/v1/allocations/{channel_id}", STOCK_READERS),
        ("GET", "/v1/allocations/{channel_id}/{sku}", STOCK_READERS),
        # Finance's reconciliation reads the balances as itself.
        ("GET", "/v1/balances", STOCK_READERS | {Role.SERVICE}),
        ("GET", "/v1/balances/{sku}", STOCK_READERS),
        # Operations decides what moves between locations; the people at them move it.
        ("POST", "/v1/transfers", roles(Role.OPERATIONS)),
        ("POST", "/v1/transfers/{transfer_id}/approve", roles(Role.OPERATIONS)),
        ("POST", "/v1/transfers/{transfer_id}/ship", roles(Role.WAREHOUSE)),
        ("POST", "/v1/transfers/{transfer_id}/receive", roles(Role.WAREHOUSE)),
        # The warehouse counts (blind) and reports what it finds; operations approves what
        # goes beyond tolerance, and works the exceptions.
        ("POST", "/v1/counts", roles(Role.OPERATIONS, Role.WAREHOUSE)),
        ("POST", "/v1/counts/{count_id}/results", roles(Role.WAREHOUSE)),
        ("GET", "/v1/counts", STOCK_READERS),
        ("GET", "/v1/counts/{count_id}", STOCK_READERS),
        ("POST", "/v1/adjustments", roles(Role.OPERATIONS, Role.WAREHOUSE)),
        ("POST", "/v1/adjustments/{adjustment_id}/approve", roles(Role.OPERATIONS)),
        ("POST", "/v1/adjustments/{adjustment_id}/reject", roles(Role.OPERATIONS)),
        ("GET", "/v1/adjustments", STOCK_READERS),
        ("GET", "/v1/adjustments/{adjustment_id}", STOCK_READERS),
        ("GET", "/v1/exceptions", STOCK_READERS),
        ("POST", "/v1/exceptions/{exception_id}/claim", roles(Role.OPERATIONS)),
        ("POST", "/v1/exceptions/{exception_id}/unclaim", roles(Role.OPERATIONS)),
        ("POST", "/v1/exceptions/{exception_id}/resolve", roles(Role.OPERATIONS)),
        ("GET", "/v1/lots", STOCK_READERS),
        ("GET", "/v1/lots/{lot}", STOCK_READERS),
        ("GET", "/v1/transfers", STOCK_READERS),
        ("GET", "/v1/transfers/{transfer_id}", STOCK_READERS),
        (
            "GET",
            "/v1/reservations/{order_id}",
            roles(Role.OPERATIONS, Role.CUSTOMER_SERVICE, read=True),
        ),
        ("GET", "/v1/invariants", roles(Role.OPERATIONS, Role.FINANCE, read=True)),
        ("GET", "/v1/invariants/mismatches", roles(Role.OPERATIONS, Role.FINANCE, read=True)),
        ("GET", "/v1/invariants/oversold", roles(Role.OPERATIONS, Role.FINANCE, read=True)),
        ("GET", "/v1/ledger", roles(Role.OPERATIONS, Role.WAREHOUSE, Role.FINANCE, read=True)),
    ]
)
