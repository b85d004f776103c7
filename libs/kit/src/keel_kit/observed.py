"""Metric observations a unit of work makes, recorded only once its transaction commits.

A counter bumped inside a transaction that then rolls back (a batch redone message by message, a
retry after a conflict) would count what never happened. Work notes its observation here;
`Database.transaction` records what it noted after the commit and forgets it on a rollback, and
the consumer forgets an isolated message's notes when its savepoint is rolled back, as it forgets
its staged rows.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel.ext.asyncio.session import AsyncSession

_PENDING = "keel_kit.observed.pending"  # noted since the last savepoint was released
_KEPT = "keel_kit.observed.kept"  # noted inside savepoints that were released

Observation = Callable[[], None]


def after_commit(session: AsyncSession, observation: Observation) -> None:
    """Run `observation` (a metric update, nothing that can fail) once `session` commits."""
    session.info.setdefault(_PENDING, []).append(observation)


def keep(session: AsyncSession) -> None:
    """The savepoint around what was noted was released: it stands or falls with the whole."""
    pending = session.info.pop(_PENDING, [])
    session.info.setdefault(_KEPT, []).extend(pending)


def discard(session: AsyncSession) -> None:
    """Forget what was noted since the last savepoint: that work was rolled back."""
    session.info.pop(_PENDING, None)


def record(session: AsyncSession) -> None:
    """The transaction committed: make every observation it noted."""
    for observation in (*session.info.pop(_KEPT, ()), *session.info.pop(_PENDING, ())):
        observation()
