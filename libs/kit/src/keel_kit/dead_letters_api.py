"""Every service's door to its consumer group's dead letters: list them, and replay one.

A replay is a governed action: admin's alone, and audited in the same transaction as its
effects. The service applies the letter itself, through the consumer that failed on it (its
inbox, handlers and rules), rather than publishing it again on a topic another service owns:
nothing is redelivered to the topic's other readers, and no service needs to write another's
topics. `keel dlq replay` calls it.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from aiokafka.errors import KafkaError
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_contracts.roles import Role
from keel_kit import audit, dead_letters
from keel_kit.access import PrincipalDep, roles, table
from keel_kit.context import UnitOfWork
from keel_kit.problems import NotFound, Unavailable
from keel_kit.runtime import RuntimeDep, ServiceRuntime
from keel_kit.schemas import RequestBody

MAX_OFFSET = 2**63 - 1


class DeadLetterPublic(BaseModel):
    offset: int  # on the group's `.dlq` topic (one partition): what a replay names
    original_topic: str
    original_partition: int
    original_offset: int
    type: str
    key: str
    error: str
    failed_at: str

    @classmethod
    def of(cls, letter: dead_letters.DeadLetter) -> DeadLetterPublic:
        record = letter.original_record()
        return cls(
            offset=letter.offset,
            original_topic=record.topic,
            original_partition=record.partition,
            original_offset=record.offset,
            type=letter.headers.get("keel-type", "?"),
            key=letter.key,
            error=letter.error,
            failed_at=letter.headers.get("keel-failed-at", "?"),
        )


class DeadLettersPage(BaseModel):
    items: list[DeadLetterPublic]
    next_cursor: str | None


class ReplayRequest(RequestBody):
    # The message as it should have been, when an operator corrected it; else it goes as it was.
    body: dict[str, Any] | None = Field(default=None, description="a corrected message")


class ReplayOutcome(BaseModel):
    offset: int
    applied: bool
    error: str | None  # why it failed again; it is then a new dead letter


router = APIRouter(prefix="/v1/dead-letters", tags=["dead letters"])
PERMISSIONS = table(
    [
        ("GET", "/v1/dead-letters", roles(Role.OPERATIONS, read=True)),
        ("POST", "/v1/dead-letters/{offset}/replay", roles()),  # admin's
    ]
)


@router.get("")
async def list_dead_letters(
    runtime: RuntimeDep,
    cursor: Annotated[int | None, Query(ge=0, le=MAX_OFFSET, description="next_cursor")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> DeadLettersPage:
    """This service's dead letters, oldest first, each with the error that sent it there."""
    letters = [d for d in await _letters(runtime) if cursor is None or d.offset >= cursor]
    return DeadLettersPage(
        items=[DeadLetterPublic.of(letter) for letter in letters[:limit]],
        next_cursor=str(letters[limit].offset) if len(letters) > limit else None,
    )


@router.post("/{offset}/replay")
async def replay_dead_letter(
    offset: Annotated[int, Path(ge=0, le=MAX_OFFSET)],
    runtime: RuntimeDep,
    principal: PrincipalDep,
    request: ReplayRequest | None = None,
) -> ReplayOutcome:
    """Apply a dead letter again (as it was, or as corrected in `body`), once its cause is
    fixed. An event applied before is not applied twice; one that fails again is dead-lettered
    again, with its new error."""
    found = [letter for letter in await _letters(runtime) if letter.offset == offset]
    if not found:
        raise NotFound(f"no dead letter at offset {offset}")
    [letter] = found
    corrected = request.body if request is not None else None
    body = json.dumps(corrected).encode() if corrected is not None else None
    record = letter.original_record(body)

    async def audited(session: AsyncSession, error: str | None) -> None:
        uow = UnitOfWork(session, runtime.outbox, runtime.context)
        await audit.record(
            uow,
            actor=principal,
            action="dead_letter.replayed",
            object_type="dead_letter",
            object_id=f"{letter.topic}@{offset}",
            owner_role=Role.ADMIN,
            before={"error": letter.error, "original": f"{record.topic}@{record.offset}"},
            after={"corrected": corrected is not None, "failed_again": error},
        )

    error = await runtime.processor().replay(record, audited)
    return ReplayOutcome(offset=offset, applied=error is None, error=error)


async def _letters(runtime: ServiceRuntime) -> list[dead_letters.DeadLetter]:
    settings = runtime.settings
    try:
        return await dead_letters.read_all(settings.kafka_access(), settings.consumer_group)
    except KafkaError as error:
        raise Unavailable(
            f"the dead letters cannot be read now (the broker: {error}); retry"
        ) from error
