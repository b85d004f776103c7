"""A row the broker can never accept is parked with its reason; the rows behind it flow on."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError
from fastapi import FastAPI
from sqlalchemy import insert
from sqlmodel import SQLModel, col, select

from keel_contracts import Envelope
from keel_contracts.roles import Role
from keel_kit import audit, parked, parked_api, tables
from keel_kit.access import AccessGuard, token_verifier
from keel_kit.catchup import FixedLag, ReplicaCatchup
from keel_kit.context import ServiceContext
from keel_kit.db import Database
from keel_kit.kafka_access import KafkaAccess
from keel_kit.metrics import KitMetrics
from keel_kit.outbox import Outbox
from keel_kit.parked_api import router as parked_rows_router
from keel_kit.problems import install_problem_handlers
from keel_kit.relay import BatchFailed, OutboxRelay
from keel_kit.signing import StackKeys
from kit_fixtures import outbox_rows, stock_received
from kit_http_app import TinySettings

pytestmark = [pytest.mark.unit, pytest.mark.asyncio]


class RefusingProducer:
    """A producer that refuses the messages in `refused` as a real one refuses a message that
    is too large: in send() itself (`in_send`), or in the broker's answer. The broker answers a
    whole producer batch (every send of one event loop turn) at once, so its refusal also fails
    the messages batched after the refused one."""

    def __init__(self, refused: set[str], *, in_send: bool) -> None:
        self.refused = refused
        self.in_send = in_send
        self.sent: list[str] = []  # event ids the broker accepted, in order
        self._pending: list[tuple[str, asyncio.Future[None]]] = []

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def send(self, topic: str, *, value: bytes, key: bytes, headers: Any) -> Any:
        event_id = str(Envelope.from_bytes(value).event_id)
        if self.in_send and event_id in self.refused:
            raise MessageSizeTooLargeError("The message is 2000000 bytes when serialized")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if not self._pending:
            asyncio.get_running_loop().call_soon(self._answer)
        self._pending.append((event_id, future))
        return future

    def _answer(self) -> None:
        batch, self._pending = self._pending, []
        refused_from = next((i for i, (e, _) in enumerate(batch) if e in self.refused), None)
        for index, (event_id, future) in enumerate(batch):
            if refused_from is not None and index >= refused_from:
                future.set_exception(MessageSizeTooLargeError())
            else:
                self.sent.append(event_id)
                future.set_result(None)


class AwayProducer(RefusingProducer):
    """A broker that is not there: every send fails, transiently."""

    def __init__(self) -> None:
        super().__init__(set(), in_send=False)

    async def send(self, topic: str, *, value: bytes, key: bytes, headers: Any) -> Any:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.set_exception(KafkaConnectionError("broker away"))
        return future


@pytest_asyncio.fixture
async def db(db: Database) -> Database:
    """The kit's test database, with the parked rows' table too."""
    async with db.engine.begin() as connection:
        kept = [tables.OutboxParked, tables.AuditEntry, tables.AuditHead]  # a replay is audited
        created = [SQLModel.metadata.tables[t.__tablename__] for t in kept]
        await connection.run_sync(SQLModel.metadata.create_all, tables=created)
        await connection.execute(insert(created[2]).values(id=1, seq=0, hash=audit.GENESIS))
    return db


def relay(db: Database, producer: RefusingProducer, metrics: KitMetrics) -> OutboxRelay:
    return OutboxRelay(
        db=db,
        outbox=Outbox("inventory"),
        kafka=KafkaAccess("unused:9092"),
        client_id="test",
        metrics=metrics,
        batch_size=100,
        producer_factory=lambda _bootstrap, _client: producer,
    )


async def stage(db: Database, count: int) -> list[str]:
    outbox = Outbox("inventory")
    async with db.transaction() as session:
        return [
            str(outbox.add(session, stock_received(n), key="SKU-1").event_id)
            for n in range(1, count + 1)
        ]


async def parked_rows(db: Database) -> list[tables.OutboxParked]:
    async with db.transaction() as session:
        query = select(tables.OutboxParked).order_by(col(tables.OutboxParked.id))
        return list((await session.exec(query)).all())


def parked_gauge(metrics: KitMetrics) -> float | None:
    return metrics.registry.get_sample_value("keel_outbox_parked")


async def test_row_refused_by_send_is_parked_and_the_rows_behind_it_are_published(
    db: Database,
) -> None:
    first, too_large, third = await stage(db, 3)
    producer, metrics = RefusingProducer({too_large}, in_send=True), KitMetrics("inventory")

    assert await relay(db, producer, metrics).publish_batch() == 3

    assert producer.sent == [first, third]
    (row,) = await parked_rows(db)
    assert row.event_id == too_large
    assert "MessageSizeTooLargeError" in row.reason
    assert "The message is 2000000 bytes" in row.reason
    assert (row.topic, row.key, row.type) == ("inventory.stock.v1", "SKU-1", "stock.received")
    assert str(Envelope.from_bytes(row.body).event_id) == too_large
    assert await outbox_rows(db) == []
    assert parked_gauge(metrics) == 1


async def test_broker_refusal_in_a_shared_batch_parks_only_the_row_at_fault(
    db: Database,
) -> None:
    first, too_large, batched_behind, last = await stage(db, 4)
    producer, metrics = RefusingProducer({too_large}, in_send=False), KitMetrics("inventory")
    publisher = relay(db, producer, metrics)

    # The broker refused a producer batch of two rows: which one is at fault is not known yet.
    with pytest.raises(BatchFailed):
        await publisher.publish_batch()
    assert producer.sent == [first]
    assert await parked_rows(db) == []
    # So the rows go one at a time until past both suspects, then in batches again.
    for _ in range(10):
        if not await outbox_rows(db):
            break
        await publisher.publish_batch()

    assert producer.sent == [first, batched_behind, last]
    assert [row.event_id for row in await parked_rows(db)] == [too_large]
    assert parked_gauge(metrics) == 1


async def test_transient_failure_parks_nothing_and_keeps_every_row(db: Database) -> None:
    await stage(db, 2)
    metrics = KitMetrics("inventory")

    with pytest.raises(KafkaConnectionError):
        await relay(db, AwayProducer(), metrics).publish_batch()

    assert len(await outbox_rows(db)) == 2
    assert await parked_rows(db) == []


async def test_replayed_row_goes_back_to_the_end_of_the_outbox_as_it_was(db: Database) -> None:
    _, too_large = await stage(db, 2)
    await relay(db, RefusingProducer({too_large}, in_send=True), KitMetrics("x")).publish_batch()
    (row,) = await parked_rows(db)
    (behind,) = await stage(db, 1)  # written after the parking, before the replay

    async with db.transaction() as session:
        outbox_id = await parked.replay(session, row.id)
    async with db.transaction() as session:
        again = await parked.replay(session, row.id)

    assert again is None
    assert await parked_rows(db) == []
    waiting = await outbox_rows(db)
    assert [r.event_id for r in sorted(waiting, key=lambda r: r.id)] == [behind, too_large]
    replayed = next(r for r in waiting if r.event_id == too_large)
    assert (replayed.id, replayed.body, replayed.headers) == (outbox_id, row.body, row.headers)

    accepting = RefusingProducer(set(), in_send=True)
    assert await relay(db, accepting, KitMetrics("x")).publish_batch() == 2
    assert accepting.sent == [behind, too_large]


async def test_api_lists_parked_rows_with_reason_and_replays_them(
    db: Database, tmp_path: Path
) -> None:
    _, too_large = await stage(db, 2)
    await relay(db, RefusingProducer({too_large}, in_send=True), KitMetrics("x")).publish_batch()
    settings = TinySettings(state_dir=tmp_path)
    keys = StackKeys.ensure(settings.auth_folder)

    class Runtime:  # the parts of ServiceRuntime the router uses
        def __init__(self) -> None:
            self.db, self.outbox, self.metrics = db, Outbox("inventory"), KitMetrics("inventory")
            self.context = ServiceContext(
                settings=settings,
                db=db,
                outbox=self.outbox,
                catchup=ReplicaCatchup(FixedLag()),
            )

    runtime = Runtime()
    app = FastAPI()
    app.state.runtime = runtime
    install_problem_handlers(app)
    app.include_router(parked_rows_router)
    app.add_middleware(
        AccessGuard, verifier=token_verifier(settings), permissions=parked_api.PERMISSIONS
    )
    transport = httpx.ASGITransport(app=app)
    admin = {"Authorization": f"Bearer {keys.staff_token(user='ann', role=Role.ADMIN)}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://kit", headers=admin) as http:
        listed = await http.get("/v1/outbox/parked")
        (item,) = listed.json()["items"]
        replayed = await http.post(f"/v1/outbox/parked/{item['id']}/replay")
        replayed_again = await http.post(f"/v1/outbox/parked/{item['id']}/replay")
        listed_after = await http.get("/v1/outbox/parked")

    assert listed.status_code == 200
    assert item["event_id"] == too_large
    assert "MessageSizeTooLargeError" in item["reason"]
    assert item["size"] > 0
    assert listed.json()["next_cursor"] is None
    assert replayed.status_code == 200
    assert replayed.json()["parked_id"] == item["id"]
    assert runtime.outbox.pending.is_set()  # the relay is woken for it
    assert replayed_again.status_code == 404
    assert listed_after.json()["items"] == []
    assert parked_gauge(runtime.metrics) == 0
    assert [row.event_id for row in await outbox_rows(db)] == [too_large]
    async with db.transaction() as session:
        (entry,), _ = await audit.chain_page(session, after=0, limit=10)
    assert (entry.actor, entry.action) == ("ann", "outbox.parked_row_replayed")
