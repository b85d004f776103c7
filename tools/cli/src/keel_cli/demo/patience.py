"""An HTTP transport that honours `503` + `Retry-After`.

A Keel service answers 503 with `Retry-After` when a request names something its copy of
another service's data has not caught up with yet (an item inventory created a moment ago): the
request did nothing, and the same request a moment later may succeed. The demo's clients retry
such answers instead of failing the day; anything else goes back to the caller as it came.
"""

from __future__ import annotations

import asyncio

import httpx

MAX_WAIT_SECONDS = 5.0  # per retry, whatever a server asks


class RetryAfterTransport(httpx.AsyncBaseTransport):
    """Wraps `inner`: repeats a request answered 503 with `Retry-After`, for up to `patience`
    seconds in all, then hands the last answer back."""

    def __init__(self, inner: httpx.AsyncBaseTransport, *, patience: float = 60.0) -> None:
        self.inner = inner
        self.patience = patience

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.patience
        while True:
            response = await self.inner.handle_async_request(request)
            wait = _retry_after(response)
            if wait is None or loop.time() + wait > deadline:
                return response
            await response.aclose()
            await asyncio.sleep(wait)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait before repeating, or None when the answer is not one to repeat. Only the
    delay-seconds form is used by Keel; an HTTP date is not worth parsing here."""
    if response.status_code != 503 or "Retry-After" not in response.headers:
        return None
    try:
        return min(max(float(response.headers["Retry-After"]), 0.1), MAX_WAIT_SECONDS)
    except ValueError:
        return None
