"""`Idempotency-Key` for POSTs that create something (DESIGN §5).

The same key and body replays the first answer; the same key with another body is a 422; a key
whose first request is still running is a 409. The key row is written in the request's own
transaction, so an answer is remembered exactly when its effects are committed.

Batches (a marketplace feed posting many orders at once) carry a key per item and get the same
rules per item: `recall_many` answers what it can from memory in one query and hands the rest to
the use case, whose successful answers are remembered; refusals are not, so a corrected retry
with the same key is judged afresh, exactly as after a single request that failed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any, TypeVar

from fastapi import Header
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import bindparam, func, literal
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Text
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_kit import staged
from keel_kit.context import ServiceContext
from keel_kit.db import one_of
from keel_kit.identity import current_caller
from keel_kit.problems import Conflict, DomainError
from keel_kit.tables import IDEMPOTENCY, IdempotencyRecord, utcnow

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description=(
            "Repeat a request safely, with a fresh key for each new request: the same key and "
            "body replay the first answer (`Idempotent-Replayed: true`), the same key with "
            "another body is a 422, and a key whose first request is still running a 409. A "
            "partner's signed request is keyed by its `webhook-id` instead."
        ),
    ),
]
REPLAYED_HEADER = "Idempotent-Replayed"


@dataclass(frozen=True)
class Answer:
    """A success as it went (or goes) over the wire."""

    status_code: int
    body: bytes
    replayed: bool = False

    def response(self) -> Response:
        response = Response(self.body, status_code=self.status_code, media_type="application/json")
        if self.replayed:
            response.headers[REPLAYED_HEADER] = "true"
        return response


Outcome = Answer | DomainError
R = TypeVar("R", bound=BaseModel)


async def idempotent(
    context: ServiceContext,
    *,
    scope: str,
    key: str | None,
    request: BaseModel,
    status_code: int,
    use_case: Callable[..., Awaitable[BaseModel]],
    **arguments: Any,
) -> Response:
    """Run `use_case(uow=..., **arguments)` in a unit of work of its own, once per (scope, key),
    and answer with its JSON; later calls replay it. A route's whole body, for a POST that takes
    an `Idempotency-Key`.

    A `DomainError` raised by the use case propagates, so the transaction rolls back whole.
    """
    async with context.unit_of_work() as uow:
        run = partial(use_case, uow=uow, **arguments)
        if key is None:
            return Answer(status_code, (await run()).model_dump_json().encode()).response()

        async def run_one(_requests: Sequence[BaseModel]) -> Sequence[BaseModel | DomainError]:
            return [await run()]

        [outcome] = await recall_many(
            uow.session,
            scope=scope,
            requests=[(key, request)],
            status_code=status_code,
            run=run_one,
        )
        if isinstance(outcome, DomainError):
            raise outcome
        return outcome.response()


async def recall_many(
    session: AsyncSession,
    *,
    scope: str,
    requests: Sequence[tuple[str, R]],
    status_code: int,
    run: Callable[[Sequence[R]], Awaitable[Sequence[BaseModel | DomainError]]],
) -> list[Outcome]:
    """One outcome per (key, request), in order: replayed, refused, or newly run.

    `run` gets the requests that must really run, once each, and returns for each its answer
    or the `DomainError` refusing it. A key repeated within the batch runs once; its repeats
    replay that outcome (or are a 422 if their body differs).
    """
    scope = _callers(scope)
    hashes = [_hash(request) for _, request in requests]
    keys = list(dict.fromkeys(key for key, _ in requests))
    in_flight = await _claim(session, scope, keys)
    remembered = await _remembered(session, scope, [k for k in keys if k not in in_flight])

    outcomes: list[Outcome | None] = [None] * len(requests)
    first_of: dict[str, int] = {}  # key -> index of the request that runs (or replays) for it
    to_run: list[int] = []
    for index, (key, _request) in enumerate(requests):
        if key in in_flight:
            outcomes[index] = Conflict("a request with this Idempotency-Key is still in flight")
            continue
        previous = remembered.get(key)
        expected_hash = previous.request_hash if previous else None
        if key in first_of:
            expected_hash = expected_hash or hashes[first_of[key]]
        if expected_hash is not None and expected_hash != hashes[index]:
            outcomes[index] = _mismatch()
        elif previous is not None:
            outcomes[index] = Answer(previous.status_code, previous.response_body, replayed=True)
        elif key in first_of:
            continue  # filled in from the first request's outcome below
        else:
            first_of[key] = index
            to_run.append(index)

    results = await run([requests[i][1] for i in to_run]) if to_run else []
    for index, result in zip(to_run, results, strict=True):
        if isinstance(result, DomainError):
            outcomes[index] = result
            continue
        body = result.model_dump_json().encode()
        outcomes[index] = Answer(status_code, body)
        staged.stage(  # written with the answer's effects, when the unit of work ends
            session,
            IDEMPOTENCY,
            {
                "scope": scope,
                "key": requests[index][0],
                "request_hash": hashes[index],
                "status_code": status_code,
                "response_body": body,
                "created_at": utcnow(),
            },
        )
    for index, outcome in enumerate(outcomes):
        if outcome is None:  # a repeat of a key run in this batch
            first = outcomes[first_of[requests[index][0]]]
            assert first is not None
            outcomes[index] = (
                Answer(first.status_code, first.body, replayed=True)
                if isinstance(first, Answer)
                else first
            )
    return [outcome for outcome in outcomes if outcome is not None]


async def _claim(session: AsyncSession, scope: str, keys: list[str]) -> set[str]:
    """Take a transaction lock per key; return the keys another transaction holds (in flight).

    PostgreSQL only: try-locks never wait, so concurrent batches cannot deadlock. SQLite
    serialises writers, so a second request simply waits and then replays.
    """
    if not keys or session.get_bind().dialect.name != "postgresql":
        return set()
    given = (
        func.unnest(bindparam("keys", keys, type_=ARRAY(Text))).table_valued("k").render_derived()
    )
    claimed = func.pg_try_advisory_xact_lock(
        func.hashtextextended(literal(f"{scope}:") + given.c.k, 0)
    )
    rows = await session.exec(select(given.c.k, claimed))
    return {key for key, ok in rows.all() if not ok}


async def _remembered(
    session: AsyncSession, scope: str, keys: list[str]
) -> dict[str, IdempotencyRecord]:
    if not keys:
        return {}
    rows = await session.exec(
        select(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope, one_of(session, IdempotencyRecord.key, keys)
        )
    )
    return {record.key: record for record in rows}


def _callers(scope: str) -> str:
    """The scope as the current caller's own: the same key from two callers is two keys."""
    caller = current_caller.get()
    if caller is None:
        return scope
    return f"{scope}@{hashlib.sha256(caller.encode()).hexdigest()[:32]}"


def _hash(request: BaseModel) -> str:
    return hashlib.sha256(request.model_dump_json().encode()).hexdigest()


def _mismatch() -> DomainError:
    return DomainError(
        "this Idempotency-Key was used with a different body", field="Idempotency-Key"
    )
