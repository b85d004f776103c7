"""The way in: each role's home is the page of the work waiting for it."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from keel_console.web import PersonDep, home_of

router = APIRouter()


@router.get("/")
async def home(person: PersonDep) -> Response:
    return RedirectResponse(home_of(person.role), status_code=303)
