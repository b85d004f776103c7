"""A trace started by an HTTP request continues through Kafka into the consuming service."""

import json
import secrets
from pathlib import Path

import pytest

from tests.integration.support import StartService, eventually, journal_entries, new_sku, stock

pytestmark = pytest.mark.integration


def _spans(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_one_trace_id_from_http_request_to_consumer(
    start_service: StartService, tmp_path: Path
) -> None:
    inventory_spans = tmp_path / "inventory-spans.jsonl"
    finance_spans = tmp_path / "finance-spans.jsonl"
    inventory = start_service("inventory", env={"KEEL_TRACE_FILE": str(inventory_spans)})
    finance = start_service("finance", env={"KEEL_TRACE_FILE": str(finance_spans)})
    trace_id = secrets.token_hex(16)
    traceparent = f"00-{trace_id}-{secrets.token_hex(8)}-01"

    [movement_id] = stock(
        inventory, new_sku(), {"WH-EAST": 1}, headers={"traceparent": traceparent}
    )
    eventually(lambda: journal_entries(finance, movement_id), what="finance to post")

    def consumer_span_in_trace() -> list[dict[str, object]]:
        return [
            span
            for span in _spans(finance_spans)
            if span["name"] == "inventory.stock.v1 process"
            and span["context"]["trace_id"] == f"0x{trace_id}"  # type: ignore[index]
        ]

    assert eventually(consumer_span_in_trace, timeout=30, what="finance's span in the trace")

    def inventory_names_with_publish() -> set[object] | None:
        names = {
            span["name"]
            for span in _spans(inventory_spans)
            if span["context"]["trace_id"] == f"0x{trace_id}"  # type: ignore[index]
        }
        return names if "inventory.stock.v1 publish" in names else None

    # Each service exports its spans in its own batches, a few seconds apart.
    inventory_names = eventually(
        inventory_names_with_publish, timeout=30, what="inventory's publish span in the trace"
    )
    assert any(str(name).startswith("POST /v1/receipts") for name in inventory_names)

    # Inside the trace, the statements finance's handler ran, under its span; the writes the
    # batch shares (inbox, positions, flushed rows) are in the batch's own trace, which points
    # at the message's.
    def handled_in_trace() -> tuple[set[object], list[dict[str, object]]] | None:
        in_trace = [
            span
            for span in _spans(finance_spans)
            if span["context"]["trace_id"] == f"0x{trace_id}"  # type: ignore[index]
        ]
        processing = {
            s["context"]["span_id"]  # type: ignore[index]
            for s in in_trace
            if s["name"] == "inventory.stock.v1 process"
        }
        statements = [s for s in in_trace if "db.system.name" in s["attributes"]]  # type: ignore[operator]
        return (processing, statements) if processing and statements else None

    processing, statements = eventually(handled_in_trace, timeout=30, what="finance's statements")
    assert {s["parent_id"] for s in statements} <= processing
    batches = [
        span
        for span in _spans(finance_spans)
        if str(span["name"]).endswith(" batch")
        and any(
            link["context"]["trace_id"] == f"0x{trace_id}"
            for link in span["links"]  # type: ignore[attr-defined]
        )
    ]
    assert len(batches) == 1
    batch_trace = batches[0]["context"]["trace_id"]  # type: ignore[index]
    assert batch_trace != f"0x{trace_id}"
    shared = {s["name"] for s in _spans(finance_spans) if s["context"]["trace_id"] == batch_trace}  # type: ignore[index]
    assert "INSERT inbox" in shared
