"""The OpenAPI document says what the wire does: a staff token everywhere under `/v1`, a partner's
signature where partners are let in, the refusals' headers, problem documents as sent."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from keel_contracts.roles import Role
from keel_kit.access import roles, table
from keel_kit.idempotency import IdempotencyKey
from keel_kit.openapi import describe_api
from keel_kit.problems import PROBLEM_JSON, PROBLEM_RESPONSES

pytestmark = pytest.mark.unit


def documented_app() -> dict[str, Any]:
    app = FastAPI(responses=PROBLEM_RESPONSES)

    @app.post("/v1/orders", status_code=202)
    async def place(body: dict[str, str], key: IdempotencyKey = None) -> dict[str, str]:
        return body

    @app.get("/v1/orders/{order_id}")
    async def view(order_id: str) -> dict[str, str]:
        return {}

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        return {}

    describe_api(
        app,
        table(
            [
                ("POST", "/v1/orders", roles(Role.CUSTOMER_SERVICE, Role.CHANNEL)),
                ("GET", "/v1/orders/{order_id}", roles(Role.CUSTOMER_SERVICE, read=True)),
            ]
        ),
    )
    return app.openapi()


DOCUMENT = documented_app()
PLACE = DOCUMENT["paths"]["/v1/orders"]["post"]
VIEW = DOCUMENT["paths"]["/v1/orders/{order_id}"]["get"]
LIVE = DOCUMENT["paths"]["/health/live"]["get"]


def header_names(operation: dict[str, Any]) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}


def test_partners_may_sign_where_the_table_lets_them_in_and_only_there() -> None:
    assert PLACE["security"] == [{"bearer": []}, {"partner": []}]
    assert VIEW["security"] == [{"bearer": []}]
    assert {"Keel-Partner", "webhook-id", "webhook-timestamp"} <= header_names(PLACE)
    assert not header_names(VIEW)
    schemes = DOCUMENT["components"]["securitySchemes"]
    assert schemes["partner"]["name"] == "webhook-signature"


def test_the_refusals_of_the_guard_carry_their_headers() -> None:
    for operation in (PLACE, VIEW):
        responses = operation["responses"]
        assert set(responses["429"]["headers"]) == {"Retry-After"}
        assert set(responses["503"]["headers"]) == {"Retry-After"}
        assert set(responses["401"]["headers"]) == {"WWW-Authenticate"}


def test_problem_documents_are_declared_as_they_are_sent() -> None:
    for status, response in PLACE["responses"].items():
        if status[0] in "45":
            assert set(response["content"]) == {PROBLEM_JSON}, status


def test_each_operation_declares_only_the_refusals_it_can_meet() -> None:
    place, view = set(PLACE["responses"]), set(VIEW["responses"])

    assert {"413", "415", "422", "409"} <= place  # a body: too large, not JSON, invalid
    assert {"404", "422"} <= view  # a path parameter
    assert not {"413", "415"} & view  # and no body
    assert "405" not in place | view  # the method declared is the one allowed
    assert set(LIVE["responses"]) == {"200", "500", "503"}  # nothing to send, nobody to refuse
    assert "security" not in LIVE


def test_a_keyed_success_says_when_it_is_a_replay() -> None:
    assert "Idempotent-Replayed" in PLACE["responses"]["202"]["headers"]
    assert "headers" not in VIEW["responses"]["200"]
