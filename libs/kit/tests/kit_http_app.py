"""A tiny service app built by the kit's `create_service_app`, for tests of its HTTP doors."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, ClassVar

import httpx
from fastapi import APIRouter, FastAPI, Query, status
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from keel_contracts import ServiceName
from keel_contracts.roles import Role
from keel_kit import cursors
from keel_kit.access import roles, table
from keel_kit.app import create_service_app
from keel_kit.context import ServiceContext
from keel_kit.handlers import Handlers
from keel_kit.query import CursorQuery, SinceQuery
from keel_kit.settings import ServiceSettings
from keel_kit.signing import StackKeys

BODY_LIMIT = 4096


class _Refusal(Exception):
    """A driver's error carrying a SQLSTATE, as asyncpg's do."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


DATABASE_FAILURES: dict[str, Exception] = {
    "refused": OperationalError("SELECT 1", None, ConnectionRefusedError("connection refused")),
    "shutting-down": OperationalError("SELECT 1", None, _Refusal("57P01")),
    "dropped": DBAPIError("SELECT 1", None, _Refusal("XX000"), connection_invalidated=True),
    "locked": OperationalError("SELECT 1", None, Exception("database is locked")),
    "pool-exhausted": PoolTimeout("QueuePool limit reached"),
    "defect": ProgrammingError("SELECT nope", None, _Refusal("42703")),
}


class TinySettings(ServiceSettings):
    service: ClassVar[ServiceName] = "order"


class Thing(BaseModel):
    name: str
    extra: Any = None


class Echo(BaseModel):
    thing_id: str
    since: datetime | None = None
    position: tuple[datetime, int] | None = None
    limit: int


def _router() -> APIRouter:
    router = APIRouter(prefix="/v1")

    @router.post("/things", status_code=status.HTTP_201_CREATED)
    async def create_thing(body: Thing) -> Thing:
        return body

    @router.get("/things/special")
    async def special_thing() -> str:
        return "special"

    @router.get("/things/{thing_id}")
    async def get_thing(
        thing_id: str,
        since: SinceQuery = None,
        cursor: CursorQuery = None,
        limit: Annotated[int, Query(ge=1, le=50)] = 10,
    ) -> Echo:
        position = None
        if cursor is not None:
            first, second = cursors.decode_cursor(cursor, parts=2)
            position = cursors.cursor_datetime(first), cursors.cursor_int(second, maximum=99)
        return Echo(thing_id=thing_id, since=since, position=position, limit=limit)

    @router.get("/late")
    async def late() -> str:
        # What a use case does with a date at the edge of the calendar: it overflows.
        return (datetime.max - timedelta(days=1) + timedelta(days=7)).isoformat()

    @router.get("/cents")
    async def cents() -> str:
        # What a use case does with an unbounded amount: past Decimal's 28 digits.
        return str(Decimal("1e30").quantize(Decimal("0.01")))

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a defect")

    @router.get("/database/{how}")
    async def database(how: str) -> None:
        # What a use case meets when the database is away, or refuses for another reason.
        raise DATABASE_FAILURES[how]

    return router


# Things are operations' to create; everyone who reads may read them.
PERMISSIONS = table(
    [
        ("POST", "/v1/things", roles(Role.OPERATIONS)),
        ("GET", "/v1/things/{thing_id}", roles(Role.OPERATIONS, Role.WAREHOUSE, read=True)),
        ("GET", "/v1/things/special", roles(Role.FINANCE)),
        ("GET", "/v1/late", roles(Role.OPERATIONS)),
        ("GET", "/v1/cents", roles(Role.OPERATIONS)),
        ("GET", "/v1/boom", roles(Role.OPERATIONS)),
        ("GET", "/v1/database/{how}", roles(Role.OPERATIONS)),
    ]
)


def tiny_app(tmp_path: Path, **settings: Any) -> FastAPI:
    """The kit's app around one small router; no lifespan runs, so no database or broker. Its
    keys are the state folder's, as `keel up` makes them."""
    tiny = TinySettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'tiny.db'}",
        max_body_bytes=BODY_LIMIT,
        state_dir=tmp_path,
        **settings,
    )
    StackKeys.ensure(tiny.auth_folder)
    return create_service_app(
        ServiceContext.create(tiny),
        handlers=Handlers(),
        routers=[_router()],
        permissions=PERMISSIONS,
        migrations=tmp_path,
        description="tiny",
    )


def keys_of(app: FastAPI) -> StackKeys:
    return StackKeys(app.state.runtime.settings.auth_folder)


def client(app: FastAPI, *, role: Role | None = Role.ADMIN) -> httpx.AsyncClient:
    """A client signed in as someone in `role` (None: nobody)."""
    # The catch-all answers a 500 and then re-raises for the server's log; the test wants the
    # answer, as a real client would get it.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    headers = {}
    if role is not None:
        token = keys_of(app).staff_token(user="tess", role=role)
        headers["Authorization"] = f"Bearer {token}"
    return httpx.AsyncClient(transport=transport, base_url="http://tiny", headers=headers)
