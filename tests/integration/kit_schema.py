"""The kit's own tables in a fresh test database, for tests that drive kit parts directly."""

from __future__ import annotations

import asyncio

from alembic import command

from keel_kit.migrations import KIT_MIGRATIONS, alembic_config


async def create_kit_tables(database_url: str) -> None:
    """Bring the database to the kit's newest revision (its tables only, no service's)."""
    config = alembic_config(KIT_MIGRATIONS, database_url)
    await asyncio.to_thread(command.upgrade, config, "head")
