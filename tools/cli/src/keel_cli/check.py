"""`keel check`: every cross-service invariant, recomputed now.

Each service recomputes its own invariants from its database (`GET /v1/checks`); finance
reconciles its books with inventory's stock (`GET /v1/reconciliation/inventory`); the order
service's shipped orders are matched with finance's posted sales, order by order; the broker
tells each consumer group's lag and dead letters, the services their parked outbox rows. The
check first waits (up to `quiet_timeout`) for the stack to go quiet, outboxes drained and every
group caught up, since in-flight work is not a violation. Dead letters and parked rows are
warnings: each is kept with its reason for an operator to replay, nothing is lost.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, Literal

import httpx

from keel_cli import dlq
from keel_cli.people import LEADERSHIP
from keel_contracts import SERVICES, ServiceName, consumer_group
from keel_kit.broker_lag import BrokerLag
from keel_kit.checks import OUTBOX_DRAINED
from keel_kit.kafka_access import KafkaAccess

Severity = Literal["violation", "warning"]
HTTP_TIMEOUT_SECONDS = 30.0  # a service recomputes over its whole ledger
DEAD_LETTERS_NAMED = 5
SALES_PAGE = 1000  # orders and sales asked for per request


@dataclass(frozen=True)
class Finding:
    source: str  # the service, or "kafka"
    invariant: str
    severity: Severity
    detail: str


@dataclass
class CheckReport:
    findings: list[Finding] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)  # "service: invariant", each once
    waited_seconds: float = 0.0

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "violation"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.violations

    def document(self) -> dict[str, Any]:
        """`keel check --json`."""
        return {
            "ok": self.ok,
            "waited_seconds": round(self.waited_seconds, 1),
            "checked": self.checked,
            "violations": [asdict(f) for f in self.violations],
            "warnings": [asdict(f) for f in self.warnings],
        }


def consumed_topics(service: ServiceName) -> list[str]:
    """The topics the service's consumer subscribes to (from its handlers, not the plan)."""
    module = importlib.import_module(f"keel_{service}.handlers")
    topics: list[str] = module.handlers.topics()
    return topics


async def group_lags(kafka: KafkaAccess) -> dict[tuple[ServiceName, str], int | None]:
    """(service, topic) -> messages its group has not applied (None: cannot tell)."""
    lags: dict[tuple[ServiceName, str], int | None] = {}
    for service in SERVICES:
        source = BrokerLag(kafka, consumer_group(service), timeout=10.0)
        try:
            for topic in consumed_topics(service):
                lags[(service, topic)] = await source.lag(topic)
        finally:
            await source.close()
    return lags


async def run_check(
    urls: Mapping[ServiceName, str], kafka: KafkaAccess, *, quiet_timeout: float = 60.0
) -> CheckReport:
    """Wait for quiet, then check everything; `urls` maps each service to its base URL."""
    started = time.monotonic()
    # Everything the check asks for is a read, and leadership reads everything.
    headers = LEADERSHIP.headers()
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS, headers=headers) as http:
        while True:
            reports = await _service_reports(http, urls)
            lags = await group_lags(kafka)
            if _quiet(reports, lags) or time.monotonic() - started > quiet_timeout:
                break
            await asyncio.sleep(1.0)
        report = CheckReport(waited_seconds=time.monotonic() - started)
        _add_service_reports(report, reports)
        await _add_reconciliation(report, http, urls)
        await _add_sales_cross_check(report, http, urls)
    _add_lags(report, lags)
    await _add_dead_letters(report, kafka)
    _add_parked(report, urls, headers)
    return report


async def _service_reports(
    http: httpx.AsyncClient, urls: Mapping[ServiceName, str]
) -> dict[ServiceName, dict[str, Any] | str]:
    """Each service's `/v1/checks` body, or why it could not be had."""

    async def one(base: str) -> dict[str, Any] | str:
        try:
            response = await http.get(f"{base}/v1/checks")
        except httpx.HTTPError as error:
            return f"not answering ({type(error).__name__})"
        if response.status_code != 200:
            return f"answered {response.status_code}: {response.text[:200]}"
        body: dict[str, Any] = response.json()
        return body

    answers = await asyncio.gather(*(one(base) for base in urls.values()))
    return dict(zip(urls, answers, strict=True))


def _quiet(
    reports: Mapping[ServiceName, dict[str, Any] | str], lags: Mapping[Any, int | None]
) -> bool:
    drained = all(
        isinstance(body, dict)
        and all(i["holds"] for i in body["invariants"] if i["name"] == OUTBOX_DRAINED.name)
        for body in reports.values()
    )
    return drained and all(lag == 0 for lag in lags.values())


def _add_service_reports(
    report: CheckReport, reports: Mapping[ServiceName, dict[str, Any] | str]
) -> None:
    for service, body in reports.items():
        if isinstance(body, str):
            report.findings.append(Finding(service, "the service answers", "violation", body))
            continue
        for invariant in body["invariants"]:
            report.checked.append(f"{service}: {invariant['name']}")
            shown = invariant["findings"]
            for detail in shown:
                report.findings.append(
                    Finding(service, invariant["name"], invariant["severity"], detail)
                )
            if invariant["found"] > len(shown):
                more = f"... and {invariant['found'] - len(shown)} more"
                report.findings.append(
                    Finding(service, invariant["name"], invariant["severity"], more)
                )


async def _add_reconciliation(
    report: CheckReport, http: httpx.AsyncClient, urls: Mapping[ServiceName, str]
) -> None:
    name = "finance's books match inventory's valued stock (the inventory reconciliation)"
    if "finance" not in urls:
        return
    report.checked.append(f"finance: {name}")
    try:
        response = await http.get(f"{urls['finance']}/v1/reconciliation/inventory")
        response.raise_for_status()
    except httpx.HTTPError as error:
        report.findings.append(Finding("finance", name, "violation", f"cannot reconcile: {error}"))
        return
    body = response.json()
    if body["matches"]:
        return
    detail = (
        f"account {body['account_balance']} against valuations {body['valuation_total']}; "
        f"{body['skus_mismatched']} SKU(s) differ"
    )
    report.findings.append(Finding("finance", name, "violation", detail))
    for m in body["mismatches"]:
        report.findings.append(
            Finding(
                "finance",
                name,
                "violation",
                f"{m['sku']}: finance values {m['finance_quantity']}, "
                f"inventory holds {m['inventory_quantity']}",
            )
        )


async def _add_sales_cross_check(
    report: CheckReport,
    http: httpx.AsyncClient,
    urls: Mapping[ServiceName, str],
    *,
    page: int = SALES_PAGE,
) -> None:
    """Every order the order service has shipped whole has its sale posted in finance, for the
    order's total, and finance has posted no sale the order service does not know as shipped."""
    name = "each shipped order's sale is posted in finance, for the order's total"
    if "order" not in urls or "finance" not in urls:
        return
    report.checked.append(f"finance: {name}")
    try:
        shipped = await _every_item(http, f"{urls['order']}/v1/shipped-orders", page)
        sales = await _every_item(http, f"{urls['finance']}/v1/sales", page)
    except httpx.HTTPError as error:
        report.findings.append(Finding("finance", name, "violation", f"cannot compare: {error}"))
        return
    owed = {s["order_id"]: (s["currency"], Decimal(s["amount"])) for s in sales}
    total = {o["order_id"]: (o["currency"], Decimal(o["total"])) for o in shipped}
    for order_id in sorted(total.keys() | owed.keys()):
        if order_id not in owed:
            detail = f"order {order_id} shipped, but finance posted no sale for it"
        elif order_id not in total:
            detail = f"finance posted a sale of order {order_id}, which has not shipped whole"
        elif total[order_id] != owed[order_id]:
            (currency, amount), (posted_currency, posted) = total[order_id], owed[order_id]
            detail = (
                f"order {order_id} totals {amount} {currency}, its sale owes "
                f"{posted} {posted_currency}"
            )
        else:
            continue
        report.findings.append(Finding("finance", name, "violation", detail))


async def _every_item(http: httpx.AsyncClient, url: str, page: int) -> list[dict[str, Any]]:
    """Every item of a cursor-paged list, page after page."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": page}
        if cursor is not None:
            params["cursor"] = cursor
        response = await http.get(url, params=params)
        response.raise_for_status()
        body = response.json()
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return items


def _add_lags(report: CheckReport, lags: Mapping[tuple[ServiceName, str], int | None]) -> None:
    name = "every consumer group has applied every message (once quiet)"
    report.checked.append(f"kafka: {name}")
    for (service, topic), lag in sorted(lags.items()):
        if lag:
            detail = f"{consumer_group(service)} is {lag} behind on {topic}"
        elif lag is None:
            detail = f"{consumer_group(service)}'s lag on {topic} cannot be told"
        else:
            continue
        report.findings.append(Finding("kafka", name, "violation", detail))


async def _add_dead_letters(report: CheckReport, kafka: KafkaAccess) -> None:
    name = "dead letters, kept with their reasons for replay"
    report.checked.append(f"kafka: {name}")
    for group in dlq.groups():
        letters = await dlq.read_all(kafka, group)
        for letter in letters[:DEAD_LETTERS_NAMED]:
            detail = f"{group}: {letter.original_topic} {letter.summary()['type']}: {letter.error}"
            report.findings.append(Finding("kafka", name, "warning", detail))
        if len(letters) > DEAD_LETTERS_NAMED:
            more = f"{group}: ... and {len(letters) - DEAD_LETTERS_NAMED} more"
            report.findings.append(Finding("kafka", name, "warning", more))


def _add_parked(
    report: CheckReport, urls: Mapping[ServiceName, str], headers: Mapping[str, str]
) -> None:
    name = "parked outbox rows, kept with their reasons for replay"
    report.checked.append(f"outboxes: {name}")
    bases = {str(service): base for service, base in urls.items()}
    listing = dlq.read_parked(bases, headers=headers)
    for row in listing.rows:
        detail = f"{row.service} parked {row.type} for {row.topic} (id {row.id}): {row.reason}"
        report.findings.append(Finding(row.service, name, "warning", detail))


def render(report: CheckReport, console: Any) -> None:
    """The human report: each violation and warning, then the verdict."""
    for title, findings, colour in (
        ("violations", report.violations, "red"),
        ("warnings", report.warnings, "yellow"),
    ):
        if findings:
            console.print(f"[bold {colour}]{len(findings)} {title}[/]")
        for f in findings:
            console.print(f"  [{colour}]{f.source}[/] {f.invariant}: {f.detail}")
    verdict = "[green]all invariants hold[/]" if report.ok else "[red]invariants violated[/]"
    console.print(
        f"{len(report.checked)} invariants checked after {report.waited_seconds:.0f}s "
        f"waiting for quiet: {verdict}"
    )
