"""Throughput of the service kit: outbox → relay → Kafka → batch consumer → inbox.

Runs the real inventory and finance services as processes on PostgreSQL, writes N
`stock.received` events straight into inventory's outbox in one transaction, and times how long
the relay takes to empty the outbox and finance takes to apply every event (its receipt posting
and inbox row included). Two layouts: one key (one partition) and distinct keys (all partitions).

    python -m bench.kit_throughput [--messages 20000]     (from the repository root)

Kafka and PostgreSQL come from KEEL_KAFKA_BOOTSTRAP_SERVERS / KEEL_TEST_POSTGRES_URL, or are
started locally on the test ports. Prints the machine; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx

from keel_cli.machine import cpu_seconds, describe
from keel_cli.runtime import kafka, postgres, processes
from keel_contracts import Envelope, new_event_id
from keel_contracts.events import StockReceived
from keel_contracts.values import Money

ROOT = Path(__file__).resolve().parents[1]
STATE = ROOT / ".keel" / "bench"
INFRA_STATE = ROOT / ".keel" / "test"  # the broker and database the test session uses
PORTS = {"inventory": 18102, "finance": 18106}


def infrastructure() -> tuple[str, str]:
    bootstrap = os.environ.get("KEEL_KAFKA_BOOTSTRAP_SERVERS")
    server = os.environ.get("KEEL_TEST_POSTGRES_URL")
    if bootstrap and server:
        return bootstrap, server.replace("postgresql+asyncpg://", "postgresql://")
    kafka.ensure_installed(INFRA_STATE)
    kafka.start(INFRA_STATE, port=19092, controller_port=19093)
    postgres.ensure_installed()
    postgres.start(INFRA_STATE, port=15432)
    return kafka.bootstrap(19092), "postgresql://keel:keel@127.0.0.1:15432"


def start(service: str, database: str, bootstrap: str) -> int:
    prefix = f"KEEL_{service.upper()}_"
    env = {
        **os.environ,
        "KEEL_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        f"{prefix}DATABASE_URL": database.replace("postgresql://", "postgresql+asyncpg://"),
        f"{prefix}PORT": str(PORTS[service]),
        "KEEL_STATE_DIR": str(STATE / "data"),
    }
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        f"keel_{service}.main:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(PORTS[service]),
        "--no-access-log",
    ]
    return processes.start_detached(f"bench-{service}", argv, state_dir=STATE, env=env)


def wait_ready(service: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            url = f"http://127.0.0.1:{PORTS[service]}/health/ready"
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(
        f"{service} not ready:\n{processes.log_tail('bench-' + service, state_dir=STATE)}"
    )


def receipts(count: int, keys: int) -> list[tuple[str, str, str, bytes, str]]:
    rows = []
    for i in range(count):
        sku = f"BENCH-{i % keys}"
        envelope = Envelope.wrap(
            StockReceived(
                movement_id=str(new_event_id()),
                sku=sku,
                location_id="WH-1",
                quantity=1,
                unit_cost=Money(amount="1.00", currency="USD"),
                reference="bench",
            ),
            source="inventory",
            correlation_id=sku,
        )
        headers = json.dumps({"content-type": "application/json", "keel-type": envelope.type})
        rows.append((sku, str(envelope.event_id), envelope.type, envelope.to_bytes(), headers))
    return rows


async def run_layout(inventory_db: str, finance_db: str, count: int, keys: int) -> dict[str, float]:
    rows = receipts(count, keys)
    inventory = await asyncpg.connect(inventory_db)
    finance = await asyncpg.connect(finance_db)
    try:
        applied_before = await finance.fetchval("SELECT count(*) FROM inbox")
        async with inventory.transaction():
            await inventory.executemany(
                "INSERT INTO outbox (topic, key, event_id, type, body, headers, created_at) "
                "VALUES ('inventory.stock.v1', $1, $2, $3, $4, $5::json, now())",
                rows,
            )
        started = time.perf_counter()
        relayed_at = applied_at = None
        while applied_at is None:
            await asyncio.sleep(0.05)
            now = time.perf_counter()
            if relayed_at is None and await inventory.fetchval("SELECT count(*) FROM outbox") == 0:
                relayed_at = now
            if await finance.fetchval("SELECT count(*) FROM inbox") - applied_before >= count:
                applied_at = now
            if now - started > 600:
                raise TimeoutError("events not applied within 10 minutes")
        relayed_at = relayed_at or applied_at
    finally:
        await inventory.close()
        await finance.close()
    return {
        "messages": count,
        "relay_seconds": round(relayed_at - started, 3),
        "relay_per_second": round(count / (relayed_at - started)),
        "end_to_end_seconds": round(applied_at - started, 3),
        "end_to_end_per_second": round(count / (applied_at - started)),
    }


async def create_databases(server: str, names: list[str]) -> None:
    connection = await asyncpg.connect(f"{server}/postgres")
    try:
        for name in names:
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    args = parser.parse_args()

    bootstrap, server = infrastructure()
    tag = f"bench_{uuid.uuid4().hex[:6]}"
    names = {s: f"{tag}_{s}" for s in PORTS}
    asyncio.run(create_databases(server, list(names.values())))
    pids = {s: start(s, f"{server}/{names[s]}", bootstrap) for s in PORTS}
    results: dict[str, object] = {"machine": describe(), "at": datetime.now(UTC).isoformat()}
    try:
        for service in PORTS:
            wait_ready(service)
        cpu_before = {s: cpu_seconds(p) for s, p in pids.items()}
        for label, keys in (("one partition", 1), ("all partitions", 10_000)):
            results[label] = asyncio.run(
                run_layout(
                    f"{server}/{names['inventory']}",
                    f"{server}/{names['finance']}",
                    args.messages,
                    keys,
                )
            )
        results["cpu_seconds"] = {
            s: round(cpu_seconds(p) - cpu_before[s], 1) for s, p in pids.items()
        }
    finally:
        for service in PORTS:
            processes.stop(f"bench-{service}", state_dir=STATE)
    print(json.dumps(results, indent=2))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"kit-throughput-{int(time.time())}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
