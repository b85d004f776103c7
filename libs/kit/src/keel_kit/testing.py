"""Support for the services' own tests, kept with the kit so that no service copies it.

A service test runs the service's real app on a SQLite file: HTTP through ASGI, its subscriber
on FastStream's in-memory broker, and nothing else (no relay, no Kafka). `running(app)` starts
it; a service's harness wraps that in its fixture and adds the steps its tests share.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI
from faststream.kafka import KafkaBroker, TestKafkaBroker
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import event
from sqlmodel import col, select

from keel_contracts import Envelope, Message, dead_letter_topic, topic_for_message
from keel_contracts.roles import Role
from keel_kit import partners
from keel_kit.catchup import FixedLag, ReplicaCatchup
from keel_kit.checks import OUTBOX_DRAINED
from keel_kit.consumer import BatchProcessor
from keel_kit.db import Database
from keel_kit.decoding import Record
from keel_kit.runtime import ServiceRuntime
from keel_kit.sampler import MetricSampler
from keel_kit.signing import ServiceCredentials, StackKeys
from keel_kit.tables import OutboxRecord, PartnerSecret

_offsets = itertools.count()
TEST_ADMIN = "tess"  # who a service test's client is signed in as

Timed = tuple[Message, datetime | None]  # a message, and when it happened (None: now)


def wrap(message: Message, at: datetime | None = None) -> Envelope:
    """The message as its topic's owner sends it, keyed (and correlated) as the registry says,
    as if it happened at `at` when given."""
    topic = topic_for_message(type(message))
    envelope = Envelope.wrap(message, source=topic.owner, correlation_id=registry_key(message))
    return envelope if at is None else envelope.model_copy(update={"occurred_at": at})


def registry_key(message: Message) -> str:
    return str(getattr(message, topic_for_message(type(message)).key))


def registry_records(*messages: Timed) -> list[Record]:
    """Each message wrapped anew on its registry topic, as the batch consumer reads it, at
    offsets that only grow."""
    return [
        Record(
            topic=topic_for_message(type(message)).name,
            partition=0,
            offset=next(_offsets),
            key=registry_key(message).encode(),
            value=wrap(message, at).to_bytes(),
        )
        for message, at in messages
    ]


@contextmanager
def statements_run(db: Database) -> Iterator[list[str]]:
    """The SQL statements the database runs inside the block, in order."""
    statements: list[str] = []

    def record(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.lstrip())

    engine = db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


@dataclass
class ServiceUnderTest:
    """One service's app, running, and the ways its tests feed it and read what it did."""

    app: FastAPI
    runtime: ServiceRuntime
    broker: KafkaBroker
    client: httpx.AsyncClient  # signed in as `TEST_ADMIN`
    keys: StackKeys

    def as_person(self, user: str, role: Role) -> dict[str, str]:
        """Headers that make a request come from `user` acting in `role`."""
        return {"Authorization": f"Bearer {self.keys.staff_token(user=user, role=role)}"}

    async def partner_secret(self, partner: str) -> str:
        """An active signing secret for `partner`, stored straight into this service's database
        (the services that own partners issue them through their routes)."""
        secret = partners.new_secret()
        async with self.db.transaction() as session:
            session.add(
                PartnerSecret(
                    secret_id=str(uuid.uuid4()), partner=partner, secret=secret, created_by="test"
                )
            )
        return secret

    async def signed(
        self,
        method: str,
        path: str,
        *,
        partner: str,
        secret: str,
        body: Any = None,
        **signing: Any,
    ) -> httpx.Response:
        """Send a request as a partner signs it (`partner` like `channel:web`), with no token;
        `signing` passes `webhook_id` or `at` (a Unix time) on to the signature."""
        raw = b"" if body is None else json.dumps(body).encode()
        headers = {
            "Authorization": "",
            "Content-Type": "application/json",
            **partners.signature_headers(secret, raw, partner=partner, **signing),
        }
        return await self.client.request(method, path, content=raw, headers=headers)

    def as_service(self, service: str) -> dict[str, str]:
        """Headers that make a request come from another Keel service, as itself."""
        settings = self.runtime.settings
        credentials = ServiceCredentials(
            service=service,
            keys=self.keys,
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
        )
        return credentials.authorization()

    @property
    def context(self) -> Any:
        return self.runtime.context

    @property
    def db(self) -> Database:
        return self.runtime.db

    async def publish(self, message: Message, *, at: datetime | None = None) -> Envelope:
        """Send the message through the in-memory broker as its owner would."""
        envelope = wrap(message, at)
        await self.redeliver(envelope)
        return envelope

    async def redeliver(self, envelope: Envelope) -> None:
        """Send an envelope as it is, event id and all (again, if it was sent before)."""
        message = Message.registry[envelope.type].model_validate(envelope.payload)
        topic = topic_for_message(type(message)).name
        await self.broker.publish(envelope.to_bytes(), topic, key=registry_key(message).encode())

    async def apply(self, *messages: Message, max_attempts: int = 1) -> int:
        """Apply the messages as one consumer batch; return how many took effect."""
        return await self.apply_at(*((m, None) for m in messages), max_attempts=max_attempts)

    async def apply_at(self, *messages: Timed, max_attempts: int = 1) -> int:
        """Apply the messages, each as if it happened at its moment, as one consumer batch."""
        runtime = self.runtime
        processor = BatchProcessor(
            consumer=runtime.settings.consumer_group,
            handlers=runtime.handlers,
            db=runtime.db,
            outbox=runtime.outbox,
            metrics=runtime.metrics,
            max_attempts=max_attempts,
            backoff_seconds=0.01,
            service=runtime.context,
        )
        return await processor.process(registry_records(*messages))

    async def staged(self, topic: str | None = None, key: str | None = None) -> list[Envelope]:
        """What the service staged in its outbox (on `topic`, for `key`, if given), oldest
        first: no relay runs here, so everything it sent is still there."""
        query = select(OutboxRecord)
        if topic is not None:
            query = query.where(OutboxRecord.topic == topic)
        if key is not None:
            query = query.where(OutboxRecord.key == key)
        async with self.db.transaction() as session:
            rows = await session.exec(query.order_by(col(OutboxRecord.id)))
            return [Envelope.from_bytes(row.body) for row in rows.all()]

    async def dead_letters(self, key: str | None = None) -> list[str]:
        """The reason of every message (of `key`, if given) the service dead-lettered."""
        topic = dead_letter_topic(self.runtime.settings.consumer_group)
        query = select(OutboxRecord).where(OutboxRecord.topic == topic)
        if key is not None:
            query = query.where(OutboxRecord.key == key)
        async with self.db.transaction() as session:
            rows = await session.exec(query.order_by(col(OutboxRecord.id)))
            return [str(row.headers["keel-error"]) for row in rows.all()]

    async def get_json(self, path: str, **params: Any) -> Any:
        """GET `path`, asserting a 200, and return its body."""
        response = await self.client.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    async def metric(self, name: str, **labels: str) -> float:
        """A sample's value on the service's `/metrics`; 0 when there is none yet."""
        response = await self.client.get("/metrics")
        assert response.status_code == 200, response.text
        for family in text_string_to_metric_families(response.text):
            for sample in family.samples:
                if sample.name == name and sample.labels == labels:
                    return float(sample.value)
        return 0.0

    async def sample_metrics(self) -> None:
        """Read the gauges of state now, as the running service does on its timer (all but
        the broker's lag: there is no broker here)."""
        await MetricSampler(self.context, self.runtime.metrics, topics=(), every=1).sample()


S = TypeVar("S", bound=ServiceUnderTest)


@asynccontextmanager
async def running(
    app: FastAPI, kind: type[S], *, lags: dict[str, int | None] | None = None
) -> AsyncIterator[S]:
    """The app migrated and running its subscriber on the in-memory broker, as a `kind` (a
    service's harness subclasses `ServiceUnderTest` with its tests' steps). There is no broker
    to ask how far its replicas are behind: they count as caught up, or as `lags` says."""
    runtime: ServiceRuntime = app.state.runtime
    runtime.context = replace(runtime.context, catchup=ReplicaCatchup(FixedLag(lags)))
    await runtime.migrate()
    keys = StackKeys.ensure(runtime.settings.auth_folder)
    admin = keys.staff_token(user=TEST_ADMIN, role=Role.ADMIN)
    transport = httpx.ASGITransport(app=app)
    base_url = f"http://{runtime.settings.service}"
    try:
        async with (
            TestKafkaBroker(runtime.build_broker()) as broker,
            httpx.AsyncClient(
                transport=transport,
                base_url=base_url,
                headers={"Authorization": f"Bearer {admin}"},
            ) as client,
        ):
            yield kind(app, runtime, broker, client, keys)
    finally:
        await runtime.context.close()


T = TypeVar("T")


async def batched_and_one_by_one(
    start: Callable[[str], AbstractAsyncContextManager[S]],
    messages: Sequence[Message],
    *,
    stage: Callable[[S], Awaitable[None]],
    outcome: Callable[[S], Awaitable[T]],
    check: Callable[[S], Awaitable[None]] | None = None,
) -> tuple[T, T, bool]:
    """The `outcome` of `messages` applied as one consumer batch, and of the same messages
    applied one batch each, on two fresh services (`start(name)`, each `stage`d first); and
    whether the batch was redone message by message (the kit isolating a failure). `check`, if
    given, must hold on the batched service once its outcome is read. Each batch is tried up to
    three times over transient failures, as the consumer would."""
    async with start("batched") as service:
        await stage(service)
        with statements_run(service.db) as statements:
            await service.apply(*messages, max_attempts=3)
        isolated = any(s.upper().startswith("SAVEPOINT") for s in statements)
        batched = await outcome(service)
        if check is not None:
            await check(service)
    async with start("one-by-one") as service:
        await stage(service)
        for message in messages:
            await service.apply(message, max_attempts=3)
        one_by_one = await outcome(service)
    return batched, one_by_one, isolated


def check_findings(report: dict[str, Any]) -> dict[str, list[str]]:
    """What each invariant of a `GET /v1/checks` report found, by invariant, leaving out the
    outbox's: service tests run no relay, so their outboxes never drain."""
    return {
        i["name"]: i["findings"]
        for i in report["invariants"]
        if i["findings"] and i["name"] != OUTBOX_DRAINED.name
    }


def selects(statements: Sequence[str]) -> list[str]:
    """The SELECT statements among `statements`."""
    return [s for s in statements if s.upper().startswith("SELECT")]


__all__ = [
    "ServiceUnderTest",
    "batched_and_one_by_one",
    "check_findings",
    "registry_records",
    "running",
    "selects",
    "statements_run",
    "wrap",
]
