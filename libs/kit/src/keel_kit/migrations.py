"""Alembic migrations, run by each service at start-up against its own database.

Two histories share each database: the kit's own tables (outbox, inbox, idempotency keys,
replicas, job schedule, ...) are migrated once, here in `keel_kit/kit_migrations/`, with their
own version table; each service keeps only its tables' revisions in `<package>/migrations/`,
whose env.py is one call to `run_env`. The kit's history runs first, so a service's revisions
may rely on the kit's tables but never create or alter them.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

MIGRATION_LOCK_ID = 0x6B65656D  # "keem"
KIT_MIGRATIONS = Path(__file__).parent / "kit_migrations"
KIT_VERSION_TABLE = "keel_kit_version"


def alembic_config(script_location: Path, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes["database_url"] = database_url
    return config


async def upgrade(script_location: Path, database_url: str) -> None:
    """Bring the kit's tables, then the service's, to their newest revisions (in a thread:
    Alembic is synchronous)."""
    await asyncio.to_thread(_upgrade_both, script_location, database_url)


def _upgrade_both(script_location: Path, database_url: str) -> None:
    command.upgrade(alembic_config(KIT_MIGRATIONS, database_url), "head")
    command.upgrade(alembic_config(script_location, database_url), "head")


def kit_table_names() -> frozenset[str]:
    """The tables the kit owns in every service's database."""
    # Imported here: the replica modules import the app, which imports this module.
    from keel_kit import location_replicas, replicas, tables

    declared = {
        mapper.persist_selectable.description for mapper in tables.KitTable.registry.mappers
    }
    return frozenset(
        {
            *declared,
            replicas.ItemReplica.__tablename__,
            location_replicas.LocationReplica.__tablename__,
        }
    )


def run_env(metadata: MetaData) -> None:
    """Body of every service's migrations/env.py: the service's own tables only."""
    others = kit_table_names() | {KIT_VERSION_TABLE}
    _run(metadata, include=lambda table: table not in others, version_table="alembic_version")


def run_kit_env() -> None:
    """Body of the kit's migrations/env.py: the kit's tables only, with their own version table."""
    from sqlmodel import SQLModel

    kit_tables = kit_table_names()
    _run(
        SQLModel.metadata,
        include=lambda table: table in kit_tables,
        version_table=KIT_VERSION_TABLE,
    )


def _run(metadata: MetaData, *, include: Callable[[str], bool], version_table: str) -> None:
    url = context.config.attributes["database_url"]

    def include_object(obj: Any, name: str | None, type_: str, *_: Any) -> bool:
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
        return table is None or include(table)

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
            include_object=include_object,
            version_table=version_table,
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
    """Raise if the models have changes no revision covers (a forgotten migration); pass the
    kit's folder (`KIT_MIGRATIONS`) to check the kit's tables."""
    with _migrated_scratch_database(script_location) as config:
        command.check(config)


@contextmanager
def _migrated_scratch_database(script_location: Path) -> Iterator[Config]:
    """A throwaway SQLite database with every existing revision applied, to diff models against."""
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite+aiosqlite:///{scratch}/scratch.db"
        _upgrade_both(script_location, url)
        yield alembic_config(script_location, url)
