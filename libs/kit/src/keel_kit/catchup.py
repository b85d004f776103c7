"""Is this service's copy of another's data complete? "Unknown" versus "not here yet".

A service that replicates master data (items, locations) from the owner's topic cannot tell a
reference that does not exist from one whose event it has not applied yet by looking at its
own tables. When a use case finds a reference missing, it asks how far this service's consumer
group is behind on the topic that would bring it (the broker's end offsets minus the group's
committed offsets, which the kit commits only after the batch's transaction commits):

- behind, or the broker cannot be asked: the copy may still bring it, so the answer is 503 with
  `Retry-After` (`ReplicaBehind`), never a 422 the caller would take as final;
- caught up: everything on the topic when we asked has been applied, so after one more look at
  its tables the use case may refuse with a 422.

A caught-up answer is only trusted when measured after the caller's first look (an item applied
in between would otherwise be refused), so only "behind" answers are cached, briefly.

What the topic cannot show is the owner's own outbox: an item the owner accepted but has not
published yet is truly unknown here. Callers that need it everywhere wait for it (the CLI does).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any, Protocol

from fastapi import Request
from fastapi.responses import JSONResponse

from keel_kit.broker_lag import BrokerLag
from keel_kit.kafka_access import KafkaAccess
from keel_kit.problems import PROBLEM_JSON, DomainError

RETRY_AFTER_SECONDS = 1


class ReplicaBehind(DomainError):
    """A reference is missing from a replica that has not caught up with its topic: retry.

    `lag` is the number of messages not yet applied, or None when the broker could not be asked.
    """

    status = 503
    title = "Replica not caught up"

    def __init__(
        self,
        topic: str,
        lag: int | None,
        *,
        missing: str | None = None,
        field: str | None = None,
        retry_after: int = RETRY_AFTER_SECONDS,
    ) -> None:
        distance = (
            f"{lag} message{'s' if lag != 1 else ''} behind"
            if lag is not None
            else "behind by an unknown amount (the broker could not be asked)"
        )
        subject = f"{missing} is not known here yet: " if missing else ""
        super().__init__(
            f"{subject}this service's copy of {topic} is {distance}; retry in {retry_after}s",
            field=field,
        )
        self.topic = topic
        self.lag = lag
        self.retry_after = retry_after

    def naming(self, missing: str, *, field: str | None = None) -> ReplicaBehind:
        """The same lag, about one missing reference (and the request field that named it)."""
        return ReplicaBehind(
            self.topic, self.lag, missing=missing, field=field, retry_after=self.retry_after
        )

    def document(self) -> dict[str, Any]:
        """The problem document; `retry_after` (seconds) serves a batch, which has no header
        per item."""
        extra = {"topic": self.topic, "lag": self.lag, "retry_after": self.retry_after}
        return {**super().document(), **extra}


async def replica_behind_response(_request: Request, error: Exception) -> JSONResponse:
    """The HTTP answer to `ReplicaBehind`: a 503 problem document with `Retry-After`."""
    assert isinstance(error, ReplicaBehind)
    return JSONResponse(
        error.document(),
        status_code=error.status,
        media_type=PROBLEM_JSON,
        headers={"Retry-After": str(error.retry_after)},
    )


class LagSource(Protocol):
    """Where the lag comes from: the broker in a running service, a fixed answer in tests."""

    async def lag(self, topic: str, keys: Collection[str] | None = None) -> int | None:
        """Messages of `topic` (of the partitions `keys` map to, if given) this service's group
        has not applied yet; None when that cannot be told."""
        ...

    async def close(self) -> None: ...


class FixedLag:
    """A lag source that always gives the same answer, per topic (service tests have no
    broker): `FixedLag()` is always caught up, `FixedLag({"inventory.item.v1": 3})` is not."""

    def __init__(self, lags: dict[str, int | None] | None = None) -> None:
        self.lags = dict(lags or {})
        self.asked: list[str] = []  # the topics asked about, in order

    async def lag(self, topic: str, keys: Collection[str] | None = None) -> int | None:
        self.asked.append(topic)
        return self.lags.get(topic, 0)

    async def close(self) -> None:
        return None


class ReplicaCatchup:
    """Tells a use case whether a missing reference may still arrive (see the module doc)."""

    def __init__(self, source: LagSource) -> None:
        self.source = source

    @classmethod
    def on_broker(cls, kafka: KafkaAccess, group: str) -> ReplicaCatchup:
        """The running service's: `group`'s committed offsets against the broker's ends."""
        return cls(BrokerLag(kafka, group))

    async def behind(self, topic: str, keys: Iterable[str] | None = None) -> ReplicaBehind | None:
        """None when this service has applied all of `topic` (only the partitions `keys` are
        published on, if given) as of now; otherwise the error to answer with."""
        lag = await self.source.lag(topic, None if keys is None else set(keys))
        return None if lag == 0 else ReplicaBehind(topic, lag)

    async def require_caught_up(
        self,
        topic: str,
        keys: Iterable[str] | None = None,
        *,
        missing: str | None = None,
        field: str | None = None,
    ) -> None:
        """Raise `ReplicaBehind` (naming `missing` and `field`) unless caught up on `topic`."""
        behind = await self.behind(topic, keys)
        if behind is not None:
            raise behind.naming(missing, field=field) if missing else behind

    async def lags(self, topics: Iterable[str]) -> dict[str, int | None]:
        """How far behind this service is on each topic (None: cannot tell), for status views."""
        return {topic: await self.source.lag(topic) for topic in topics}

    async def close(self) -> None:
        await self.source.close()
