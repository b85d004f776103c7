"""Every service serves its AsyncAPI document and the suite's, openly like `/docs`, and the viewer
page whose script and styles it serves itself."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from keel_contracts.asyncapi import suite_document
from keel_kit import asyncapi
from keel_kit.handlers import Handlers
from kit_http_app import client, tiny_app

pytestmark = pytest.mark.unit


@pytest_asyncio.fixture
async def anyone(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with client(tiny_app(tmp_path), role=None) as http_client:
        yield http_client


@pytest.fixture
def viewer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "viewer"
    folder.mkdir()
    (folder / "asyncapi.js").write_text("window.AsyncApiStandalone = {render() {}};")
    (folder / "asyncapi.css").write_text("main { margin: 0 }")
    monkeypatch.setattr(asyncapi, "VIEWER", folder)
    return folder


@pytest.mark.asyncio
async def test_the_documents_are_served_to_anyone(anyone: httpx.AsyncClient) -> None:
    own = await anyone.get("/asyncapi.json")
    suite = await anyone.get("/asyncapi/suite.json")

    assert own.status_code == 200
    assert own.json() == asyncapi.document("order", Handlers())
    assert "order-sends-orders.order.v1" in own.json()["operations"]
    assert suite.json() == suite_document()


@pytest.mark.asyncio
@pytest.mark.usefixtures("viewer")
async def test_each_page_loads_its_document_and_the_assets_from_the_service(
    anyone: httpx.AsyncClient,
) -> None:
    own = await anyone.get("/asyncapi")
    suite = await anyone.get("/asyncapi/suite")
    script = await anyone.get("/asyncapi/assets/asyncapi.js")

    assert own.headers["content-type"].startswith("text/html")
    # Relative addresses, resolved against each page's own: /asyncapi/assets/… both times.
    assert 'src="asyncapi/assets/asyncapi.js"' in own.text
    assert 'url: "asyncapi.json"' in own.text
    assert 'src="assets/asyncapi.js"' in suite.text
    assert 'url: "suite.json"' in suite.text
    assert "http" not in own.text + suite.text, "a page loads nothing from elsewhere"
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.text.startswith("window.AsyncApiStandalone")


@pytest.mark.asyncio
@pytest.mark.usefixtures("viewer")
async def test_only_the_viewer_assets_are_served(anyone: httpx.AsyncClient) -> None:
    response = await anyone.get("/asyncapi/assets/..%2Fasyncapi.py")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.asyncio
async def test_without_the_viewer_the_page_says_how_to_install_it(
    anyone: httpx.AsyncClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(asyncapi, "VIEWER", tmp_path / "nowhere")

    page = await anyone.get("/asyncapi")
    script = await anyone.get("/asyncapi/assets/asyncapi.js")

    assert page.status_code == script.status_code == 503
    assert "./keel install" in page.json()["detail"]
    assert (await anyone.get("/asyncapi.json")).status_code == 200
