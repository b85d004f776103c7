"""Each service's AsyncAPI document, generated from the same broker wiring the service runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from faststream.specification import AsyncAPI

from keel_kit.context import ServiceContext
from keel_kit.handlers import Handlers
from keel_kit.runtime import ServiceRuntime
from keel_kit.settings import ServiceSettings


def document(settings: ServiceSettings, handlers: Handlers) -> dict[str, Any]:
    runtime = ServiceRuntime(ServiceContext.create(settings), handlers, migrations=Path("."))
    spec = AsyncAPI(
        runtime.build_broker(),
        title=f"Keel {settings.service} service",
        version="0.1.0",
        schema_version="3.0.0",
    )
    document: dict[str, Any] = json.loads(spec.to_specification().to_json())
    return document
