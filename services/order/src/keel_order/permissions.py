"""Who may use each of the order service's routes (admin may use all; see keel_kit.access)."""

from keel_contracts.roles import Role
from keel_kit import replicas
from keel_kit.access import roles, table

# Staff who take orders by phone may place them for any channel.
ORDER_ENTRY = roles(Role.CUSTOMER_SERVICE, Role.OPERATIONS)
# A hold is resolved by its owning role or operations; the use case checks which hold it is.
HOLD_RESOLVERS = roles(Role.OPERATIONS, Role.CUSTOMER_SERVICE, Role.FINANCE)

PERMISSIONS = replicas.PERMISSIONS | table(
    [
        ("POST", "/v1/channels", roles()),
        ("GET", "/v1/channels", roles(Role.OPERATIONS, Role.CUSTOMER_SERVICE, read=True)),
        ("POST", "/v1/orders", ORDER_ENTRY),
        ("POST", "/v1/orders/batch", ORDER_ENTRY),
        (
            "GET",
            "/v1/orders/{order_id}",
            roles(Role.OPERATIONS, Role.CUSTOMER_SERVICE, Role.FINANCE, read=True),
        ),
        ("POST", "/v1/orders/{order_id}/cancel", ORDER_ENTRY),
        ("GET", "/v1/shipped-orders", roles(Role.OPERATIONS, Role.FINANCE, read=True)),
        ("GET", "/v1/exceptions", roles(*HOLD_RESOLVERS, read=True)),
        ("POST", "/v1/orders/{order_id}/holds/{hold_id}/resolve", HOLD_RESOLVERS),
    ]
)
