"""Database engine and transactions: SQLite by default, PostgreSQL in production.

SQLite is made to behave like a server database where it matters to us: writes take the lock at
BEGIN (no deadlock on upgrade), savepoints work, and WAL lets readers run beside the writer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam, event, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_kit import observed, staged


class Database:
    """One service's database: an async engine and the transactions use cases run in."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.engine: AsyncEngine = _create_engine(url)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on normal exit, rolled back on error.

        Request and message boundaries open it; use cases only add to it, never commit.
        """
        async with self._sessions() as session:
            async with session.begin():
                yield session
                await staged.write(session)
            observed.record(session)

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[AsyncSession]:
        """A session whose every statement commits on its own, for a read or a single statement
        that needs no transaction around it: on PostgreSQL one round trip each instead of three
        (BEGIN, the statement, COMMIT). On SQLite, which takes its write lock at BEGIN, a
        transaction as usual."""
        async with self.engine.connect() as connection:
            if not self.is_sqlite:
                await connection.execution_options(isolation_level="AUTOCOMMIT")
            async with AsyncSession(bind=connection, expire_on_commit=False) as session:
                yield session
                await session.commit()  # flushes what was added; on PostgreSQL, nothing more

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def _create_engine(url: str) -> AsyncEngine:
    if not url.startswith("sqlite"):
        # No pre-ping: it costs a round trip per transaction; a dead connection fails the
        # transaction instead, which the consumer retries and an HTTP client may repeat.
        # Kept connections cover a busy process (requests in flight, the consumer, the relay
        # and its lock, jobs): one opened beyond them is closed again on return, and opening
        # costs a PostgreSQL backend and the driver's setup, so a pool too small churns.
        # Each batch size renders its own SQL (`IN` lists, multi-row inserts), and a statement
        # not in a connection's cache is prepared again, a round trip and a plan: the driver's
        # 100 were far too few (`keel bench`: a third more CPU per order; bench/README.md).
        return create_async_engine(
            url,
            pool_size=20,
            max_overflow=10,
            pool_recycle=1800,
            connect_args={"prepared_statement_cache_size": 1000},
        )
    engine = create_async_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def upsert_insert(session: AsyncSession, table: Any) -> Any:
    """An INSERT supporting ON CONFLICT for the session's dialect (PostgreSQL or SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def one_of(session: AsyncSession, column: Any, values: Collection[Any]) -> ColumnElement[bool]:
    """`column IN (values)`, written `column = ANY(array)` on PostgreSQL: one parameter, so the
    statement's text is the same whatever the number of values (prepared once, not once per
    length) and the client does not expand a parameter per value."""
    if session.get_bind().dialect.name != "postgresql":
        return column.in_(values)  # type: ignore[no-any-return]
    return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))  # type: ignore[no-any-return]
