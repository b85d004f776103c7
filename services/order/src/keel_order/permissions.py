"""Who may use each of the order service's routes (admin may use all; see keel_kit.access)."""

from keel_contracts.roles import Role
from keel_kit import kpi_series, replicas
from keel_kit.access import roles, table
from keel_order import partners

# Staff who take orders by phone may place them for any channel; a signed channel places, reads
# and cancels its own orders only (the use cases check which).
ORDER_ENTRY = roles(Role.CUSTOMER_SERVICE, Role.OPERATIONS)
CHANNEL_ORDERS = roles(*ORDER_ENTRY, Role.CHANNEL)
# A hold is resolved by its owning role or operations; the use case checks which hold it is.
HOLD_RESOLVERS = roles(Role.OPERATIONS, Role.CUSTOMER_SERVICE, Role.FINANCE)

PERMISSIONS = (
    replicas.PERMISSIONS
    | kpi_series.PERMISSIONS
    | partners.PERMISSIONS
    | table(
        [
            ("POST", "/v1/channels", roles()),
            ("PATCH", "/v1/channels/{channel_id}", roles()),
            ("GET", "/v1/channels", roles(Role.OPERATIONS, Role.CUSTOMER_SERVICE, read=True)),
            ("POST", "/v1/orders", CHANNEL_ORDERS),
            ("POST", "/v1/orders/batch", CHANNEL_ORDERS),
            (
                "GET",
                "/v1/orders",
                roles(
                    Role.OPERATIONS, Role.CUSTOMER_SERVICE, Role.FINANCE, Role.CHANNEL, read=True
                ),
            ),
            (
                "GET",
                "/v1/orders/{order_id}/notifications",
                roles(Role.CUSTOMER_SERVICE, Role.OPERATIONS, read=True),
            ),
            (
                "GET",
                "/v1/orders/{order_id}",
                roles(
                    Role.OPERATIONS, Role.CUSTOMER_SERVICE, Role.FINANCE, Role.CHANNEL, read=True
                ),
            ),
            ("POST", "/v1/orders/{order_id}/cancel", CHANNEL_ORDERS),
            ("GET", "/v1/shipped-orders", roles(Role.OPERATIONS, Role.FINANCE, read=True)),
            ("GET", "/v1/exceptions", roles(*HOLD_RESOLVERS, read=True)),
            ("POST", "/v1/orders/{order_id}/holds/{hold_id}/resolve", HOLD_RESOLVERS),
            ("POST", "/v1/exceptions/{exception_id}/claim", HOLD_RESOLVERS),
            ("POST", "/v1/exceptions/{exception_id}/unclaim", HOLD_RESOLVERS),
            ("POST", "/v1/exceptions/{exception_id}/resolve", HOLD_RESOLVERS),
        ]
    )
)
