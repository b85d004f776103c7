"""`Idempotency-Key` for POSTs that create something (DESIGN §5).

The same key and body replays the first answer; the same key with another body is a 422; a key
whose first request is still running is a 409. The key row is written in the request's own
transaction, so an answer is remembered exactly when its effects are committed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Header
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_kit.problems import Conflict, DomainError
from keel_kit.tables import IdempotencyRecord

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Repeat a request safely: the same key and body replay the first answer.",
    ),
]
REPLAYED_HEADER = "Idempotent-Replayed"


async def idempotent(
    session: AsyncSession,
    *,
    scope: str,
    key: str | None,
    request: BaseModel,
    status_code: int,
    run: Callable[[], Awaitable[BaseModel]],
) -> Response:
    """Run `run` once per (scope, key) and answer with its JSON; later calls replay it."""
    if key is None:
        return _json((await run()).model_dump_json().encode(), status_code)
    request_hash = hashlib.sha256(request.model_dump_json().encode()).hexdigest()
    if session.get_bind().dialect.name == "postgresql":
        # Concurrent requests with one key: the first holds this lock until it commits; the
        # others are told it is in flight instead of waiting on it. (SQLite serialises writers.)
        claimed = await session.scalar(
            select(func.pg_try_advisory_xact_lock(func.hashtextextended(f"{scope}:{key}", 0)))
        )
        if not claimed:
            raise Conflict("a request with this Idempotency-Key is still in flight")
    previous = await session.get(IdempotencyRecord, (scope, key))
    if previous is not None:
        if previous.request_hash != request_hash:
            raise DomainError(
                "this Idempotency-Key was used with a different body", field="Idempotency-Key"
            )
        response = _json(previous.response_body, previous.status_code)
        response.headers[REPLAYED_HEADER] = "true"
        return response
    body = (await run()).model_dump_json().encode()
    session.add(
        IdempotencyRecord(
            scope=scope,
            key=key,
            request_hash=request_hash,
            status_code=status_code,
            response_body=body,
        )
    )
    return _json(body, status_code)


def _json(body: bytes, status_code: int) -> Response:
    return Response(body, status_code=status_code, media_type="application/json")
