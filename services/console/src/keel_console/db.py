"""The console's database: its two tables, migrated at start-up (SQLite locally, PostgreSQL when
`KEEL_CONSOLE_DATABASE_URL` names one, so replicas share sessions)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command

from keel_kit.db import Database
from keel_kit.migrations import alembic_config

MIGRATIONS = Path(__file__).parent / "migrations"


async def open_database(url: str) -> Database:
    """The database at `url`, its tables brought to their newest revision first."""
    await asyncio.to_thread(command.upgrade, alembic_config(MIGRATIONS, url), "head")
    return Database(url)
