"""`keel dlq replay` asks the service that owns the group to apply its dead letters again, as
admin, with a corrected body when given; the service is faked at the HTTP level."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from typer.testing import CliRunner

from keel_cli import dlq
from keel_cli.main import app
from keel_kit.dead_letters import DeadLetter

pytestmark = pytest.mark.unit


class FakeFinance:
    """Finance's dead letters at offsets 3 and 4; the one at 4 fails again unless corrected."""

    def __init__(self) -> None:
        self.requests: list[tuple[int, Any, str]] = []  # (offset, body sent, caller's role)

    def handle(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path.startswith("/v1/dead-letters/")
        offset = int(request.url.path.split("/")[-2])
        token = request.headers["Authorization"].removeprefix("Bearer ")
        role = jwt.decode(token, options={"verify_signature": False})["role"]
        body = json.loads(request.content)["body"]
        self.requests.append((offset, body, role))
        if offset not in (3, 4):
            return httpx.Response(404, json={"title": "Not found", "status": 404})
        failed = offset == 4 and body is None
        error = "ValidationError: quantity: not a number" if failed else None
        return httpx.Response(200, json={"offset": offset, "applied": not failed, "error": error})


@pytest.fixture
def finance(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeFinance:
    monkeypatch.setenv("KEEL_STATE_DIR", str(tmp_path / "state"))  # where the tokens are signed
    fake = FakeFinance()
    real_replay = dlq.replay

    async def two_letters(bootstrap: str, group: str) -> list[DeadLetter]:
        return [DeadLetter("finance-service.dlq", 0, n, "k", b"{}", {}) for n in (3, 4)]

    monkeypatch.setattr(dlq, "read_all", two_letters)
    monkeypatch.setattr(
        dlq,
        "replay",
        lambda service, url, offsets, body, *, headers: real_replay(
            service,
            url,
            offsets,
            body,
            headers=headers,
            client=httpx.Client(transport=httpx.MockTransport(fake.handle)),
        ),
    )
    return fake


def test_replaying_every_letter_reports_each_outcome_and_fails_if_one_failed_again(
    finance: FakeFinance,
) -> None:
    result = CliRunner().invoke(app, ["dlq", "replay", "finance-service"])

    assert result.exit_code == 1, result.output
    assert "finance-service.dlq@3: applied" in result.output
    assert "quantity: not a number" in result.output
    assert "2 message(s) replayed, 1 applied" in result.output
    assert [(offset, role) for offset, _, role in finance.requests] == [(3, "admin"), (4, "admin")]


def test_a_corrected_body_goes_with_the_one_letter_named(
    finance: FakeFinance, tmp_path: Path
) -> None:
    fixed = tmp_path / "fixed.json"
    fixed.write_text('{"quantity": 5}')

    result = CliRunner().invoke(
        app, ["dlq", "replay", "finance-service", "--offset", "4", "--body", str(fixed)]
    )

    assert result.exit_code == 0, result.output
    assert finance.requests == [(4, {"quantity": 5}, "admin")]


def test_an_unknown_offset_or_group_is_refused_plainly(finance: FakeFinance) -> None:
    unknown_offset = CliRunner().invoke(app, ["dlq", "replay", "finance-service", "--offset", "9"])
    unknown_group = CliRunner().invoke(app, ["dlq", "replay", "nobody-service"])

    assert unknown_offset.exit_code == 2
    assert "no dead letter at offset 9" in unknown_offset.output
    assert unknown_group.exit_code == 2
    assert "no service's consumer group" in unknown_group.output
