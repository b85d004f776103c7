"""Each service serves its AsyncAPI document and the suite's, as JSON and as a page.

The documents come from the contracts (the registry and the payload models) and the service's
own handlers, so what is served is what the service runs. The page is AsyncAPI's React viewer,
whose script and styles `./keel install` copies next to this module: served from here, so the
page works on a machine without internet.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

from keel_contracts import ServiceName
from keel_contracts.asyncapi import service_document, suite_document
from keel_kit.handlers import Handlers
from keel_kit.problems import problem

VIEWER = Path(__file__).parent / "viewer"
VIEWER_ASSETS = {"asyncapi.js": "text/javascript", "asyncapi.css": "text/css"}


def document(service: ServiceName, handlers: Handlers) -> dict[str, Any]:
    """What the service sends, by the registry, and receives: the types it has handlers for."""
    return service_document(service, [model for model, _ in handlers.by_type.values()])


def asyncapi_router(service: ServiceName, handlers: Handlers) -> APIRouter:
    """`/asyncapi.json` and `/asyncapi/suite.json`, and their pages `/asyncapi` and
    `/asyncapi/suite`. Open like `/docs`: they describe the wire, not anyone's data."""
    router = APIRouter(include_in_schema=False)

    # Built on first use, then kept: they change only with the code.
    @functools.cache
    def own() -> bytes:
        return json.dumps(document(service, handlers)).encode()

    @router.get("/asyncapi.json")
    async def own_document() -> Response:
        return Response(own(), media_type="application/json")

    @router.get("/asyncapi/suite.json")
    async def suite_document_json() -> Response:
        return Response(_suite(), media_type="application/json")

    @router.get("/asyncapi")
    async def own_page() -> Response:
        return _page(f"Keel {service} service: messages", "asyncapi.json", "asyncapi/assets/")

    @router.get("/asyncapi/suite")
    async def suite_page() -> Response:
        return _page("Keel: every topic", "suite.json", "assets/")

    @router.get("/asyncapi/assets/{name}")
    async def asset(name: str) -> Response:
        if name not in VIEWER_ASSETS:
            return problem(404, "Not Found", f"no viewer asset {name!r}")
        if not (VIEWER / name).is_file():
            return _viewer_missing()
        return FileResponse(
            VIEWER / name,
            media_type=VIEWER_ASSETS[name],
            headers={"Cache-Control": "public, max-age=86400"},
        )

    return router


@functools.cache
def _suite() -> bytes:
    return json.dumps(suite_document()).encode()


def _page(title: str, document_url: str, assets: str) -> Response:
    """The viewer page; URLs are relative, so it also works behind a path prefix."""
    if not all((VIEWER / name).is_file() for name in VIEWER_ASSETS):
        return _viewer_missing()
    return HTMLResponse(_PAGE.format(title=title, document=document_url, assets=assets))


def _viewer_missing() -> Response:
    return problem(
        503,
        "Service Unavailable",
        "the AsyncAPI viewer is not installed here (`./keel install` builds it); the document "
        "itself is at /asyncapi.json",
    )


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="{assets}asyncapi.css">
</head>
<body>
<main id="asyncapi"></main>
<script src="{assets}asyncapi.js"></script>
<script>
AsyncApiStandalone.render(
  {{schema: {{url: "{document}"}}, config: {{show: {{sidebar: true, errors: true}}}}}},
  document.getElementById("asyncapi"),
);
</script>
</body>
</html>
"""
