"""A service started while its database is away waits for it instead of exiting."""

from __future__ import annotations

from pathlib import Path

import pytest

from keel_kit import runtime
from keel_kit.context import ServiceContext
from keel_kit.handlers import Handlers
from keel_kit.runtime import ServiceRuntime
from keel_kit.settings import ServiceSettings

pytestmark = [pytest.mark.unit, pytest.mark.asyncio]


class Settings(ServiceSettings):
    service = "order"


def service(tmp_path: Path) -> ServiceRuntime:
    settings = Settings(
        state_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'order.db'}"
    )
    return ServiceRuntime(ServiceContext.create(settings), Handlers(), tmp_path / "migrations")


async def test_migrations_wait_for_a_database_that_is_away(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers: list[Exception | None] = [ConnectionRefusedError(), ConnectionRefusedError(), None]

    async def upgrade(_migrations: Path, _url: str) -> None:
        answer = answers.pop(0)
        if answer is not None:
            raise answer

    monkeypatch.setattr(runtime, "upgrade", upgrade)
    monkeypatch.setattr(runtime, "MIGRATION_RETRY_FIRST_SECONDS", 0.01)

    await service(tmp_path).migrate()

    assert answers == []  # refused twice, migrated on the third try


async def test_a_migration_that_fails_for_good_stops_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def upgrade(_migrations: Path, _url: str) -> None:
        raise RuntimeError("revision abc not found")

    monkeypatch.setattr(runtime, "upgrade", upgrade)

    with pytest.raises(RuntimeError, match="revision abc"):
        await service(tmp_path).migrate()
