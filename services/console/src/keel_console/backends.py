"""The services' APIs, called as the signed-in person.

Each call carries a token the stack's issuer signs for that person and role, valid for a few
minutes (the same kind `keel token` prints), so each service checks its own permission table and
records the person in its audit trail, exactly as if they had called it themselves.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from keel_console.sessions import SignedIn
from keel_console.settings import Settings
from keel_kit.signing import StackKeys

TIMEOUT = httpx.Timeout(10.0, connect=3.0)


class Refused(Exception):
    """A service answered with a problem document: its status and what it said."""

    def __init__(self, service: str, status: int, detail: str) -> None:
        super().__init__(f"{service}: {status} {detail}")
        self.service = service
        self.status = status
        self.detail = detail

    @property
    def page_status(self) -> int:
        """The status of a page that shows this refusal: the service's own for a mistake the
        person can correct (4xx), a bad gateway for a service that failed."""
        return self.status if 400 <= self.status < 500 else 502


class Services:
    """One HTTP client for every service, and the person's token for each call."""

    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None):
        self._settings = settings
        self._keys = StackKeys(settings.auth_folder)
        self._token_life = timedelta(minutes=settings.token_minutes)
        self._client = httpx.AsyncClient(timeout=TIMEOUT, transport=transport)

    async def close(self) -> None:
        await self._client.aclose()

    def _headers(self, person: SignedIn) -> dict[str, str]:
        if person.access_token is not None:  # the company provider's, passed on as it is
            return {"Authorization": f"Bearer {person.access_token}"}
        token = self._keys.staff_token(user=person.username, role=person.role, ttl=self._token_life)
        return {"Authorization": f"Bearer {token}"}

    async def get(
        self, person: SignedIn, service: str, path: str, params: dict[str, Any] | None = None
    ) -> Any:
        """The JSON a service answers to a GET; `Refused` for a problem."""
        query = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        return await self._call(person, "GET", service, path, params=query)

    async def read(
        self, person: SignedIn, service: str, path: str, params: dict[str, Any] | None = None
    ) -> tuple[Any, Refused | None]:
        """`get`, for a page that shows what it can: the answer, or None and the refusal."""
        try:
            return await self.get(person, service, path, params), None
        except Refused as refused:
            return None, refused

    async def post(
        self,
        person: SignedIn,
        service: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        key: str | None = None,
    ) -> Any:
        """A POST as the person; `key` is its Idempotency-Key, so a form sent twice acts once."""
        headers = {"Idempotency-Key": key} if key else None
        return await self._call(person, "POST", service, path, json=body, extra_headers=headers)

    async def _call(
        self,
        person: SignedIn,
        method: str,
        service: str,
        path: str,
        extra_headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        url = self._settings.service_url(service) + path
        headers = {**self._headers(person), **(extra_headers or {})}
        try:
            response = await self._client.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as error:
            detail = f"{service} did not answer ({type(error).__name__})"
            raise Refused(service, 503, detail) from error
        if response.is_success:
            return response.json()
        raise Refused(service, response.status_code, _detail(response))


def _detail(response: httpx.Response) -> str:
    """What a problem document says, or the status line when the body is none."""
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code} {response.reason_phrase}"
    if not isinstance(body, dict):
        return f"{response.status_code} {response.reason_phrase}"
    errors = body.get("errors")
    if isinstance(errors, list) and errors:  # a validation error: name each field
        return "; ".join(
            f"{e.get('field')}: {e.get('message')}" for e in errors if isinstance(e, dict)
        )
    return str(body.get("detail") or body.get("title") or response.reason_phrase)
