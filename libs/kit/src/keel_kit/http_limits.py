"""What a request body must be before any route parses it (DESIGN §5: bad input is a 4xx).

Every Keel API speaks JSON, so one ASGI middleware in front of every route checks, in order:

1. size: a body over the limit is a 413 stating the limit, refused before it is parsed; the
   limit holds for a chunked body without a Content-Length as well, counted as it arrives;
2. media type: a body that is not JSON (`application/json` or `application/*+json`) is a 415;
3. shape: JSON nested deeper than `MAX_JSON_DEPTH` is a 422 on `body`, not a RecursionError
   somewhere in a parser (Python's json module and validators recurse per level);
4. unstorable text: a string holding U+0000 (which PostgreSQL refuses in text) or a lone
   surrogate (which JSON can escape but no UTF-8 encoder accepts) is a 422 naming the field,
   where it would otherwise fail the request as a 500 deep in the database driver.

Anything else wrong with the JSON (a syntax error, a wrong type) is left to the route's
validation, which names the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from keel_kit.problems import problem

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_MAX_BATCH_BODY_BYTES = 8 * 1024 * 1024
# Keel's deepest payload (a batch of orders, their lines, a line's money) is six levels deep.
MAX_JSON_DEPTH = 32

# A JSON string literal, escapes included, written so that matching it is linear in its length.
_STRING_LITERAL = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = bytes(sorted(set(range(256)) - set(b"[]{}")))
_INNERMOST_PAIR = re.compile(rb"\[\]|\{\}")
# The escapes that can spell unstorable text: \u0000 and a surrogate half, \ud800 to \udfff.
_UNSTORABLE_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True)
class BodyLimits:
    """How large a request body may be: `batch` for a batch route (a path ending in `/batch`,
    a marketplace's feed of many orders), `default` for every other."""

    default: int = DEFAULT_MAX_BODY_BYTES
    batch: int = DEFAULT_MAX_BATCH_BODY_BYTES

    def for_path(self, path: str) -> int:
        return self.batch if path.endswith("/batch") else self.default


DEFAULT_BODY_LIMITS = BodyLimits()


class RequestBodyGuard:
    """ASGI middleware refusing bodies too large, not JSON, too deep or holding unstorable text.

    The body is read once here (so its size is known whatever the framing) and handed on to
    the app unchanged.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limits: BodyLimits = DEFAULT_BODY_LIMITS,
        max_json_depth: int = MAX_JSON_DEPTH,
    ) -> None:
        self.app = app
        self.limits = limits
        self.max_json_depth = max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        limit = self.limits.for_path(scope["path"])
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await too_large(limit)(scope, receive, send)
            return
        try:
            body = await read_body(receive, limit=limit)
        except ClientGone:
            return  # nobody is left to answer
        if body is None:
            await too_large(limit)(scope, receive, send)
            return
        refusal = self._refusal(body, headers.get("content-type"))
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, replay_body(body, receive), send)

    def _refusal(self, body: bytes, content_type: str | None) -> JSONResponse | None:
        if not body:
            return None
        if not is_json_media_type(content_type):
            return problem(
                415,
                "Unsupported media type",
                f"the body must be JSON (application/json), not {content_type or 'unlabelled'}",
                errors=[{"field": "header.Content-Type", "message": "expected application/json"}],
            )
        shape = json_shape_problem(body, max_depth=self.max_json_depth)
        if shape is not None:
            return problem(
                422,
                "Invalid request",
                f"invalid field(s): body ({shape})",
                errors=[{"field": "body", "message": shape}],
            )
        field = field_holding_unstorable_text(body)
        if field is not None:
            message = "text must not contain NUL (U+0000) or a lone surrogate"
            return problem(
                422,
                "Invalid request",
                f"invalid field(s): {field}",
                errors=[{"field": field, "message": message}],
            )
        return None


def too_large(limit: int) -> JSONResponse:
    return problem(
        413,
        "Request body too large",
        f"the request body is larger than the limit of {limit} bytes",
        limit_bytes=limit,
        errors=[{"field": "body", "message": f"at most {limit} bytes"}],
    )


class ClientGone(Exception):
    """The client disconnected before its body was complete."""


async def read_body(receive: Receive, *, limit: int) -> bytes | None:
    """The whole body, or None as soon as it grows past `limit` bytes (the rest is not read)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replay_body(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the body already read, then defers to the server."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


def is_json_media_type(content_type: str | None) -> bool:
    """`application/json` or a `+json` type such as `application/merge-patch+json`."""
    if not content_type:
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def json_shape_problem(body: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """Why the body's brackets are unacceptable (too deep, unbalanced), or None.

    Measured without recursion: string literals are dropped, then each pass removes every
    innermost `[]` / `{}` pair, so a body `max_depth` deep is empty after `max_depth` passes.
    """
    brackets = _STRING_LITERAL.sub(b"", body).translate(None, _NOT_A_BRACKET)
    for _ in range(max_depth):
        if not brackets:
            return None
        brackets, removed = _INNERMOST_PAIR.subn(b"", brackets)
        if not removed:
            return "not valid JSON: its brackets do not match"
    if brackets:
        return f"nested deeper than {max_depth} levels"
    return None


def field_holding_unstorable_text(body: bytes) -> str | None:
    """The dotted path of a string (or key) holding U+0000 or a lone surrogate, or None.

    Only bodies carrying such an escape are parsed; call it after `json_shape_problem`, which
    bounds the parser's recursion. (A surrogate pair is one character once parsed: fine.)
    """
    if not _UNSTORABLE_ESCAPE.search(body):
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return None  # not JSON after all: the route's validation says so, naming the field
    pending: list[tuple[tuple[str, ...], Any]] = [((), document)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, str) and _UNSTORABLE.search(value):
            return ".".join(path) or "body"
        children: Iterable[tuple[str, Any]] = ()
        if isinstance(value, dict):
            children = value.items()
        elif isinstance(value, list):
            children = ((str(index), item) for index, item in enumerate(value))
        for key, child in children:
            if _UNSTORABLE.search(key):
                return ".".join((*path, key.encode("unicode_escape").decode()))
            pending.append(((*path, key), child))
    return None
