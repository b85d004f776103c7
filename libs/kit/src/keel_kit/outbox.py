"""The write side of the transactional outbox: messages are rows until the relay publishes them."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_contracts import Envelope, Message, topic_for_message
from keel_kit import staged, telemetry
from keel_kit.tables import OUTBOX, utcnow


class Outbox:
    """Adds messages to the caller's transaction; they exist for the world only if it commits.

    After a commit that added rows, `pending` is set so the relay publishes at once instead of
    waiting for its next poll.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.pending = asyncio.Event()

    def add(
        self,
        session: AsyncSession,
        message: Message,
        *,
        key: str,
        correlation_id: str | None = None,
        causation: Envelope | None = None,
    ) -> Envelope:
        """Wrap `message` in an envelope and stage it on its registry topic.

        A message caused by another inherits its correlation id, and names it as its cause.
        A topic the registry does not let this service write is refused here, at once, rather
        than by a secured broker's ACLs when the relay sends it.
        """
        topic = topic_for_message(type(message))
        if self.source not in topic.writers:
            raise PermissionError(f"{self.source} may not write {topic.name} (registry writers)")
        if correlation_id is None:
            correlation_id = causation.correlation_id if causation else key
        envelope = Envelope.wrap(
            message,
            source=self.source,
            correlation_id=correlation_id,
            causation_id=str(causation.event_id) if causation else None,
            traceparent=telemetry.staging_traceparent(topic.name, message),
        )
        self.add_raw(
            session,
            topic=topic.name,
            key=key,
            event_id=str(envelope.event_id),
            type=envelope.type,
            body=envelope.to_bytes(),
            headers=_headers(envelope),
        )
        return envelope

    def add_raw(
        self,
        session: AsyncSession,
        *,
        topic: str,
        key: str,
        event_id: str,
        type: str,
        body: bytes,
        headers: dict[str, Any],
    ) -> None:
        """Stage already-encoded bytes (dead letters keep the original bytes untouched)."""
        staged.stage(
            session,
            OUTBOX,
            {
                "topic": topic,
                "key": key,
                "event_id": event_id,
                "type": type,
                "body": body,
                "headers": headers,
                "created_at": utcnow(),
            },
        )
        if not session.info.get("keel_outbox_listener"):
            session.info["keel_outbox_listener"] = True
            event.listen(session.sync_session, "after_commit", self._wake, once=True)

    def _wake(self, _session: Any) -> None:
        self.pending.set()


def _headers(envelope: Envelope) -> dict[str, str]:
    headers = {"content-type": "application/json", "keel-type": envelope.type}
    if envelope.traceparent:
        headers["traceparent"] = envelope.traceparent
    return headers
