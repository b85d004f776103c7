from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from keel_kit.signing import StackKeys
from tests.conftest import Infra
from tests.integration.support import ServiceProcess, StartService


class Starter:
    """Starts real service processes for one test (or one module) in one folder, and stops
    them all at its end."""

    def __init__(self, infra: Infra, folder: Path) -> None:
        self._infra = infra
        self._folder = folder
        self._state_dir = folder / "stack" / "data"
        self._keys = StackKeys.ensure(self._state_dir / "auth")
        self._started: list[ServiceProcess] = []

    def start(
        self,
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
                "KEEL_KAFKA_BOOTSTRAP_SERVERS": bootstrap or self._infra.bootstrap,
                f"{prefix}DATABASE_URL": database_url or self._infra.new_database(service),
                "KEEL_STATE_DIR": str(self._state_dir),
                **(env or {}),
            },
            log_dir=self._folder / "logs",
            keys=self._keys,
        )
        self._started.append(process)
        process.start(wait_ready=wait_ready)
        return process

    def stop_all(self) -> None:
        for process in self._started:
            process.stop()


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
    starter = Starter(infra, tmp_path)
    yield starter.start
    starter.stop_all()


@pytest.fixture(scope="module")
def start_module_service(
    infra: Infra, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StartService]:
    """`start_service` for a whole module's tests: for stacks whose tests each make their own
    SKUs, orders and people, so sharing one saves starting it again for each."""
    starter = Starter(infra, tmp_path_factory.mktemp("module-stack"))
    yield starter.start
    starter.stop_all()
