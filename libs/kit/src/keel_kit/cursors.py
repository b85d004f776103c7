"""Opaque page cursors: a position in a list, given out with one page and handed back for the
next.

A cursor is the client's to keep but ours to read, so reading one trusts nothing: whatever is
not a cursor this API gave out (bad base64, not UTF-8, the wrong number of parts, a number or
an instant out of range, control characters) is a 422 on `cursor`, never a 500 from a parser or
the database. A position is a few text parts; `cursor_int` and `cursor_datetime` read them.

Lists whose cursor is simply the last key shown (a SKU, a UUIDv7 id) take it as a bounded
query string instead (`keel_kit.query.CursorQuery`); both kinds live side by side for now.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_

from keel_kit.problems import DomainError
from keel_kit.query import bounded_utc

_SEPARATOR = "|"
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def not_a_cursor() -> DomainError:
    """The one refusal of every malformed cursor: a 422 naming `cursor`."""
    return DomainError("not a cursor this endpoint gave out", field="cursor")


def encode_cursor(parts: Sequence[str | int | datetime]) -> str:
    """The cursor of a position: its parts joined, base64url without padding."""
    texts = [part.isoformat() if isinstance(part, datetime) else str(part) for part in parts]
    if any(_SEPARATOR in text for text in texts):
        raise ValueError(f"a cursor part cannot contain {_SEPARATOR!r}")
    raw = _SEPARATOR.join(texts).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, parts: int) -> list[str]:
    """The `parts` text parts of a cursor `encode_cursor` made; a 422 on `cursor` otherwise."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, ValueError) as error:  # UnicodeDecodeError is a ValueError
        raise not_a_cursor() from error
    texts = raw.split(_SEPARATOR)
    if len(texts) != parts or _CONTROL_CHARACTER.search(raw):
        raise not_a_cursor()
    return texts


def cursor_int(text: str, *, minimum: int = 0, maximum: int = 2**63 - 1) -> int:
    """A whole number part of a cursor, within the column's range."""
    if not text.isascii() or not text.lstrip("-").isdigit() or len(text) > 20:
        raise not_a_cursor()
    value = int(text)
    if not minimum <= value <= maximum:
        raise not_a_cursor()
    return value


def cursor_datetime(text: str) -> datetime:
    """An instant part of a cursor, in UTC and within the years every Keel query accepts."""
    try:
        return bounded_utc(datetime.fromisoformat(text))
    except ValueError as error:
        raise not_a_cursor() from error


def after(first: Any, second: Any, position: tuple[Any, Any]) -> ColumnElement[bool]:
    """Rows after `position` in the order (first, second): the filter of a page that goes on
    from the last (first, second) a client was shown."""
    one, two = position
    return or_(first > one, and_(first == one, second > two))
