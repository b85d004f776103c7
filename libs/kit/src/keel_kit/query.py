"""Path and query parameters every Keel API shares (DESIGN §5: bad input is a 4xx naming it).

- `reject_control_characters`, a dependency of every route (`create_service_app` installs it
  on the app): a path or query parameter holding a control character (NUL above all, which
  PostgreSQL refuses in text) is a 422 naming the parameter, before any use case sees it.
- `UtcDatetimeQuery` / `SinceQuery`: the one datetime type of query strings. ISO 8601, without a
  zone taken as UTC, always handed on in UTC, and bounded to the years 1970-2999 so that
  adding a period to it or shifting its zone can never overflow Python's calendar.
- `CursorQuery`: a page cursor parameter of bounded length; what it holds is the page's
  business (see `keel_kit.cursors` for the opaque ones).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator

from keel_contracts.times import as_utc

# C0 and C1 controls and DEL: none belongs in an identifier, a filter or a cursor.
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
MAX_CURSOR_LENGTH = 200


def reject_control_characters(request: Request) -> None:
    """Refuse a request whose path or query parameters hold control characters (422).

    Installed as an app-wide dependency, so it runs for every route once routing has named
    the path parameters, and before the route's own parameters reach a use case.
    """
    errors = [
        {"loc": ("path", name), "msg": "must not contain control characters", "type": "control"}
        for name, value in request.path_params.items()
        if isinstance(value, str) and _CONTROL_CHARACTER.search(value)
    ]
    errors += [
        {
            "loc": ("query", _printable(name)),
            "msg": "must not contain control characters",
            "type": "control",
        }
        for name, value in request.query_params.multi_items()
        if _CONTROL_CHARACTER.search(name) or _CONTROL_CHARACTER.search(value)
    ]
    if errors:
        raise RequestValidationError(errors)


def _printable(name: str) -> str:
    # A parameter's own name may be the culprit: name it with its controls escaped.
    return _CONTROL_CHARACTER.sub(lambda match: f"\\x{ord(match.group()):02x}", name)


def bounded_utc(value: datetime) -> datetime:
    """`value` in UTC (a naive one is taken as UTC), or ValueError outside 1970-2999."""
    # The year is checked before the zone is applied: shifting 9999-12-31T23:59-05:00 (or
    # 0001-01-01T00:00+05:00) to UTC would overflow instead of failing validation.
    if not EARLIEST.year <= value.year <= LATEST.year:
        raise ValueError(f"must be between {EARLIEST.isoformat()} and {LATEST.isoformat()}")
    in_utc = as_utc(value)
    if not EARLIEST <= in_utc <= LATEST:
        raise ValueError(f"must be between {EARLIEST.isoformat()} and {LATEST.isoformat()}")
    return in_utc


UtcDatetimeQuery = Annotated[datetime, AfterValidator(bounded_utc)]
"""A UTC instant from a query string, 1970-01-01 to 2999-12-31; without a zone, UTC."""

SinceQuery = Annotated[
    UtcDatetimeQuery | None,
    Query(
        description="ISO 8601, from 1970-01-01 to 2999-12-31; without a zone, UTC. "
        "Without it, over everything."
    ),
]
"""The `since` filter of a list or report: from this instant on."""

CursorQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=MAX_CURSOR_LENGTH,
        description="the `next_cursor` of the page before; without it, the first page",
    ),
]
"""A page cursor handed back by the client; the page decides what it means."""
