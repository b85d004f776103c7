"""The audit trail: every governed action a service takes, appended to a hash chain.

Each entry records who acted (actor and role, from the principal), what they did to which
object, the object before and after, why, when, and the request and trace it came in. Each
carries the hash of the entry before it, and its own hash covers all of that, so editing,
deleting or reordering entries breaks the chain where it happened; the head row (the last seq
and hash) shows entries cut from the end. `keel audit verify` reads every service's chain and
recomputes it with `broken_link`.

Appending locks the head row for the rest of the transaction, so entries are chained one at a
time and an entry commits with the action it records, or neither does. What this cannot show is a
whole chain rewritten by someone holding the database: anchoring the head elsewhere (a signed
copy, a write-once store) is the remedy, not done here.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_contracts.roles import Role
from keel_kit.context import UnitOfWork
from keel_kit.identity import Principal
from keel_kit.tables import AuditEntry, AuditHead

GENESIS = "0" * 64
HEAD_ID = 1
# Set per request by the access guard (the caller's X-Request-Id, or a new one).
current_request_id: ContextVar[str | None] = ContextVar("keel_request_id", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def stamp(moment: datetime) -> str:
    """A moment as the chain keeps it: UTC, microseconds always, so text order is time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _canonical(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def parsed(canonical: str) -> Any:
    return json.loads(canonical)


def entry_hash(fields: dict[str, Any]) -> str:
    """The hash of an entry's fields, its `prev_hash` and `seq` included, its `hash` not."""
    content = {k: v for k, v in fields.items() if k != "hash"}
    return hashlib.sha256(_canonical(content).encode()).hexdigest()  # type: ignore[union-attr]


HASHED = (
    "seq",
    "at",
    "actor",
    "role",
    "action",
    "object_type",
    "object_id",
    "owner_role",
    "before",
    "after",
    "reason",
    "request_id",
    "trace_id",
    "prev_hash",
)


def fields_of(entry: AuditEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in (*HASHED, "hash")}


async def record(
    uow: UnitOfWork[Any],
    *,
    actor: Principal,
    action: str,
    object_type: str,
    object_id: str,
    owner_role: Role,
    before: Any = None,
    after: Any = None,
    reason: str | None = None,
) -> AuditEntry:
    """Append one governed action to the service's chain, in the action's own transaction.
    `before` and `after` are the object's states as JSON-able values (None: it did not exist,
    or is gone)."""
    session = uow.session
    locked = select(AuditHead).where(AuditHead.id == HEAD_ID).with_for_update()
    head = (await session.exec(locked)).one()
    span = trace.get_current_span().get_span_context()
    fields: dict[str, Any] = {
        "seq": head.seq + 1,
        "at": stamp(uow.service.clock()),
        "actor": actor.subject,
        "role": actor.role,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "owner_role": str(owner_role),
        "before": _canonical(before),
        "after": _canonical(after),
        "reason": reason,
        "request_id": current_request_id.get(),
        "trace_id": format(span.trace_id, "032x") if span.is_valid else None,
        "prev_hash": head.hash,
    }
    fields["hash"] = entry_hash(fields)
    entry = AuditEntry(**fields)
    session.add(entry)
    head.seq, head.hash = entry.seq, entry.hash
    await session.flush()
    return entry


@dataclass(frozen=True)
class BrokenLink:
    """Where a chain stops holding: the entry (or the head) and what is wrong there."""

    seq: int
    problem: str


def broken_link(entries: Iterable[dict[str, Any]], head: dict[str, Any]) -> BrokenLink | None:
    """The first place the chain does not hold, reading `entries` in stored order, or None.
    Each entry must follow the one before (seq one more, prev_hash its hash) and hash to its
    own `hash`; the head must name the last entry."""
    expected_seq, expected_prev = 1, GENESIS
    for fields in entries:
        seq = int(fields["seq"])
        if seq != expected_seq:
            return BrokenLink(expected_seq, f"entry {expected_seq} is missing (found {seq})")
        if fields["prev_hash"] != expected_prev:
            return BrokenLink(seq, "does not follow the entry before it (prev_hash differs)")
        if entry_hash(fields) != fields["hash"]:
            return BrokenLink(seq, "its content does not match its hash: it was edited")
        expected_seq, expected_prev = seq + 1, fields["hash"]
    if int(head["seq"]) != expected_seq - 1 or head["hash"] != expected_prev:
        return BrokenLink(
            expected_seq,
            f"entry {expected_seq} is missing: the head names entry {head['seq']}, "
            f"the chain ends at {expected_seq - 1}",
        )
    return None


async def chain_page(
    session: AsyncSession, *, after: int, limit: int
) -> tuple[Sequence[AuditEntry], AuditHead]:
    """Entries after seq `after`, in stored order, and the head, for verification."""
    head = (await session.exec(select(AuditHead).where(AuditHead.id == HEAD_ID))).one()
    rows = await session.exec(
        select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(limit)
    )
    return rows.all(), head


async def search(
    session: AsyncSession,
    *,
    object_id: str | None,
    actor: str | None,
    since: datetime | None,
    owner_roles: frozenset[str] | None,
    before_seq: int | None,
    limit: int,
) -> Sequence[AuditEntry]:
    """Entries matching the filters, newest first, older than `before_seq` when given; only
    those owned by `owner_roles` when given (None: every entry)."""
    query = select(AuditEntry)
    if object_id is not None:
        query = query.where(AuditEntry.object_id == object_id)
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    if since is not None:
        query = query.where(AuditEntry.at >= stamp(since))
    if owner_roles is not None:
        query = query.where(AuditEntry.owner_role.in_(owner_roles))
    if before_seq is not None:
        query = query.where(AuditEntry.seq < before_seq)
    rows = await session.exec(query.order_by(AuditEntry.seq.desc()).limit(limit))
    return rows.all()
