"""Runs the demo day: seed, shop, fulfil, report."""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from keel_cli import stack
from keel_cli.demo import catalog, report, shoppers, warehouses


async def run_day(orders: int, skus: int, seed: int, console: Console) -> report.Report:
    rng = random.Random(seed)
    run = f"D{int(time.time()) % 100000:05d}"
    started = datetime.now(UTC)  # the report's revenue and margins count from here
    timeout = httpx.Timeout(30.0)
    async with (
        httpx.AsyncClient(base_url=stack.url("inventory"), timeout=timeout) as inventory,
        httpx.AsyncClient(base_url=stack.url("order"), timeout=timeout) as order,
        httpx.AsyncClient(base_url=stack.url("fulfillment"), timeout=timeout) as fulfillment,
        httpx.AsyncClient(base_url=stack.url("finance"), timeout=timeout) as finance,
    ):
        items = catalog.items(run, skus, rng)
        with console.status(f"seeding {skus} SKUs in {len(catalog.WAREHOUSES)} warehouses"):
            units = await catalog.seed(inventory, items, rng)
            await catalog.wait_until_known(order, [item.sku for item in items])
        console.print(f"catalog {run}: {skus} SKUs, {units} units on hand")
        with Progress(
            TextColumn("{task.description:<16}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            placing = progress.add_task("orders placed", total=orders)
            settling = progress.add_task("orders settled", total=orders)
            placed_task = asyncio.create_task(
                shoppers.place_all(
                    order, run, orders, items, rng, lambda: progress.advance(placing)
                )
            )
            placed = await placed_task
            statuses = await warehouses.drive(
                order,
                fulfillment,
                placed,
                lambda n: progress.advance(settling, n),
                patience=max(120.0, orders * 0.2),
            )
        return await report.build(order, inventory, finance, placed, statuses, since=started)


def render(result: report.Report, console: Console) -> None:
    table = Table("status", "orders", title=f"{result.orders} orders")
    for status, count in result.by_status.most_common():
        table.add_row(status, str(count))
    console.print(table)
    p50 = f"{result.cycle_p50_s:.1f}s" if result.cycle_p50_s is not None else "n/a"
    p95 = f"{result.cycle_p95_s:.1f}s" if result.cycle_p95_s is not None else "n/a"
    tb = result.trial_balance
    console.print(
        f"oversold units: {result.oversold_units}    "
        f"ledger equals balances: {result.ledger_matches_balances}\n"
        f"order cycle time (placed to delivered): p50 {p50}, p95 {p95}\n"
        f"backorder rate: {result.backorder_rate:.1%}\n"
        f"trial balance: debits {tb['debits']} credits {tb['credits']} "
        f"balanced: {tb['balanced']}"
    )
    if result.channels:
        channels = Table(
            "channel", "revenue", "cost of goods", "margin", "margin %", title="this run"
        )
        for c in result.channels:
            channels.add_row(
                c["channel"], c["revenue"], c["cost_of_goods"], c["margin"], c["margin_percent"]
            )
        console.print(channels)
