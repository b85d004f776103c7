"""Request rate, errors and duration per route, with the request's trace id as an exemplar.

Routes are labelled by their template (`/v1/orders/{order_id}`), never the raw path, so the
label set stays as small as the API; a path no route matched counts as `unmatched`.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from keel_kit import telemetry
from keel_kit.access import Permissions
from keel_kit.metrics import KitMetrics

UNMATCHED = "unmatched"
# Any other method a client makes up is counted as `other`, so it cannot grow the label set.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Prometheus scrapes itself and the probes call often; counting them would drown the API.
_NOT_COUNTED = ("/metrics", "/health/")


class HttpMetrics:
    """ASGI middleware; inside the tracing middleware, so the request's span is current."""

    def __init__(self, app: ASGIApp, *, metrics: KitMetrics, permissions: Permissions) -> None:
        self.app = app
        self.metrics = metrics
        self.permissions = permissions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(_NOT_COUNTED):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client sees when the app raises before answering

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            self._record(scope, status, time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        method = scope["method"] if scope["method"] in METHODS else "other"
        route = self._route_template(scope)
        self.metrics.http_requests.labels(method=method, route=route, status=str(status)).inc()
        self.metrics.http_duration.labels(method=method, route=route).observe(
            seconds, exemplar=telemetry.exemplar()
        )

    def _route_template(self, scope: Scope) -> str:
        """The template of the route the request was for. The router writes the route it
        matched into the scope it was given, ours; a request refused before routing (an unknown
        caller, a body too large) is matched as the guard matched it, by the permission table."""
        routed = getattr(scope.get("route"), "path", None)
        if routed is not None:
            return str(routed)
        return self.permissions.template(scope["method"], scope["path"]) or UNMATCHED
