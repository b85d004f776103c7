"""RFC 9457 problem documents for every error a Keel API returns; bad input is never a 500."""

from __future__ import annotations

import decimal
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class FieldProblem(BaseModel):
    field: str
    message: str


class ProblemDocument(BaseModel):
    """RFC 9457 problem details, as every Keel error answers; `errors` names the fields."""

    model_config = ConfigDict(extra="allow")  # a problem may carry more (`limit_bytes`)

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] | None = None


def _problem_response(description: str) -> dict[str, Any]:
    # `model` registers the schema; the problem media type is the one actually sent.
    schema = {"$ref": "#/components/schemas/ProblemDocument"}
    return {
        "model": ProblemDocument,
        "description": description,
        "content": {PROBLEM_JSON: {"schema": schema}},
    }


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _problem_response("The request could not be read"),
    401: _problem_response("No principal: a missing, expired or forged bearer token"),
    403: _problem_response("The principal may not do this"),
    404: _problem_response("Not found"),
    405: _problem_response("Method not allowed"),
    409: _problem_response("Conflict with the current state, or a request still in flight"),
    413: _problem_response("The body is larger than the limit it states"),
    415: _problem_response("The body is not JSON"),
    422: _problem_response("Invalid request: `errors` names each field"),
    500: _problem_response("Internal error"),
    503: _problem_response("A dependency is unavailable; retry later"),
}
"""Every error a Keel route may answer, for OpenAPI: the app declares them on every route."""


class DomainError(Exception):
    """A use case refused: the subclass says which HTTP status the refusal maps to."""

    status = 422
    title = "Unprocessable request"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field

    def document(self) -> dict[str, Any]:
        """The problem document, for an answer that carries several (a batch's outcomes)."""
        extra = {"errors": [{"field": self.field, "message": self.detail}]} if self.field else {}
        return _document(self.status, self.title, self.detail, **extra)


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Unavailable(DomainError):
    """Something the answer needs (the broker, say) is away for now: retry later."""

    status = 503
    title = "Service unavailable"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


def _document(status: int, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = _document(status, title, detail, **extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


RETRY_AFTER_SECONDS = 1


def database_unavailable() -> JSONResponse:
    detail = "the database is unavailable or busy; retry later"
    response = problem(503, "Service unavailable", detail)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": ".".join(str(p) for p in e["loc"] if p != "body") or "body",
                "message": e["msg"],
            }
            for e in error.errors()
        ]
        fields = ", ".join(sorted({e["field"] for e in errors}))
        return problem(422, "Invalid request", f"invalid field(s): {fields}", errors=errors)

    @app.exception_handler(DomainError)
    async def _domain(_request: Request, error: DomainError) -> JSONResponse:
        return JSONResponse(error.document(), status_code=error.status, media_type=PROBLEM_JSON)

    # Imported here because both build on this module: catchup on DomainError, faults (through
    # the handlers and the service context) on catchup.
    from keel_kit.catchup import ReplicaBehind, replica_behind_response
    from keel_kit.faults import is_transient

    app.add_exception_handler(ReplicaBehind, replica_behind_response)

    @app.exception_handler(IntegrityError)
    async def _conflict(_request: Request, error: IntegrityError) -> JSONResponse:
        if not _is_unique_violation(error):
            log.exception("integrity error")
            return problem(500, "Internal error", "the request failed; it has been logged")
        # A uniqueness the use case checked was taken by a concurrent request in between.
        log.warning("conflict with a concurrent request: %s", error.orig)
        return problem(409, "Conflict", "a concurrent request changed the same data; retry")

    @app.exception_handler(DBAPIError)
    async def _unstorable(_request: Request, error: DBAPIError) -> JSONResponse:
        if is_transient(error):
            log.warning("the database is away or busy: %s", error.orig)
            return database_unavailable()
        # A DB-API DataError, or SQLSTATE class 22 (PostgreSQL refusing a value: out of range,
        # NUL in text, too long), is input the API's validation should have caught: a 422.
        sqlstate = str(getattr(error.orig, "sqlstate", None) or "")
        if not (isinstance(error, DataError) or sqlstate.startswith("22")):
            log.exception("database error")
            return problem(500, "Internal error", "the request failed; it has been logged")
        log.warning("the database refused a value: %s", error.orig)
        return problem(422, "Invalid request", "a value is out of the range that can be stored")

    async def _out_of_range(_request: Request, error: Exception) -> JSONResponse:
        # Date arithmetic past year 9999, a Decimal past its context's precision: a value at
        # the edge of the calendar or of the number type came in through a field whose bounds
        # were missed. The input is at fault, not the server.
        log.warning("a value overflowed: %r", error)
        return problem(422, "Invalid request", "a date or number is outside the range handled")

    async def _away(_request: Request, error: Exception) -> JSONResponse:
        log.warning("the database is away: %r", error)
        return database_unavailable()

    for away in (ConnectionError, PoolTimeout):
        app.add_exception_handler(away, _away)

    for overflow in (OverflowError, decimal.InvalidOperation, decimal.Overflow):
        app.add_exception_handler(overflow, _out_of_range)

    @app.exception_handler(HTTPException)
    async def _http(_request: Request, error: HTTPException) -> JSONResponse:
        return problem(error.status_code, str(error.detail), str(error.detail))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return problem(500, "Internal error", "the request failed; it has been logged")


def _is_unique_violation(error: IntegrityError) -> bool:
    """PostgreSQL's SQLSTATE 23505, or SQLite's wording for the same."""
    return getattr(error.orig, "sqlstate", None) == "23505" or "UNIQUE constraint" in str(
        error.orig
    )
