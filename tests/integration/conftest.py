from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from keel_kit.signing import StackKeys
from tests.conftest import Infra
from tests.integration.support import ServiceProcess, StartService


@pytest.fixture
def start_service(infra: Infra, tmp_path: Path) -> Iterator[StartService]:
    """Start real service processes on fresh PostgreSQL databases; all stopped after the test.

    `start_service("finance")` gets its own database; pass `database_url=` to make a second
    replica share it, `bootstrap=` to use another broker, `env=` for extra settings.

    The test's services share one state folder, so one set of signing keys, made here in its
    `auth/`: every service checks tokens against them, finance signs its calls to inventory with
    its own key from there, and each process's `keys` sign the test's requests. It is laid out as
    `keel up` lays out a stack's (`<stack>/data`), so the CLI run with `KEEL_STATE_DIR=<stack>`
    signs with the same keys.
    """
    state_dir = tmp_path / "stack" / "data"
    keys = StackKeys.ensure(state_dir / "auth")
    started: list[ServiceProcess] = []

    def start(
        service: str,
        *,
        database_url: str | None = None,
        bootstrap: str | None = None,
        env: dict[str, str] | None = None,
        wait_ready: bool = True,
    ) -> ServiceProcess:
        prefix = f"KEEL_{service.upper()}_"
        process = ServiceProcess(
            service=service,
            env={
                "KEEL_KAFKA_BOOTSTRAP_SERVERS": bootstrap or infra.bootstrap,
                f"{prefix}DATABASE_URL": database_url or infra.new_database(service),
                "KEEL_STATE_DIR": str(state_dir),
                **(env or {}),
            },
            log_dir=tmp_path / "logs",
            keys=keys,
        )
        started.append(process)
        process.start(wait_ready=wait_ready)
        return process

    yield start
    for process in started:
        process.stop()
