"""Alembic migrations, run by each service at start-up against its own database.

Each service keeps its revisions in `<package>/migrations/`; its env.py is one call to
`run_env`, so the async plumbing lives here once.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

MIGRATION_LOCK_ID = 0x6B65656D  # "keem"


def alembic_config(script_location: Path, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes["database_url"] = database_url
    return config


async def upgrade(script_location: Path, database_url: str) -> None:
    """Bring the database to the newest revision (in a thread: Alembic is synchronous)."""
    config = alembic_config(script_location, database_url)
    await asyncio.to_thread(command.upgrade, config, "head")


def run_env(metadata: MetaData) -> None:
    """Body of every service's migrations/env.py (online mode only)."""
    url = context.config.attributes["database_url"]

    def migrate(connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            # Replicas starting together must not run the same migration twice: the first holds
            # this lock (until its transaction ends), the others wait and then find nothing to do.
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=url.startswith("sqlite"),  # SQLite alters tables by copying them
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(url)
        async with engine.connect() as connection:
            await connection.run_sync(migrate)
            await connection.commit()
        await engine.dispose()

    asyncio.run(run())


def new_revision(script_location: Path, message: str) -> None:
    """Autogenerate a revision from the models (used by `keel migrations-new`)."""
    with _migrated_scratch_database(script_location) as config:
        command.revision(config, message=message, autogenerate=True)


def check_models_match(script_location: Path) -> None:
    """Raise if the models have changes no revision covers (a forgotten migration)."""
    with _migrated_scratch_database(script_location) as config:
        command.check(config)


@contextmanager
def _migrated_scratch_database(script_location: Path) -> Iterator[Config]:
    """A throwaway SQLite database with every existing revision applied, to diff models against."""
    with tempfile.TemporaryDirectory() as scratch:
        config = alembic_config(script_location, f"sqlite+aiosqlite:///{scratch}/scratch.db")
        command.upgrade(config, "head")
        yield config
