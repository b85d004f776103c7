"""Runs the demo day: seed, shop, fulfil, report."""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from keel_cli import stack
from keel_cli.demo import catalog, governance, procure, report, shoppers, warehouses
from keel_cli.demo import returns as customer_returns
from keel_cli.demo.patience import RetryAfterTransport
from keel_cli.people import (
    APPROVERS,
    BUYER,
    CONTROLLER,
    LEADERSHIP,
    OPERATIONS,
    ORDER_DESK,
    WAREHOUSE,
    Staff,
)

RETURN_SHARE = 0.1  # of delivered orders
WRITE_OFFS_ACCOUNT = "5800"
SHRINKAGE_ACCOUNT = "5810"


async def run_day(orders: int, skus: int, seed: int, console: Console) -> report.Report:
    rng = random.Random(seed)
    run = f"D{int(time.time()) % 100000:05d}"
    started = datetime.now(UTC)  # the report's revenue and margins count from here
    async with Staff(_client) as staff:
        # Who does what: the people in `keel_cli.people`, each at the services they use.
        desk = staff.client(ORDER_DESK, "order")  # customers' cancellations, order lookups
        shipping = staff.client(WAREHOUSE, "fulfillment")  # looks up shipments
        buyer = staff.client(BUYER, "procurement")
        items = catalog.items(run, skus, rng)
        with console.status(f"seeding {skus} SKUs, suppliers and sales history"):
            holdings = await catalog.seed(
                staff.client(OPERATIONS, "inventory"),
                staff.client(WAREHOUSE, "inventory"),
                items,
                rng,
            )
            replicas: dict[str, httpx.AsyncClient] = {
                s: staff.client(OPERATIONS, s) for s in catalog.ITEM_REPLICAS
            }
            await catalog.wait_until_replicated(replicas, [item.sku for item in items])
            daily_demand = orders * shoppers.UNITS_PER_ORDER / skus
            await procure.seed(buyer, holdings, daily_demand, rng)
            # The channels place their orders and the warehouses' systems report their
            # shipments themselves, each signing its requests.
            channels = {c: await staff.partner("channel", c, "order") for c in shoppers.CHANNELS}
            systems = {
                w: await staff.partner("warehouse", w, "fulfillment")
                for w, *_ in catalog.WAREHOUSES
            }
            await governance.cap_marketplace(staff.client(OPERATIONS, "inventory"))
            governed = await governance.receive_lots(staff.client(WAREHOUSE, "inventory"), items)
        units = sum(h.quantity for h in holdings)
        console.print(f"catalog {run}: {skus} SKUs, {units} units on hand")
        with _progress(console) as progress:
            placing = progress.add_task("orders placed", total=orders)
            settling = progress.add_task("orders settled", total=orders)
            placed = await shoppers.place_all(
                desk, run, orders, items, rng, lambda: progress.advance(placing), channels=channels
            )
            statuses = await warehouses.drive(
                desk,
                shipping,
                placed,
                lambda n: progress.advance(settling, n),
                patience=max(120.0, orders * 0.2),
                systems=systems,
            )
        with console.status("replenishing: run, approve, send, confirm, receive"):
            replenishment = await procure.replenish(
                buyer,
                staff.client(LEADERSHIP, "order"),
                approvers=[staff.client(a, "procurement") for a in APPROVERS],
                warehouse=staff.client(WAREHOUSE, "procurement"),
                inventory=staff.client(LEADERSHIP, "inventory"),
            )
        waiting = [p for p in placed if statuses[p.order_id] == "backordered"]
        with _progress(console) as progress:
            catching_up = progress.add_task("backorders", total=len(waiting))
            statuses |= await warehouses.drive(
                desk,
                shipping,
                waiting,
                lambda n: progress.advance(catching_up, n),
                patience=max(60.0, len(waiting) * 0.5),
                settled=warehouses.SETTLED - {"backordered"},
                systems=systems,
            )
        delivered = [order_id for order_id, status in statuses.items() if status == "delivered"]
        coming_back = round(len(delivered) * RETURN_SHARE)
        with _progress(console) as progress:
            returning = progress.add_task("returns settled", total=coming_back)
            await customer_returns.take_back(
                staff.client(ORDER_DESK, "returns"),
                desk,
                staff.client(ORDER_DESK, "fulfillment"),
                delivered,
                RETURN_SHARE,
                rng,
                lambda: progress.advance(returning),
                warehouse=staff.client(WAREHOUSE, "returns"),
                finance=staff.client(CONTROLLER, "returns"),
                patience=120.0,
            )
        with console.status("transfer, cycle count and approval"):
            governed = await governance.close_the_day(
                governed,
                operations=staff.client(OPERATIONS, "inventory"),
                warehouse=staff.client(WAREHOUSE, "inventory"),
                reader=staff.client(LEADERSHIP, "inventory"),
                items=items,
                channels=shoppers.CHANNELS,
            )
        # Leadership reads everything, finance's books included.
        return await report.build(
            report.Clients(
                order=staff.client(LEADERSHIP, "order"),
                inventory=staff.client(LEADERSHIP, "inventory"),
                finance=staff.client(LEADERSHIP, "finance"),
                returns=staff.client(LEADERSHIP, "returns"),
            ),
            placed,
            statuses,
            backordered=[p.order_id for p in waiting],
            replenishment=replenishment,
            governance=governed,
            since=started,
        )


def _client(service: str, headers: Mapping[str, str]) -> httpx.AsyncClient:
    """A client that drops idle connections before the service does (uvicorn closes them after
    5 s): otherwise a request after a quiet phase can go out on a connection the server is
    closing, and fail with "Server disconnected". A 503 with Retry-After (a service whose copy
    of another's data has not caught up yet) is asked again after the delay it names."""
    connections = httpx.AsyncHTTPTransport(limits=httpx.Limits(keepalive_expiry=2.0))
    return httpx.AsyncClient(
        base_url=stack.url(service),
        headers=headers,
        timeout=httpx.Timeout(30.0),
        transport=RetryAfterTransport(connections),
    )


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description:<16}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def render(result: report.Report, console: Console) -> None:
    table = Table("status", "orders", title=f"{result.orders} orders")
    for status, count in result.by_status.most_common():
        table.add_row(status, str(count))
    console.print(table)
    tb = result.trial_balance
    console.print(
        f"oversold units: {result.oversold_units}    "
        f"ledger equals balances: {result.ledger_matches_balances}\n"
        f"order cycle time (placed to delivered): p50 {_seconds(result.cycle_p50_s)}, "
        f"p95 {_seconds(result.cycle_p95_s)}\n"
        f"backorder rate: {result.backorder_rate:.1%}    fill rate (units shipped / ordered): "
        f"{_share(result.fill_rate)}\n"
        f"backorders resolved by receipts: {result.backorders_resolved} of {result.backorders}\n"
        f"trial balance: {_per_currency(tb, 'debits')} debits, "
        f"{_per_currency(tb, 'credits')} credits; balanced: {tb['balanced']}"
    )
    _render_replenishment(result.replenishment, console)
    _render_returns(result.returns, console)
    for account, what in ((WRITE_OFFS_ACCOUNT, "write-offs"), (SHRINKAGE_ACCOUNT, "shrinkage")):
        debits = [
            f"{a['debits']} {books['currency']}"
            for books in tb["currencies"]
            for a in books["accounts"]
            if a["account"] == account
        ]
        console.print(f"{what} (account {account}): {', '.join(debits) or 'none'}")
    _render_governance(result.governance, console)
    rec = result.reconciliation
    console.print(
        f"inventory reconciliation: journal {rec.get('account_balance')} "
        f"valuation {rec.get('valuation_total')}, {rec.get('skus_compared')} SKUs compared, "
        f"{rec.get('skus_mismatched')} mismatched; matches: {rec.get('matches')}"
    )
    if result.channels:
        channels = Table(
            "channel",
            "currency",
            "revenue",
            "cost of goods",
            "margin",
            "margin %",
            title="this run",
        )
        for c in result.channels:
            channels.add_row(
                c["channel"],
                c["currency"],
                c["revenue"],
                c["cost_of_goods"],
                c["margin"],
                c["margin_percent"],
            )
        console.print(channels)


def _per_currency(trial_balance: dict[str, Any], total: str) -> str:
    """One of the trial balance's totals in each currency it has books in ("none" before any)."""
    books = trial_balance["currencies"]
    return ", ".join(f"{b[total]} {b['currency']}" for b in books) or "none"


def _render_replenishment(result: procure.Replenishment, console: Console) -> None:
    console.print(
        f"replenishment: {result.suggestions} suggestions, {result.purchase_orders} purchase "
        f"orders, {result.units_ordered} units ordered, {result.units_received} received "
        f"(supplier fill rate {_share(result.supplier_fill_rate)}); "
        f"{result.delayed_purchase_orders} delayed, raising "
        f"{result.supplier_delay_exceptions} supplier_delay exceptions"
    )
    suppliers = Table(
        "supplier",
        "stated lead time",
        "measured lead time (mean ± spread)",
        "on time",
        "fill rate",
        title="what procurement learnt of its suppliers",
    )
    for s in result.suppliers:
        suppliers.add_row(
            s["supplier_id"],
            f"{s['lead_time_days']} d",
            f"{_or_na(s['measured_lead_time_days'])} ± {_or_na(s['lead_time_spread_days'])} d",
            _or_na(s["on_time_rate"]),
            _or_na(s["fill_rate"]),
        )
    console.print(suppliers)
    promise = result.late_promise
    if promise:
        inbound = [s for s in promise["sources"] if s["kind"] == "purchase_order"]
        counted_on = "; ".join(
            f"{s['quantity']} on {s['purchase_order_id']} from {s['supplier_id']} expected "
            f"{s['expected_date']} (on time {_or_na(s['on_time_rate'])})"
            for s in inbound
        )
        console.print(
            f"available to promise, {promise['quantity']} x {promise['sku']} while the late "
            f"supplier's goods were on order: {_or_na(promise['date'])} at confidence "
            f"{promise['confidence']}, counting on {counted_on or 'stock alone'}"
        )


def _render_returns(summary: dict[str, Any], console: Console) -> None:
    if not summary:
        console.print("returns: no summary")
        return
    returns, refunds, processing = summary["returns"], summary["refunds"], summary["processing"]
    received_to_paid = processing["receipt_to_refund_seconds"]
    by_status = ", ".join(f"{k} {v}" for k, v in returns["by_status"].items() if v)
    console.print(
        f"returns: {returns['total']} ({by_status}); units graded "
        f"{', '.join(f'{g} {n}' for g, n in summary['units_by_grade'].items())} "
        f"(D is written off)\n"
        f"refunds issued: {refunds['issued']}, paid {_money(refunds['refunded'])} of "
        f"{_money(refunds['requested'])} requested (short {_money(refunds['shortfall'])}); "
        f"awaiting approval {refunds['awaiting_approval']}\n"
        f"return processing (received to refund paid): p50 {_seconds(received_to_paid['p50'])}, "
        f"p95 {_seconds(received_to_paid['p95'])}"
    )


def _render_governance(governed: governance.Governance, console: Console) -> None:
    count = governed.count
    adjusted = ", ".join(
        f"{a['sku']} {a['quantity']:+d} ({a['status']})" for a in count.get("adjustments", [])
    )
    approved = ", ".join(f"{a['sku']} by {a['decided_by']}" for a in governed.approved)
    transfer = governed.transfer
    recall = governed.recall
    by_channel = ", ".join(f"{c} {n}" for c, n in governed.available_by_channel.items())
    console.print(
        f"inventory accuracy (counted lines within tolerance): {_share(governed.accuracy)}; "
        f"adjustments {adjusted or 'none'}; approved {approved or 'none'}\n"
        f"available to sell per channel ({governance.CAPPED_CHANNEL} capped at "
        f"{governance.CAP_PERCENT}%): {by_channel}\n"
        f"units in transit: {governed.in_transit}"
        + (
            f" (transfer of {transfer['quantity']} {transfer['sku']}: {transfer['received']} "
            f"received, a transfer_discrepancy for operations)"
            if transfer
            else ""
        )
    )
    if recall:
        shipped = sum(o["quantity"] for o in recall["orders"])
        console.print(
            f"recall of lot {recall['lot']} ({recall['sku']}, expires {recall['expires_on']}): "
            f"shipped to {len({o['order_id'] for o in recall['orders']})} orders ({shipped} "
            f"units), {recall['on_hand']} units on hand"
        )


def _money(amounts: list[dict[str, str]]) -> str:
    return " + ".join(f"{a['amount']} {a['currency']}" for a in amounts) or "0.00"


def _or_na(value: object) -> str:
    return "n/a" if value is None else str(value)


def _seconds(value: float | None) -> str:
    return f"{value:.1f}s" if value is not None else "n/a"


def _share(value: float | None) -> str:
    return f"{value:.1%}" if value is not None else "n/a"
