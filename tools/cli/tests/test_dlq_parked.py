"""`keel dlq list` shows the services' parked outbox rows beside the dead letters, and
`keel dlq replay-parked` replays them, as admin; the services are faked at the HTTP level."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from typer.testing import CliRunner

from keel_cli import dlq, stack
from keel_cli.main import app
from keel_cli.people import ADMIN
from keel_kit.dead_letters import DeadLetter

pytestmark = pytest.mark.unit


@dataclass
class FakeServices:
    """Each service's parked rows, served a page of `page_size` at a time; `down` do not answer."""

    parked: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    down: set[str] = field(default_factory=set)
    page_size: int = 2
    next_outbox_id: int = 1000
    callers: set[tuple[str, str]] = field(default_factory=set)  # (sub, role) of each request

    def park(self, service: str, parked_id: int) -> None:
        self.parked.setdefault(service, []).append(
            {
                "id": parked_id,
                "topic": "inventory.stock.v1",
                "key": f"SKU-{parked_id}",
                "event_id": f"event-{parked_id}",
                "type": "stock.received",
                "reason": "[Error 10] MessageSizeTooLargeError",
                "size": 2_000_000,
                "headers": {},
                "created_at": "2026-12-06T10:00:00Z",
                "parked_at": "2026-12-06T10:00:01Z",
            }
        )

    def handle(self, request: httpx.Request) -> httpx.Response:
        service = next(s for s, port in stack.PORTS.items() if port == request.url.port)
        if service in self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if "Authorization" not in request.headers:
            return httpx.Response(401, json={"title": "Unauthenticated", "status": 401})
        token = request.headers["Authorization"].removeprefix("Bearer ")
        claims = jwt.decode(token, options={"verify_signature": False})
        self.callers.add((claims["sub"], claims["role"]))
        rows = self.parked.get(service, [])
        if request.method == "GET":
            after = int(request.url.params.get("cursor", 0))
            page = [row for row in rows if row["id"] > after][: self.page_size]
            more = len(page) == self.page_size
            return httpx.Response(
                200, json={"items": page, "next_cursor": str(page[-1]["id"]) if more else None}
            )
        parked_id = int(request.url.path.split("/")[-2])
        row = next((row for row in rows if row["id"] == parked_id), None)
        if row is None:
            return httpx.Response(404, json={"title": "Not found", "status": 404})
        rows.remove(row)
        self.next_outbox_id += 1
        return httpx.Response(200, json={"parked_id": parked_id, "outbox_id": self.next_outbox_id})

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle))


@pytest.fixture
def services(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeServices:
    monkeypatch.setenv("KEEL_STATE_DIR", str(tmp_path / "state"))  # where the tokens are signed
    fake = FakeServices()
    real_read, real_replay = dlq.read_parked, dlq.replay_parked

    async def no_dead_letters(bootstrap: str, group: str) -> list[DeadLetter]:
        return []

    monkeypatch.setattr(dlq, "read_all", no_dead_letters)
    monkeypatch.setattr(
        dlq,
        "read_parked",
        lambda urls, *, headers: real_read(urls, headers=headers, client=fake.client()),
    )
    monkeypatch.setattr(
        dlq,
        "replay_parked",
        lambda service, url, ids, *, headers: real_replay(
            service, url, ids, headers=headers, client=fake.client()
        ),
    )
    return fake


def test_listing_reads_every_page_and_notes_a_service_that_does_not_answer(
    services: FakeServices,
) -> None:
    for parked_id in (1, 2, 3):
        services.park("inventory", parked_id)
    services.down.add("order")

    urls = {s: stack.url(s) for s in ("inventory", "order", "finance")}
    listing = dlq.read_parked(urls, headers=ADMIN.headers())

    assert [(row.service, row.id) for row in listing.rows] == [("inventory", n) for n in (1, 2, 3)]
    assert listing.unreachable == {"order": "not answering (ConnectError)"}


def test_dlq_list_json_carries_parked_rows_and_keeps_notes_off_stdout(
    services: FakeServices,
) -> None:
    services.park("inventory", 7)
    services.down.add("finance")

    result = CliRunner().invoke(app, ["dlq", "list", "--json"])

    assert result.exit_code == 0, result.output
    (entry,) = json.loads(result.stdout)
    assert entry["kind"] == "parked"
    assert (entry["service"], entry["id"], entry["key"]) == ("inventory", 7, "SKU-7")
    assert "MessageSizeTooLargeError" in entry["error"]
    assert "finance not answering" in " ".join(result.stderr.split())


def test_dlq_list_of_one_group_asks_only_its_service(services: FakeServices) -> None:
    services.park("inventory", 1)
    services.park("finance", 2)

    result = CliRunner().invoke(app, ["dlq", "list", "finance-service", "--json"])

    assert [entry["service"] for entry in json.loads(result.stdout)] == ["finance"]
    assert services.callers == {(ADMIN.name, "admin")}


def test_replay_parked_without_ids_replays_every_parked_row(services: FakeServices) -> None:
    for parked_id in (4, 5, 6):
        services.park("inventory", parked_id)

    result = CliRunner().invoke(app, ["dlq", "replay-parked", "inventory"])

    assert result.exit_code == 0, result.output
    assert "3 parked row(s) replayed" in result.stdout
    assert services.parked["inventory"] == []
    assert services.callers == {(ADMIN.name, "admin")}  # no other role may replay


def test_replay_parked_of_an_id_not_parked_fails_naming_it(services: FakeServices) -> None:
    services.park("inventory", 4)

    result = CliRunner().invoke(app, ["dlq", "replay-parked", "inventory", "--id", "9"])

    assert result.exit_code == 2
    assert "inventory has no parked row 9" in " ".join(result.stdout.split())
    assert len(services.parked["inventory"]) == 1


def test_replay_parked_on_a_service_that_is_down_fails_clearly(services: FakeServices) -> None:
    services.down.add("returns")

    result = CliRunner().invoke(app, ["dlq", "replay-parked", "returns"])

    assert result.exit_code == 1
    assert "returns not answering (ConnectError)" in " ".join(result.stdout.split())
