"""The relay lock: which replica's outbox relay may publish (see `keel_kit.relay` on fencing).

A PostgreSQL session advisory lock, held on a connection of its own and asked about on that
same connection before every batch, so that a connection the database has dropped (a restart)
can never pass for the holder.
"""

from __future__ import annotations

import contextlib
import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from keel_kit.db import Database

log = logging.getLogger(__name__)

RELAY_LOCK_ID = 0x6B65656C  # "keel": one relay per service database publishes at a time


class RelayLock:
    """The relay lock of one PostgreSQL database: a session advisory lock on a dedicated
    connection. With SQLite (a single writer) it is always held."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._connection: AsyncConnection | None = None

    async def try_acquire(self) -> bool:
        """Take the lock if no other relay of this database holds it."""
        if self._db.is_sqlite:
            return True
        connection: AsyncConnection | None = None
        try:
            connection = await self._db.engine.connect()
            # Autocommit: each question is one round trip, with no BEGIN and COMMIT around it.
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            got = await connection.scalar(
                text("SELECT pg_try_advisory_lock(:id)"), {"id": RELAY_LOCK_ID}
            )
        except Exception as error:
            log.warning("relay could not ask for its lock (%s); retrying", error)
            got = False
        if got:
            self._connection = connection
        elif connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()
        return bool(got)

    async def held(self) -> bool:
        """Whether this relay still holds the lock, asked on the lock's own connection: after a
        database restart that connection is dead and the answer is no."""
        if self._db.is_sqlite:
            return True
        if self._connection is None:
            return False
        try:
            # An advisory lock on one bigint shows in pg_locks as classid (high 32 bits),
            # objid (low 32 bits) and objsubid 1.
            held = await self._connection.scalar(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                    " AND pid = pg_backend_pid() AND granted"
                    " AND classid = :high AND objid = :low AND objsubid = 1"
                ),
                {"high": RELAY_LOCK_ID >> 32, "low": RELAY_LOCK_ID & 0xFFFFFFFF},
            )
        except Exception as error:
            log.warning("relay lock connection failed (%s)", error)
            return False
        return bool(held)

    async def release(self) -> None:
        """Give the lock up (a dead connection has lost it already) and close its connection.

        Unlocked explicitly: closing returns the connection to the pool, where a session lock
        would live on.
        """
        connection, self._connection = self._connection, None
        if connection is None:
            return
        with contextlib.suppress(Exception):
            await connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": RELAY_LOCK_ID})
        with contextlib.suppress(Exception):
            await connection.close()
