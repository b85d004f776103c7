"""`keel audit verify` reads each chain a page at a time and judges it itself."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from keel_cli.audit import verify_chain
from keel_kit.audit import GENESIS, entry_hash

pytestmark = pytest.mark.unit


def chain(length: int) -> list[dict[str, Any]]:
    entries, prev = [], GENESIS
    for seq in range(1, length + 1):
        fields: dict[str, Any] = {
            "seq": seq,
            "at": f"2026-12-06T10:00:0{seq}.000000Z",
            "actor": "fay",
            "role": "finance",
            "action": "refund.approved",
            "object_type": "refund",
            "object_id": f"RF-{seq}",
            "owner_role": "finance",
            "before": None,
            "after": '{"status":"approved"}',
            "reason": None,
            "request_id": f"req-{seq}",
            "trace_id": None,
            "prev_hash": prev,
        }
        fields["hash"] = prev = entry_hash(fields)
        entries.append(fields)
    return entries


def serving(entries: list[dict[str, Any]], page: int = 2) -> httpx.Client:
    head = {"seq": entries[-1]["seq"], "hash": entries[-1]["hash"]} if entries else {}

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/audit/chain"
        after = int(request.url.params.get("cursor", 0))
        found = [e for e in entries if e["seq"] > after][:page]
        more = len(found) == page and found[-1]["seq"] < entries[-1]["seq"]
        next_cursor = str(found[-1]["seq"]) if more else None
        return httpx.Response(
            200, json={"head": head, "entries": found, "next_cursor": next_cursor}
        )

    return httpx.Client(transport=httpx.MockTransport(answer))


def test_a_whole_chain_read_over_several_pages_holds() -> None:
    with serving(chain(5)) as http:
        verdict = verify_chain(http, "returns", "http://returns")
    assert verdict.ok
    assert verdict.entries == 5


def test_an_edited_entry_is_named() -> None:
    entries = chain(5)
    entries[2]["after"] = '{"status":"approved","amount":"9999.00"}'
    with serving(entries) as http:
        verdict = verify_chain(http, "returns", "http://returns")
    assert not verdict.ok
    assert verdict.broken_at == 3
    assert "edited" in (verdict.problem or "")


def test_a_service_that_refuses_is_reported_not_judged() -> None:
    refusing = httpx.Client(transport=httpx.MockTransport(lambda _: httpx.Response(401)))
    with refusing as http:
        verdict = verify_chain(http, "order", "http://order")
    assert not verdict.ok
    assert verdict.broken_at is None
    assert "401" in (verdict.problem or "")
