"""What the machine's own parts can do, measured in the same bench run before any order: the
PostgreSQL the stack runs on (pgbench) and the Kafka broker (raw produce and consume rates).

Orders/s mean little alone: set beside these ceilings they say how much of the database's and
the broker's capacity the services turn into orders. Each ceiling works on scratch data it
removes afterwards (a database, a topic), never on the services' own.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from keel_cli.runtime import postgres
from keel_contracts import TopicSpec
from keel_kit.broker_lag import stop_groupless_consumer
from keel_kit.kafka_access import KafkaAccess
from keel_kit.relay import create_producer
from keel_kit.topic_reader import partitions_of
from keel_kit.topics import ensure_topics

PGBENCH_DATABASE = "keel_bench_pgbench"
PGBENCH_SCALE = 10  # 1 million accounts: larger than the services' tables after a bench
PGBENCH_RUN = ("-T", "10", "-c", "8", "-j", "2")  # 10 s, 8 clients, 2 threads
KAFKA_TOPIC = "keel-bench-ceiling"
KAFKA_SECONDS = 5.0
RECORD_BYTES = 600  # about an order event's envelope
PARTITIONS = 6  # as the order path's topics have
_TPS = re.compile(r"^tps = ([0-9.]+)", re.MULTILINE)


async def measure(
    *, database: str, postgres_port: int, kafka: KafkaAccess, say: Callable[[str], None]
) -> dict[str, Any]:
    """Both ceilings, each said as soon as it is measured; a ceiling that could not be
    measured says why instead of stopping the bench."""
    if database != "postgres":
        pg: dict[str, Any] = {"tps": None, "not_applicable": f"the stack runs on {database}"}
    else:
        say("ceiling: pgbench on the stack's PostgreSQL (about 30 s)")
        pg = {"tps": None, **await _guarded(pgbench(postgres_port))}
    say(f"ceiling: PostgreSQL {describe_postgres(pg)}")
    say(f"ceiling: raw Kafka produce and consume ({KAFKA_SECONDS:.0f} s)")
    broker = await _guarded(kafka_rates(kafka))
    say(f"ceiling: Kafka {describe_kafka(broker)}")
    return {"postgres": pg, "kafka": broker}


async def _guarded(measuring: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    try:
        return await measuring
    except Exception as error:  # a missing ceiling is reported, the orders still run
        return {"error": f"{type(error).__name__}: {error}"}


def describe_postgres(ceiling: dict[str, Any]) -> str:
    if "not_applicable" in ceiling:
        return f"ceiling not applicable: {ceiling['not_applicable']}"
    if ceiling.get("tps") is None:
        return f"not measured: {ceiling.get('error', 'no tps line in pgbench output')}"
    return f"{ceiling['tps']:,.0f} transactions/s ({ceiling['workload']})"


def describe_kafka(ceiling: dict[str, Any]) -> str:
    if "error" in ceiling:
        return f"not measured: {ceiling['error']}"
    produce, consume = ceiling["produce_per_s"], ceiling["consume_per_s"]
    consumed = "-" if consume is None else f"{consume:,.0f}"
    return f"produce {produce:,.0f} msg/s, consume {consumed} msg/s ({ceiling['workload']})"


def pgbench_tps(output: str) -> float | None:
    """The `tps = ...` figure pgbench prints at the end of a run (None: no such line)."""
    found = _TPS.search(output)
    return float(found.group(1)) if found else None


async def pgbench(port: int) -> dict[str, Any]:
    """TPC-B-like transactions/s on a scratch database of the stack's server, dropped after."""
    binary = postgres.ensure_installed() / "pgbench"  # the server's package ships it
    connection = ["-h", postgres.HOST, "-p", str(port), "-U", postgres.ROLE]
    postgres.create_database(PGBENCH_DATABASE, port=port)
    try:
        await _run([str(binary), *connection, "-i", "-q", "-s", str(PGBENCH_SCALE)])
        output = await _run([str(binary), *connection, *PGBENCH_RUN])
    finally:
        postgres.drop_database(PGBENCH_DATABASE, port=port)
    return {
        "tps": pgbench_tps(output),
        "workload": f"pgbench -s {PGBENCH_SCALE} {' '.join(PGBENCH_RUN)}",
    }


async def _run(argv: list[str]) -> str:
    process = await asyncio.create_subprocess_exec(
        *argv,
        PGBENCH_DATABASE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "PGPASSWORD": postgres.PASSWORD},
    )
    out, _ = await process.communicate()
    text = out.decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:2])} exited {process.returncode}: {text[-300:]}")
    return text


async def kafka_rates(kafka: KafkaAccess, seconds: float = KAFKA_SECONDS) -> dict[str, Any]:
    """Records/s one producer with Keel's own settings (idempotent, acks=all) writes to a
    scratch topic for `seconds`, and records/s one consumer reads them back."""
    topic = f"{KAFKA_TOPIC}-{int(time.time())}"
    # Only the layout matters to ensure_topics; the owner is a formality of the registry's type.
    spec = TopicSpec(
        name=topic, key="n", owner="order", consumers=(), messages=(), partitions=PARTITIONS
    )
    await ensure_topics(kafka, [spec])
    try:
        await _until_led(kafka, topic)
        produced, producing = await _produce(kafka, topic, seconds)
        consumed, consuming = await _consume(kafka, topic, produced + PARTITIONS)
    finally:
        await _delete_topic(kafka, topic)
    return {
        "produce_per_s": round(produced / producing, 1),
        "consume_per_s": round(consumed / consuming, 1) if consuming > 0 else None,
        "records": produced,
        "workload": f"{RECORD_BYTES}-byte records, {PARTITIONS} partitions, acks=all, idempotent",
    }


async def _until_led(kafka: KafkaAccess, topic: str, patience: float = 30.0) -> None:
    """Wait until every partition of a topic just created has a leader: a producer that
    starts before would retry its first sends and time the election, not the broker."""
    deadline = time.monotonic() + patience
    admin = AIOKafkaAdminClient(**kafka.client_options())
    await admin.start()
    try:
        while time.monotonic() < deadline:
            (description,) = await admin.describe_topics([topic])
            partitions = description["partitions"]
            if len(partitions) == PARTITIONS and all(p["leader"] >= 0 for p in partitions):
                return
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


async def _produce(kafka: KafkaAccess, topic: str, seconds: float) -> tuple[int, float]:
    producer = create_producer(kafka, client_id="keel-bench-ceiling")
    await producer.start()
    value = os.urandom(RECORD_BYTES)  # incompressible, though Keel's producer compresses not
    pending: list[asyncio.Future[Any]] = []
    sent = 0
    try:
        # One record per partition first, untimed: connections and producer ids are set up.
        warm = [await producer.send(topic, value=value, partition=p) for p in range(PARTITIONS)]
        await asyncio.gather(*warm)
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            # Keys spread the records over the partitions, as order ids do.
            pending.append(await producer.send(topic, value=value, key=str(sent % 997).encode()))
            sent += 1
            if len(pending) >= 10_000:  # bounds the memory held, the producer batches anyway
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
        return sent, time.monotonic() - started
    finally:
        await producer.stop()


async def _consume(kafka: KafkaAccess, topic: str, expected: int) -> tuple[int, float]:
    assigned = [TopicPartition(topic, p) for p in await partitions_of(kafka, topic)]
    consumer = AIOKafkaConsumer(**kafka.client_options(), enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        read = 0
        started = time.monotonic()
        deadline = started + 60
        while read < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500, max_records=10_000)
            read += sum(len(records) for records in batches.values())
        return read, time.monotonic() - started
    finally:
        await stop_groupless_consumer(consumer)


async def _delete_topic(kafka: KafkaAccess, topic: str) -> None:
    # keel_kit creates topics (ensure_topics) but never deletes one: only a scratch topic goes.
    admin = AIOKafkaAdminClient(**kafka.client_options())
    await admin.start()
    try:
        await admin.delete_topics([topic])
    finally:
        await admin.close()
