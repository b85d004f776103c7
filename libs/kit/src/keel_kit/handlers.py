"""How a service declares what it consumes: one async function per message type."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from keel_contracts import Envelope, Message, topic_for_message
from keel_kit.context import C, UnitOfWork

M = TypeVar("M", bound=Message)


@dataclass(frozen=True, kw_only=True)
class MessageContext(UnitOfWork[C]):
    """What a handler gets beside its payload: the open transaction, the outbox, the service's
    context, and the message's envelope."""

    envelope: Envelope


Handler = Callable[[MessageContext[Any], Any], Awaitable[None]]
Prepare = Callable[[AsyncSession, Sequence[Message]], Awaitable[None]]


class PermanentError(Exception):
    """The message can never succeed as it is (bad data, unknown reference): dead-letter it."""


class TransientError(Exception):
    """Worth retrying: the same message may succeed later (a dependency is briefly away)."""


class Handlers:
    """A service's subscriptions: `@handlers.on(StockReceived)` above a use-case call."""

    def __init__(self) -> None:
        self.by_type: dict[str, tuple[type[Message], Handler]] = {}
        self._prepare: Prepare | None = None

    def before_batch(self, prepare: Prepare) -> Prepare:
        """Register a function that sees a batch's new messages before their handlers run, in
        the same transaction: it can load (and lock) what they all need in a few queries, so
        that each handler finds it in the session instead of asking the database again.

        When a failing message is isolated it runs again for each message alone, inside that
        message's savepoint, so it must load afresh (`populate_existing`), not trust the session.
        """
        self._prepare = prepare
        return prepare

    async def prepare(self, session: AsyncSession, messages: Sequence[Message]) -> None:
        if self._prepare is not None and messages:
            await self._prepare(session, messages)

    def on(
        self, message: type[M]
    ) -> Callable[
        [Callable[[MessageContext[Any], M], Awaitable[None]]],
        Callable[[MessageContext[Any], M], Awaitable[None]],
    ]:
        def register(
            handler: Callable[[MessageContext[Any], M], Awaitable[None]],
        ) -> Callable[[MessageContext[Any], M], Awaitable[None]]:
            if message.type in self.by_type:
                raise ValueError(f"{message.type} already has a handler")
            self.by_type[message.type] = (message, handler)
            return handler

        return register

    def topics(self) -> list[str]:
        """The topics to subscribe to: every topic that carries a handled message type."""
        return sorted({topic_for_message(model).name for model, _ in self.by_type.values()})
