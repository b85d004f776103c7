"""RFC 9457 problem documents for every error a Keel API returns; bad input is never a 500."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


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


class Conflict(DomainError):
    status = 409
    title = "Conflict"


def _document(status: int, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = _document(status, title, detail, **extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


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

    @app.exception_handler(IntegrityError)
    async def _conflict(_request: Request, error: IntegrityError) -> JSONResponse:
        if not _is_unique_violation(error):
            log.exception("integrity error")
            return problem(500, "Internal error", "the request failed; it has been logged")
        # A uniqueness the use case checked was taken by a concurrent request in between.
        log.warning("conflict with a concurrent request: %s", error.orig)
        return problem(409, "Conflict", "a concurrent request changed the same data; retry")

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
