from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from keel_kit.db import Database
from kit_fixtures import database


@pytest_asyncio.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh SQLite database with the kit's tables, disposed after the test."""
    db = await database(tmp_path)
    yield db
    await db.dispose()
