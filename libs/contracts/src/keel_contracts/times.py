"""Time as Keel keeps it: every instant in UTC."""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator


def as_utc(moment: datetime) -> datetime:
    """`moment` in UTC. A naive one is taken as UTC already: that is how every time Keel stores
    was written, and SQLite hands stored times back without their zone."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]
"""A datetime field that always holds UTC (without a zone, the input is taken as UTC)."""
