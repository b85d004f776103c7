"""Carrying out faults on the local stack: processes, the broker, PostgreSQL and topics."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from keel_cli import stack
from keel_cli.chaos.schedule import Fault
from keel_cli.runtime import kafka, postgres, processes
from keel_contracts import Envelope
from keel_kit.relay import create_producer

DUPLICATES_PER_FAULT = 20
BROKER_PATIENCE_SECONDS = 90.0
STALL_PATIENCE_SECONDS = 120.0  # for the stalled service to be ready again after its kill
POISON_KEY_PREFIX = b"chaos-poison-"
UNKNOWN_TYPE = "chaos.unknown_type"


@dataclass(frozen=True)
class Poison:
    """A message no consumer can ever apply: its topic and its key, unique to it."""

    topic: str
    key: str
    why: str


async def _once_the_broker_answers(
    send: Callable[[], Awaitable[None]], patience: float = BROKER_PATIENCE_SECONDS
) -> None:
    """Run `send`, again while the broker is away (another fault may have killed it)."""
    deadline = asyncio.get_running_loop().time() + patience
    while True:
        try:
            await send()
            return
        except (KafkaError, OSError):
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(1.0)


class Injector:
    """Applies faults to the stack described by `config`; records the poison it sends."""

    def __init__(self, config: stack.StackConfig) -> None:
        self.config = config
        self.poison: list[Poison] = []
        self.paused: set[str] = set()

    async def apply(self, fault: Fault) -> None:
        if fault.kind == "kill":
            processes.kill(fault.target, state_dir=self.config.state_dir)
            await asyncio.sleep(fault.hold)
            await asyncio.to_thread(stack.start_service, self.config, fault.target)
        elif fault.kind == "broker":
            kafka.kill(self.config.state_dir)
            await asyncio.sleep(fault.hold)
            await asyncio.to_thread(kafka.start, self.config.state_dir, port=self.config.kafka_port)
        elif fault.kind == "postgres":
            postgres.stop_immediately(self.config.state_dir)
            await asyncio.sleep(fault.hold)
            await asyncio.to_thread(
                postgres.start, self.config.state_dir, port=self.config.postgres_port
            )
        elif fault.kind == "pause":
            await self._pause(fault.target, fault.hold)
        elif fault.kind == "stall":
            await self._stall(fault.target, fault.hold)
        elif fault.kind == "duplicate":
            await _once_the_broker_answers(lambda: self._duplicate(fault.target))
        elif fault.kind == "poison":
            poison = self._next_poison(fault.target)
            await _once_the_broker_answers(lambda: self._send(poison))
        else:
            raise ValueError(f"unknown fault {fault.kind}")

    def resume_all(self) -> None:
        """Wake every paused service (healing after an interrupted run)."""
        for service in list(self.paused):
            self._signal(service, signal.SIGCONT)

    async def _pause(self, service: str, seconds: float) -> None:
        self._signal(service, signal.SIGSTOP)
        self.paused.add(service)
        try:
            await asyncio.sleep(seconds)
        finally:
            self._signal(service, signal.SIGCONT)

    async def _stall(self, service: str, seconds: float) -> None:
        """Hold the service's inbox locked: its consumer's next batch waits on the lock (the
        kit reads the inbox first) while the process, its heartbeats and its HTTP side go on,
        until the member overstays its poll interval and the group moves its partitions.

        The stall starts once the service is ready (its consumer connected: it follows the
        service's restart), so the consumer is alive for all of it. A database restart (another
        fault) drops the lock with the connection: it is taken again once the database
        answers, until the stall's time is up."""
        await asyncio.to_thread(stack.wait_ready, (service,), STALL_PATIENCE_SECONDS)
        loop = asyncio.get_running_loop()
        until = loop.time() + seconds
        dsn = postgres.url(f"keel_{service}", port=self.config.postgres_port)
        while (left := until - loop.time()) > 0:
            try:
                connection = await asyncpg.connect(
                    dsn.replace("postgresql+asyncpg://", "postgresql://"), timeout=left
                )
                try:
                    async with connection.transaction():
                        await connection.execute("LOCK TABLE inbox IN ACCESS EXCLUSIVE MODE")
                        await asyncio.sleep(until - loop.time())
                finally:
                    await connection.close()
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                await asyncio.sleep(min(1.0, max(0.0, until - loop.time())))

    def _signal(self, service: str, sig: signal.Signals) -> None:
        pid = processes.read_pid(service, state_dir=self.config.state_dir)
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):  # it may be dead already
                os.killpg(pid, sig)
        if sig == signal.SIGCONT:
            self.paused.discard(service)

    async def _duplicate(self, topic: str) -> None:
        """Deliver the topic's latest records again, byte for byte (as a producer retry
        without idempotence would): consumers must apply each once."""
        consumer = AIOKafkaConsumer(**self.config.kafka.client_options())
        try:
            await consumer.start()
            numbers = consumer.partitions_for_topic(topic) or set()
            partitions = [TopicPartition(topic, p) for p in sorted(numbers)]
            consumer.assign(partitions)
            ends = await consumer.end_offsets(partitions)
            for tp in partitions:
                consumer.seek(tp, max(0, ends[tp] - DUPLICATES_PER_FAULT // len(partitions) - 1))
            batch = await consumer.getmany(*partitions, timeout_ms=3000)
            records = [
                r
                for tp in partitions
                for r in batch.get(tp, [])
                # Poison sent earlier is not duplicated: each must be dead-lettered once per group.
                if r.offset < ends[tp] and not (r.key or b"").startswith(POISON_KEY_PREFIX)
            ]
        finally:
            await consumer.stop()
        async with self._producer() as producer:
            for r in records[:DUPLICATES_PER_FAULT]:
                await producer.send_and_wait(topic, r.value, key=r.key, headers=list(r.headers))

    def _next_poison(self, topic: str) -> Poison:
        """One message that can never be applied: alternately bytes that are no envelope, and
        an envelope of a type no contract names (a newer producer's, in a rolling upgrade)."""
        key = f"{POISON_KEY_PREFIX.decode()}{uuid.uuid4().hex[:8]}"
        why = "invalid envelope" if len(self.poison) % 2 == 0 else "unknown message type"
        poison = Poison(topic, key, why)
        self.poison.append(poison)
        return poison

    async def _send(self, poison: Poison) -> None:
        headers: list[tuple[str, bytes]] = []
        value = b"\x00 not an envelope"
        if poison.why == "unknown message type":
            envelope = Envelope.model_validate(
                {
                    "event_id": str(uuid.uuid4()),
                    "type": UNKNOWN_TYPE,
                    "occurred_at": "2026-12-06T00:00:00Z",
                    "source": "chaos",
                    "correlation_id": poison.key,
                }
            )
            value, headers = envelope.to_bytes(), [("keel-type", UNKNOWN_TYPE.encode())]
        async with self._producer() as producer:
            await producer.send_and_wait(
                poison.topic, value, key=poison.key.encode(), headers=headers
            )

    @contextlib.asynccontextmanager
    async def _producer(self) -> AsyncIterator[AIOKafkaProducer]:
        producer = create_producer(self.config.kafka, "keel-chaos")
        try:
            await producer.start()
            yield producer
        finally:
            await producer.stop()  # also after a failed start: it holds a connection
