"""Rows staged in a unit of work and written together, in one bulk INSERT per table, at its end.

The hottest writes (outbox rows, history rows) are append-only and nothing reads them back in
the transaction that writes them. As ORM objects each would cost an object, identity-map
bookkeeping and, on SQLite, a statement of its own; staged, a batch of a thousand is one
statement. `Database.transaction` writes them before it commits, the consumer before it releases
each isolated message's savepoint (and forgets them if the message fails).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from sqlalchemy import Table, insert
from sqlmodel.ext.asyncio.session import AsyncSession

_KEY = "keel_kit.staged"
_PENDING = "keel_kit.staged.pending"  # what the rows staged and not yet written are of


def stage(
    session: AsyncSession, table: Table, row: dict[str, Any], *, of: Hashable | None = None
) -> None:
    """Insert `row` into `table` when the unit of work ends, in the order staged. The dict is
    kept, not copied: what the unit of work sets in it until then goes in with it. `of` names
    what the row is of (an order's payment, say), for `pending` to tell a later reader."""
    staged: dict[Table, list[dict[str, Any]]] = session.info.setdefault(_KEY, {})
    staged.setdefault(table, []).append(row)
    if of is not None:
        session.info.setdefault(_PENDING, set()).add(of)


def pending(session: AsyncSession, of: Hashable) -> bool:
    """Whether rows staged `of` this are not written yet: read it from the database only after
    `write`, which writes them (the rare case of a unit of work reading back what it added)."""
    return of in session.info.get(_PENDING, ())


async def write(session: AsyncSession) -> None:
    """Insert everything staged so far, after flushing the ORM's changes (rows staged may refer
    to objects it has yet to insert)."""
    staged: dict[Table, list[dict[str, Any]]] | None = session.info.pop(_KEY, None)
    session.info.pop(_PENDING, None)
    if not staged:
        return
    await session.flush()
    for table, rows in staged.items():
        await session.exec(insert(table), params=rows)


def discard(session: AsyncSession) -> None:
    """Forget what was staged: the work that staged it was rolled back."""
    session.info.pop(_KEY, None)
    session.info.pop(_PENDING, None)
