"""Every service's door to its parked outbox rows (see `keel_kit.parked`): list them with their
reason, and replay one into the outbox once its cause is fixed. `keel dlq list` and
`keel dlq replay-parked` speak to it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from keel_contracts.roles import Role
from keel_kit import audit, parked
from keel_kit.access import PrincipalDep, roles, table
from keel_kit.cursors import cursor_int
from keel_kit.problems import NotFound
from keel_kit.query import CursorQuery
from keel_kit.runtime import RuntimeDep
from keel_kit.tables import OutboxParked

MAX_ID = 2**63 - 1  # the id column is a PostgreSQL bigint: a larger number names no row


class ParkedRowPublic(BaseModel):
    id: int
    topic: str
    key: str
    event_id: str
    type: str
    reason: str
    size: int  # bytes of the body, which stays out of the list (it may be megabytes)
    headers: dict[str, str]
    created_at: datetime
    parked_at: datetime

    @classmethod
    def of(cls, row: OutboxParked) -> ParkedRowPublic:
        return cls(
            id=row.id,
            topic=row.topic,
            key=row.key,
            event_id=row.event_id,
            type=row.type,
            reason=row.reason,
            size=len(row.body),
            headers={name: str(value) for name, value in row.headers.items()},
            created_at=row.created_at,
            parked_at=row.parked_at,
        )


class ParkedRowsPage(BaseModel):
    items: list[ParkedRowPublic]
    next_cursor: str | None


class ParkedRowReplayed(BaseModel):
    parked_id: int
    outbox_id: int  # where it now waits: at the end of the outbox


router = APIRouter(prefix="/v1/outbox/parked", tags=["outbox"])
PERMISSIONS = table(
    [
        ("GET", "/v1/outbox/parked", roles(Role.OPERATIONS, read=True)),
        ("POST", "/v1/outbox/parked/{parked_id}/replay", roles()),  # admin's
    ]
)


@router.get("")
async def list_parked_rows(
    runtime: RuntimeDep,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ParkedRowsPage:
    """Outbox rows the broker refused for good, oldest first, each with its reason."""
    after = cursor_int(cursor, maximum=MAX_ID) if cursor is not None else None
    async with runtime.db.transaction() as session:
        rows = await parked.page(session, after=after, limit=limit)
        runtime.metrics.outbox_parked.set(await parked.count(session))
    return ParkedRowsPage(
        items=[ParkedRowPublic.of(row) for row in rows],
        next_cursor=str(rows[-1].id) if len(rows) == limit else None,
    )


@router.post("/{parked_id}/replay")
async def replay_parked_row(
    parked_id: Annotated[int, Path(ge=1, le=MAX_ID)], runtime: RuntimeDep, principal: PrincipalDep
) -> ParkedRowReplayed:
    """Move a parked row back to the end of the outbox, as it is, for the relay to publish."""
    async with runtime.context.unit_of_work() as uow:
        outbox_id = await parked.replay(uow.session, parked_id)
        if outbox_id is None:
            raise NotFound(f"no parked outbox row {parked_id}")
        await audit.record(
            uow,
            actor=principal,
            action="outbox.parked_row_replayed",
            object_type="outbox_parked",
            object_id=str(parked_id),
            owner_role=Role.ADMIN,
            before={"parked_id": parked_id},
            after={"outbox_id": outbox_id},
        )
        runtime.metrics.outbox_parked.set(await parked.count(uow.session))
    runtime.outbox.pending.set()  # committed: wake the relay
    return ParkedRowReplayed(parked_id=parked_id, outbox_id=outbox_id)
