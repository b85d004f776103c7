from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Infra
from tests.integration.support import ServiceProcess, StartService


@pytest.fixture
def start_service(infra: Infra, tmp_path: Path) -> Iterator[StartService]:
    """Start real service processes on fresh PostgreSQL databases; all stopped after the test.

    `start_service("finance")` gets its own database; pass `database_url=` to make a second
    replica share it, `bootstrap=` to use another broker, `env=` for extra settings.
    """
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
                "KEEL_STATE_DIR": str(tmp_path / "state"),
                **(env or {}),
            },
            log_dir=tmp_path / "logs",
        )
        started.append(process)
        process.start(wait_ready=wait_ready)
        return process

    yield start
    for process in started:
        process.stop()
