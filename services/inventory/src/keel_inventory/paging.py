"""Cursors of the lists read oldest first: the (time, id) position of the last row seen."""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from keel_contracts.times import as_utc
from keel_kit import cursors

Row = TypeVar("Row")


def position(cursor: str | None) -> tuple[datetime, str] | None:
    """Where a page starts: after the row `cursor` names (a 422 on `cursor` if it is not one)."""
    if cursor is None:
        return None
    at, key = cursors.decode_cursor(cursor, parts=2)
    return cursors.cursor_datetime(at), str(key)


def next_cursor(
    found: Sequence[Row], limit: int, key: Callable[[Row], tuple[datetime, str]]
) -> str | None:
    """The cursor after a page of `limit` rows when `found` (read `limit` + 1) has more."""
    if len(found) <= limit:
        return None
    at, last = key(found[limit - 1])
    return cursors.encode_cursor([as_utc(at), last])
