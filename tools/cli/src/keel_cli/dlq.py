"""Dead letters, read straight from the `<group>.dlq` topics and replayed by the service that
owns them (`POST /v1/dead-letters/{offset}/replay`, admin's, audited); and beside them the outbox
rows a service parked because the broker can never accept them, asked of each service over HTTP
(`/v1/outbox/parked`) as the person the caller's `headers` name."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from keel_contracts import SERVICES, consumer_group
from keel_kit import dead_letters
from keel_kit.dead_letters import DeadLetter
from keel_kit.kafka_access import KafkaAccess


def groups() -> list[str]:
    return [consumer_group(s) for s in SERVICES]


async def read_all(kafka: KafkaAccess, group: str) -> list[DeadLetter]:
    """Every dead letter of a group, oldest first, read straight from its topic (so a service
    that is down does not hide them)."""
    return await dead_letters.read_all(kafka, group)


def replay(
    service: str,
    base_url: str,
    offsets: Sequence[int],
    body: Any | None,
    *,
    headers: Mapping[str, str],
    client: httpx.Client | None = None,
) -> list[dict[str, Any]]:
    """Ask `service` to apply its dead letters at `offsets` again (one of them with a corrected
    `body`, as JSON), as the person `headers` name (admin); returns each outcome. Raises
    ServiceUnavailable if the service cannot be asked, LookupError for an offset it has no
    letter at (those before it are replayed)."""
    if body is not None and len(offsets) != 1:
        raise ValueError("--body replaces exactly one dead letter: name it with --offset")
    outcomes = []
    with _client(client) as http:
        try:
            for offset in offsets:
                url = f"{base_url}/v1/dead-letters/{offset}/replay"
                response = http.post(url, json={"body": body}, headers=headers)
                if response.status_code == 404:
                    raise LookupError(f"{service} has no dead letter at offset {offset}")
                response.raise_for_status()
                outcomes.append(response.json())
        except httpx.HTTPError as error:
            raise ServiceUnavailable(f"{service} {_why(error)} at {base_url}") from error
    return outcomes


HTTP_TIMEOUT_SECONDS = 5.0
PARKED_PAGE_SIZE = 500


class ServiceUnavailable(Exception):
    """A service could not be asked about its parked rows or dead letters."""


@dataclass(frozen=True)
class ParkedRow:
    """An outbox row a service parked: it never reached the broker."""

    service: str
    id: int
    topic: str
    key: str
    type: str
    event_id: str
    reason: str
    parked_at: str
    size: int

    def summary(self) -> dict[str, object]:
        return {
            "kind": "parked",
            "service": self.service,
            "id": self.id,
            "topic": self.topic,
            "type": self.type,
            "key": self.key,
            "event_id": self.event_id,
            "error": self.reason,
            "parked_at": self.parked_at,
            "size": self.size,
        }


@dataclass
class ParkedListing:
    rows: list[ParkedRow] = field(default_factory=list)
    unreachable: dict[str, str] = field(default_factory=dict)  # service -> what went wrong


def service_of_group(group: str) -> str | None:
    """The service whose consumer group `group` is (None if it is no service's)."""
    return next((s for s in SERVICES if consumer_group(s) == group), None)


def read_parked(
    urls: Mapping[str, str], *, headers: Mapping[str, str], client: httpx.Client | None = None
) -> ParkedListing:
    """Every parked row of each service at `urls` (service -> base URL); a service that does
    not answer is noted in `unreachable` instead of failing the whole listing."""
    listing = ParkedListing()
    with _client(client) as http:
        for service, base in urls.items():
            try:
                listing.rows.extend(_parked_of(http, service, base, headers))
            except httpx.HTTPError as error:
                listing.unreachable[service] = _why(error)
    return listing


def replay_parked(
    service: str,
    base_url: str,
    ids: Sequence[int] | None,
    *,
    headers: Mapping[str, str],
    client: httpx.Client | None = None,
) -> list[tuple[int, int]]:
    """Move parked rows of `service` (all of them, or `ids`) back into its outbox; returns
    (parked id, new outbox id) for each. Raises ServiceUnavailable if the service cannot be
    asked, LookupError for an id it has not parked (rows before it are replayed)."""
    replayed = []
    with _client(client) as http:
        try:
            chosen = ids or [row.id for row in _parked_of(http, service, base_url, headers)]
            for parked_id in chosen:
                url = f"{base_url}/v1/outbox/parked/{parked_id}/replay"
                response = http.post(url, headers=headers)
                if response.status_code == 404:
                    raise LookupError(f"{service} has no parked row {parked_id}")
                response.raise_for_status()
                replayed.append((parked_id, int(response.json()["outbox_id"])))
        except httpx.HTTPError as error:
            raise ServiceUnavailable(f"{service} {_why(error)} at {base_url}") from error
    return replayed


def _parked_of(
    http: httpx.Client, service: str, base_url: str, headers: Mapping[str, str]
) -> list[ParkedRow]:
    rows: list[ParkedRow] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": PARKED_PAGE_SIZE}
        if cursor is not None:
            params["cursor"] = cursor
        response = http.get(f"{base_url}/v1/outbox/parked", params=params, headers=headers)
        response.raise_for_status()
        page = response.json()
        rows.extend(
            ParkedRow(
                service=service,
                id=item["id"],
                topic=item["topic"],
                key=item["key"],
                type=item["type"],
                event_id=item["event_id"],
                reason=item["reason"],
                parked_at=item["parked_at"],
                size=item["size"],
            )
            for item in page["items"]
        )
        cursor = page["next_cursor"]
        if cursor is None:
            return rows


def _client(client: httpx.Client | None) -> contextlib.AbstractContextManager[httpx.Client]:
    """The caller's client, left open; or one of our own, closed after use."""
    if client is not None:
        return contextlib.nullcontext(client)
    return httpx.Client(timeout=HTTP_TIMEOUT_SECONDS)


def _why(error: httpx.HTTPError) -> str:
    if isinstance(error, httpx.HTTPStatusError):
        return f"answered {error.response.status_code}"
    return f"not answering ({type(error).__name__})"
