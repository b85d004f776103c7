"""What a partner's signature costs the order intake, against a staff token, on the running stack.

Sends rounds of batch requests (`--batch` orders each, `--concurrency` in flight) to
`POST /v1/orders/batch`, alternately signed by the orders' channel (Standard Webhooks: HMAC, the
partner's secrets read, its webhook-id taken and its answer kept) and sent with an operations
person's bearer token (an EdDSA signature checked). Interleaving the two, round after round,
keeps the machine's drift out of the comparison.

    ./keel up --database postgres
    .venv/bin/python -m bench.intake_auth [--rounds 4] [--requests 100]

Prints the machine, then requests/s and request latency percentiles per way; asserts nothing
about time. Only the intake is measured: the orders go on through the pipeline afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from keel_cli import stack
from keel_cli.bench_load import order_body, order_client, seed_stock
from keel_cli.demo import catalog
from keel_cli.demo.shoppers import CHANNELS
from keel_cli.machine import describe
from keel_cli.people import OPERATIONS, Staff
from keel_kit.stats import percentile


async def one_round(
    clients: Mapping[str, httpx.AsyncClient],
    tag: str,
    items: list[catalog.Item],
    args: argparse.Namespace,
) -> dict[str, float]:
    """`args.requests` batch requests, each through the client of its orders' channel."""
    body = order_body(tag, items, args.batch)
    limit = asyncio.Semaphore(args.concurrency)
    latencies: list[float] = []

    async def send(n: int) -> None:
        async with limit:
            orders = [body(n * args.batch + i) for i in range(args.batch)]
            keyed = [{"idempotency_key": o["external_id"], "order": o} for o in orders]
            started = time.perf_counter()
            response = await clients[orders[0]["channel"]].post(
                "/v1/orders/batch", json={"orders": keyed}
            )
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{response.status_code}: {response.text[:300]}")

    started = time.perf_counter()
    await asyncio.gather(*(send(n) for n in range(args.requests)))
    elapsed = time.perf_counter() - started
    return {
        "requests_per_s": round(args.requests / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50) or 0.0, 1),
        "p99_ms": round(percentile(latencies, 0.99) or 0.0, 1),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    state_dir = stack.default_state_dir()
    items = await seed_stock(10, state_dir)
    results: dict[str, list[dict[str, float]]] = {"signed by the channel": [], "staff token": []}
    async with Staff(order_client, state_dir) as staff:
        signed = {c: await staff.partner("channel", c, "order") for c in CHANNELS}
        token = staff.client(OPERATIONS, "order")
        ways = {"signed by the channel": signed, "staff token": {c: token for c in CHANNELS}}
        tag = f"auth-{int(time.time())}"
        for n in range(args.rounds):
            # Alternate which goes first, so neither always meets a warmer machine.
            order = list(ways) if n % 2 == 0 else list(reversed(ways))
            for way in order:
                result = await one_round(ways[way], f"{tag}-{n}-{way[:6]}", items, args)
                results[way].append(result)
    return {
        "machine": describe(),
        "at": datetime.now(UTC).isoformat(),
        "batch": args.batch,
        "concurrency": args.concurrency,
        "requests_per_round": args.requests,
        "rounds": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=8)
    print(json.dumps(asyncio.run(run(parser.parse_args())), indent=2))


if __name__ == "__main__":
    main()
