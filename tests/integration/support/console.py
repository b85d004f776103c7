"""The console in front of real services, and people added to it as an administrator would."""

from __future__ import annotations

from pathlib import Path

from keel_contracts.roles import Role
from tests.integration.support.cli import keel
from tests.integration.support.services import ServiceProcess, StartService
from tests.integration.support.stack import Stack

PASSWORD = "a long local password"


class ConsoleStack(Stack):
    """All six services, and the console in front of them."""

    def __init__(self, start_service: StartService) -> None:
        super().__init__(start_service, fulfillment=True, returns=True, procurement=True)
        self.console: ServiceProcess = start_service(
            "console",
            env={
                "KEEL_ORDER_URL": self.order.url,
                "KEEL_FULFILLMENT_URL": self.fulfillment.url,
                "KEEL_FINANCE_URL": self.finance.url,
                "KEEL_INVENTORY_URL": self.inventory.url,
                "KEEL_RETURNS_URL": self.returns.url,
                "KEEL_PROCUREMENT_URL": self.procurement.url,
                "KEEL_CONSOLE_REFRESH_SECONDS": "2",
            },
        )

    def add_user(self, name: str, role: Role) -> None:
        """`keel user add`, as an administrator runs it, on the console's own database."""
        state_dir = Path(self.console.env["KEEL_STATE_DIR"]).parent
        result = keel(
            state_dir,
            "user",
            "add",
            name,
            "--role",
            role.value,
            "--password-stdin",
            input_text=PASSWORD,
            env={"KEEL_CONSOLE_DATABASE_URL": self.console.env["KEEL_CONSOLE_DATABASE_URL"]},
        )
        assert result.returncode == 0, result.stdout + result.stderr

    def order_status(self, order_id: str) -> str:
        status: str = self.order.get(f"/v1/orders/{order_id}").json()["status"]
        return status
