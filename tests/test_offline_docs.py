"""Every service's API pages (Swagger UI at /docs, ReDoc at /redoc) load nothing from outside:
their scripts and styles are served by the service itself, so they work without internet."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import cast

import httpx
import pytest
from fastapi import FastAPI

from keel_contracts import SERVICES

pytestmark = [pytest.mark.unit, pytest.mark.asyncio]

ASSET = re.compile(r'(?:src|href)="([^"]+)"')


@pytest.mark.parametrize("service", SERVICES)
async def test_api_pages_load_their_assets_from_the_service_itself(
    service: str, tmp_path: Path
) -> None:
    main = importlib.import_module(f"keel_{service}.main")
    settings = importlib.import_module(f"keel_{service}.settings").Settings(state_dir=tmp_path)
    app = cast(FastAPI, main.create_app(settings))
    transport = httpx.ASGITransport(app=app)  # the lifespan never runs: no database needed
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        for page in ("/docs", "/redoc"):
            response = await client.get(page)
            assert response.status_code == 200
            assert not re.search(r"https?://", response.text), f"{page} names an outside URL"
            assets = [a for a in ASSET.findall(response.text) if not a.startswith("data:")]
            assert assets, f"{page} loads no script"
            for asset in assets:
                assert (await client.get(asset)).status_code == 200, asset
