"""The FastAPI app every service is: its routers, plus health, metrics and the runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi_offline import FastAPIOffline
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client.exposition import choose_encoder

from keel_kit import asyncapi, audit_api, checks, dead_letters_api, gc_tuning, parked_api, telemetry
from keel_kit.access import AccessGuard, Permissions, token_verifier
from keel_kit.checks import Invariant, checks_router
from keel_kit.context import ServiceContext
from keel_kit.handlers import Handlers
from keel_kit.http_limits import BodyLimits, RequestBodyGuard
from keel_kit.http_metrics import HttpMetrics
from keel_kit.openapi import describe_api
from keel_kit.parked_api import router as parked_rows_router
from keel_kit.partners import PartnerVerifier
from keel_kit.periodic import PeriodicJob
from keel_kit.problems import PROBLEM_RESPONSES, install_problem_handlers
from keel_kit.query import reject_control_characters
from keel_kit.rate_limits import RateLimiter
from keel_kit.runtime import RuntimeDep, ServiceRuntime
from keel_kit.statement_spans import trace_statements

# Who may use the kit's own routes, which every service serves.
KIT_PERMISSIONS = (
    checks.PERMISSIONS
    | parked_api.PERMISSIONS
    | audit_api.PERMISSIONS
    | dead_letters_api.PERMISSIONS
)


def create_service_app(
    context: ServiceContext,
    *,
    handlers: Handlers,
    routers: Sequence[APIRouter],
    migrations: Path,
    description: str,
    periodic: Sequence[PeriodicJob] = (),
    permissions: Permissions,
    invariants: Sequence[Invariant] = (),
) -> FastAPI:
    """Build a service's app around its context; its lifespan migrates the database and runs
    broker and relay. `permissions` says who may use each of `routers`' routes (the kit's own
    routes bring theirs); `invariants` are served, with the kit's own, at `GET /v1/checks`."""
    settings = context.settings
    telemetry.setup_logging()
    provider = telemetry.setup_tracing(
        settings.service,
        otlp_endpoint=settings.otlp_endpoint,
        zipkin_endpoint=settings.zipkin_endpoint,
        trace_file=settings.trace_file,
        sample_ratio=settings.trace_sample_ratio,
    )
    trace_statements(context.db.engine.sync_engine, provider.get_tracer("keel.database"))
    runtime = ServiceRuntime(context, handlers, migrations, periodic)
    runtime.metrics.trace_sample_ratio.set(
        telemetry.recorded_share(
            settings.otlp_endpoint,
            settings.zipkin_endpoint,
            settings.trace_file,
            settings.trace_sample_ratio,
        )
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        gc_tuning.settle_heap()
        try:
            yield
        finally:
            await runtime.stop()
            provider.force_flush()

    # Swagger UI and ReDoc from assets the app serves itself: a page that loaded them from a
    # CDN would be blank on a machine without internet.
    app = FastAPIOffline(
        favicon_url="data:,",  # none: the package brings no icon
        swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from swagger.io
        title=f"Keel {settings.service} service",
        description=description,
        version=api_version(settings.service),
        lifespan=lifespan,
        # Every route: the problem documents it may answer, and no control characters in its
        # path or query parameters.
        responses=PROBLEM_RESPONSES,
        dependencies=[Depends(reject_control_characters)],
    )
    app.state.runtime = runtime
    install_problem_handlers(app)
    body_limits = BodyLimits(settings.max_body_bytes, settings.max_batch_body_bytes)
    app.add_middleware(RequestBodyGuard, limits=body_limits)
    # Added last, so outermost: who is calling is settled before anything reads the request.
    app.state.permissions = permissions | KIT_PERMISSIONS
    app.add_middleware(
        AccessGuard,
        verifier=token_verifier(settings),
        permissions=app.state.permissions,
        partners=PartnerVerifier(context.db),
        limiter=RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst),
        body_limits=body_limits,
    )
    # Outside the guard, so refused requests count too; inside tracing (which wraps the whole
    # stack), so a request's exemplar is its trace.
    app.add_middleware(HttpMetrics, metrics=runtime.metrics, permissions=app.state.permissions)
    describe_api(app, app.state.permissions)
    app.include_router(_health_router())
    app.include_router(checks_router(settings.service, invariants))
    app.include_router(parked_rows_router)
    app.include_router(audit_api.router)
    app.include_router(dead_letters_api.router)
    app.include_router(asyncapi.asyncapi_router(settings.service, handlers))
    for router in routers:
        app.include_router(router)
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        excluded_urls="health/.*,metrics",
        exclude_spans=["receive", "send"],  # two spans per request that tell nothing
    )
    return app


def api_version(service: str) -> str:
    """The service package's version (`services/<name>/pyproject.toml`), which a breaking change
    to its API must move (`python -m keel_cli.openapi`)."""
    return metadata.version(f"keel-{service}")


# `/health/ready` answers its checks, as JSON, with either status.
_NOT_READY = {
    "description": "Not ready: the database or the broker is unreachable (see `checks`)",
    "content": {"application/json": {"schema": {"type": "object"}}},
}
# What `/metrics` answers: Prometheus's text format, or OpenMetrics when asked for it.
_METRICS_FORMATS = {
    "description": "The service's metrics",
    "content": {
        "text/plain": {"schema": {"type": "string"}},
        "application/openmetrics-text": {"schema": {"type": "string"}},
    },
}


def _health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/health/ready", responses={503: _NOT_READY})
    async def ready(runtime: RuntimeDep) -> JSONResponse:
        checks: dict[str, Any] = {}
        try:
            await runtime.db.ping()
            checks["database"] = "ok"
        except Exception as error:
            checks["database"] = f"unreachable: {type(error).__name__}"
        checks["broker"] = "ok" if await runtime.broker_ready() else "unreachable"
        healthy = all(v == "ok" for v in checks.values())
        # Alarms do not make the service unready (it still serves and consumes its other
        # partitions); they are there for `keel status` and the operator.
        return JSONResponse(
            {
                "status": "ok" if healthy else "unavailable",
                "checks": checks,
                "alarms": runtime.stalls.alarms(),
            },
            status_code=200 if healthy else 503,
        )

    @router.get("/metrics", response_class=PlainTextResponse, responses={200: _METRICS_FORMATS})
    async def metrics(request: Request, runtime: RuntimeDep) -> Response:
        # Prometheus asks for OpenMetrics, the text format that carries exemplars; a person
        # with curl gets the classic one.
        encode, media_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encode(runtime.metrics.registry), media_type=media_type)

    return router
