"""The FastAPI app every service is: its routers, plus health, metrics and the runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from keel_kit import telemetry
from keel_kit.handlers import Handlers
from keel_kit.problems import install_problem_handlers
from keel_kit.runtime import PeriodicJob, ServiceRuntime
from keel_kit.settings import ServiceSettings


def create_service_app(
    settings: ServiceSettings,
    *,
    handlers: Handlers,
    routers: Sequence[APIRouter],
    migrations: Path,
    description: str,
    periodic: Sequence[PeriodicJob] = (),
) -> FastAPI:
    """Build a service's app; its lifespan migrates the database and runs broker and relay."""
    telemetry.setup_logging()
    provider = telemetry.setup_tracing(
        settings.service,
        otlp_endpoint=settings.otlp_endpoint,
        trace_file=settings.trace_file,
        sample_ratio=settings.trace_sample_ratio,
    )
    runtime = ServiceRuntime(settings, handlers, migrations, periodic)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()
            provider.force_flush()

    app = FastAPI(
        title=f"Keel {settings.service} service",
        description=description,
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    install_problem_handlers(app)
    app.include_router(_health_router())
    for router in routers:
        app.include_router(router)
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        excluded_urls="health/.*,metrics",
        exclude_spans=["receive", "send"],  # two spans per request that tell nothing
    )
    return app


def get_runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[ServiceRuntime, Depends(get_runtime)]


def _health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/health/ready")
    async def ready(runtime: RuntimeDep) -> JSONResponse:
        checks: dict[str, Any] = {}
        try:
            await runtime.db.ping()
            checks["database"] = "ok"
        except Exception as error:
            checks["database"] = f"unreachable: {type(error).__name__}"
        checks["broker"] = "ok" if await runtime.broker_ready() else "unreachable"
        healthy = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ok" if healthy else "unavailable", "checks": checks},
            status_code=200 if healthy else 503,
        )

    @router.get("/metrics")
    async def metrics(runtime: RuntimeDep) -> Response:
        return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return router
