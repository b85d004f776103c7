"""Every service's audit routes: `GET /v1/audit` to search its trail, `GET /v1/audit/chain` to
read the whole chain for `keel audit verify`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from keel_contracts.roles import Role
from keel_kit import audit
from keel_kit.access import PrincipalDep, roles, table
from keel_kit.cursors import cursor_int
from keel_kit.query import CursorQuery, SinceQuery
from keel_kit.runtime import RuntimeDep
from keel_kit.tables import AuditEntry

MAX_SEQ = 2**62
# Admin and leadership see every entry; each other role sees the entries of objects it owns.
SEES_EVERYTHING = frozenset({Role.ADMIN, Role.LEADERSHIP})
STAFF = roles(
    Role.OPERATIONS,
    Role.CUSTOMER_SERVICE,
    Role.WAREHOUSE,
    Role.PROCUREMENT,
    Role.FINANCE,
    read=True,
)
PERMISSIONS = table(
    [
        ("GET", "/v1/audit", STAFF),
        ("GET", "/v1/audit/chain", roles()),  # the whole chain, hashes and all: admin's
    ]
)


class _Entry(BaseModel):
    """What every view of an entry shows."""

    seq: int
    at: str
    actor: str
    role: str
    action: str
    object_type: str
    object_id: str
    owner_role: str
    reason: str | None
    request_id: str | None
    trace_id: str | None


class AuditEntryPublic(_Entry):
    before: Any  # the object's states, as JSON
    after: Any

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryPublic:
        fields = audit.fields_of(entry)
        for state in ("before", "after"):
            fields[state] = None if fields[state] is None else audit.parsed(fields[state])
        return cls.model_validate(fields)


class AuditPage(BaseModel):
    items: list[AuditEntryPublic]
    next_cursor: str | None


class ChainEntry(_Entry):
    """An entry exactly as stored and hashed."""

    before: str | None
    after: str | None
    prev_hash: str
    hash: str


class ChainHead(BaseModel):
    seq: int
    hash: str


class ChainPage(BaseModel):
    head: ChainHead
    entries: list[ChainEntry]
    next_cursor: str | None


router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get("")
async def search_audit(
    runtime: RuntimeDep,
    principal: PrincipalDep,
    object_id: Annotated[str | None, Query(max_length=255)] = None,
    actor: Annotated[str | None, Query(max_length=255)] = None,
    since: SinceQuery = None,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditPage:
    """The service's governed actions, newest first: by object, by actor, since a moment."""
    owned = None if principal.roles & SEES_EVERYTHING else frozenset(map(str, principal.roles))
    before_seq = cursor_int(cursor, maximum=MAX_SEQ) if cursor is not None else None
    async with runtime.db.transaction() as session:
        entries = await audit.search(
            session,
            object_id=object_id,
            actor=actor,
            since=since,
            owner_roles=owned,
            before_seq=before_seq,
            limit=limit,
        )
    return AuditPage(
        items=[AuditEntryPublic.of(e) for e in entries],
        next_cursor=str(entries[-1].seq) if len(entries) == limit else None,
    )


@router.get("/chain")
async def read_chain(
    runtime: RuntimeDep,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
) -> ChainPage:
    """The chain in stored order, a page at a time, with its head: what `keel audit verify`
    recomputes."""
    after = cursor_int(cursor, maximum=MAX_SEQ) if cursor is not None else 0
    async with runtime.db.transaction() as session:
        entries, head = await audit.chain_page(session, after=after, limit=limit)
    return ChainPage(
        head=ChainHead(seq=head.seq, hash=head.hash),
        entries=[ChainEntry.model_validate(audit.fields_of(e)) for e in entries],
        next_cursor=str(entries[-1].seq) if len(entries) == limit else None,
    )
