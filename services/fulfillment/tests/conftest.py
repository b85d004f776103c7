"""The fulfillment service under test (real SQLite database, FastStream's in-memory broker)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from fastapi import FastAPI
from test_fulfillment import Stack

from keel_fulfillment.main import create_app
from keel_fulfillment.settings import Settings
from keel_kit.testing import running


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    """The service on its own SQLite file, not yet migrated or running."""
    return create_app(
        Settings(state_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'f.db'}")
    )


@pytest_asyncio.fixture
async def stack(app: FastAPI) -> AsyncIterator[Stack]:
    async with running(app, Stack) as stack:
        yield stack
