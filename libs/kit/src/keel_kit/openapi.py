"""The OpenAPI document as the wire is.

- Who may call each `/v1` operation and how: a staff bearer JWT always, and a partner's Standard
  Webhooks signature where the permission table lets a channel or a warehouse system in, with
  the headers that go with it.
- The refusals' headers: `WWW-Authenticate` on a 401, `Retry-After` on a 429 or a 503.
- Problem documents as `application/problem+json` only, as they are sent, and only the
  refusals an operation can meet: no 405 on any (its method is the one declared), no 413 or
  415 without a body, no 400, 404, 409 or 422 where nothing is named or sent, and no 401, 403
  or 429 outside `/v1` (health, metrics).
- `Idempotent-Replayed` on the success of every operation that takes an `Idempotency-Key`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from keel_contracts.roles import Role
from keel_kit.access import GUARDED_PREFIX, Permissions
from keel_kit.idempotency import REPLAYED_HEADER
from keel_kit.partners import KINDS, MAX_WEBHOOK_ID, PARTNER_HEADER
from keel_kit.problems import PROBLEM_JSON

GUARD_REFUSALS = ("401", "403", "429")
BODY_REFUSALS = ("413", "415")  # the body guard's: only a request with a body meets them
INPUT_REFUSALS = ("400", "404", "409", "422")  # of what a request names or sends

BEARER = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": (
        "A staff member's token: `keel token` on a local stack, the company's OIDC provider in "
        "production. Its role decides which operations it may use."
    ),
}
PARTNER_SIGNATURE = {
    "type": "apiKey",
    "in": "header",
    "name": "webhook-signature",
    "description": (
        "A partner (a marketplace or web store, a warehouse's system) signs each request the "
        "Standard Webhooks way instead of sending a token: `Keel-Partner` names it, "
        "`webhook-id` and `webhook-timestamp` go with the request, and `webhook-signature` is "
        '`v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{raw body}">` under one '
        "of the partner's active secrets, which admin issues (`POST /v1/channels/{channel_id}/"
        "secrets` on order, `POST /v1/warehouses/{location_id}/secrets` on fulfillment). A "
        "partner sees and changes only its own objects."
    ),
}
HEADERS = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "WWW-Authenticate": {
        "description": "The scheme a token is expected in: `Bearer`.",
        "schema": {"type": "string"},
    },
    REPLAYED_HEADER: {
        "description": "`true` when the answer is a replay of the first request with this key.",
        "schema": {"type": "string", "enum": ["true"]},
    },
}
REFUSAL_HEADERS = {"401": ("WWW-Authenticate",), "429": ("Retry-After",), "503": ("Retry-After",)}
PROBLEM = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDocument"}}}
TOO_MANY = {
    "description": "Too many requests from this principal: wait the seconds `Retry-After` says",
    "content": PROBLEM,
}


def describe_api(app: FastAPI, permissions: Permissions) -> None:
    """Make the app's document say all of the above, once, when it is first asked for."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            components = document.setdefault("components", {})
            components["securitySchemes"] = {"bearer": BEARER, "partner": PARTNER_SIGNATURE}
            components.setdefault("headers", {}).update(HEADERS)
            for path, operations in document.get("paths", {}).items():
                for method, operation in operations.items():
                    roles = permissions.routes.get((method.upper(), path), frozenset())
                    _describe(operation, guarded=path.startswith(GUARDED_PREFIX), roles=roles)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _describe(operation: dict[str, Any], *, guarded: bool, roles: frozenset[Role]) -> None:
    responses: dict[str, Any] = operation["responses"]
    for status, response in responses.items():
        if status[0] in "45" and PROBLEM_JSON in response.get("content", {}):
            response["content"] = PROBLEM  # not also as JSON, which FastAPI adds by default
    # The app declares every refusal on every route; keep those this operation can meet. A
    # 405 it never can: its own method is the one declared.
    cannot = ["405"]
    if "requestBody" not in operation:
        cannot += BODY_REFUSALS
        if not operation.get("parameters"):
            cannot += INPUT_REFUSALS
    if not guarded:
        cannot += GUARD_REFUSALS
    for status in cannot:
        responses.pop(status, None)
    if not guarded:
        return
    responses.setdefault("429", TOO_MANY)
    for status, names in REFUSAL_HEADERS.items():
        if status in responses:
            responses[status] = {**responses[status], "headers": _refs(names)}
    partners = sorted(kind for kind, role in KINDS.items() if role in roles)
    operation["security"] = [{"bearer": []}] + ([{"partner": []}] if partners else [])
    if partners:
        operation["parameters"] = operation.get("parameters", []) + _partner_headers(partners)
    parameters: list[dict[str, Any]] = operation.get("parameters", [])
    if any(p["in"] == "header" and p["name"] == "Idempotency-Key" for p in parameters):
        for status, response in responses.items():
            if status.startswith("2"):
                response["headers"] = _refs((REPLAYED_HEADER,))


def _refs(names: tuple[str, ...]) -> dict[str, Any]:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


def _partner_headers(kinds: list[str]) -> list[dict[str, Any]]:
    """The headers that go with a partner's signature (itself the `partner` security scheme);
    a staff request has none of them."""
    named = " or ".join(f"`{kind}:<id>`" for kind in kinds)
    only = "Partners only: "
    return [
        _header(
            PARTNER_HEADER.title(),
            f"{only}who signs: {named}.",
            {"type": "string", "pattern": f"^({'|'.join(kinds)}):.+$"},
        ),
        _header(
            "webhook-id",
            f"{only}this request's id, and its idempotency key: the same id and body replay "
            "the first answer, the same id with another body is a 409.",
            {"type": "string", "minLength": 1, "maxLength": MAX_WEBHOOK_ID},
        ),
        _header(
            "webhook-timestamp",
            f"{only}when it was signed, in seconds since 1970; five minutes either way at most.",
            {"type": "string", "pattern": "^[0-9]+$"},
        ),
    ]


def _header(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": False,
        "description": description,
        "schema": schema,
    }
