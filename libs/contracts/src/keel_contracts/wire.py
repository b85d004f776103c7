"""The base of every model that travels on the wire."""

from pydantic import BaseModel, ConfigDict


class WireModel(BaseModel):
    """The base of the envelope, of every payload and of every value carried inside one.

    Immutable once parsed, and tolerant of what it does not know: a consumer ignores the fields a
    newer producer added, since contracts only grow within a major version. (An HTTP request body
    is the opposite: it refuses unknown fields.)
    """

    model_config = ConfigDict(frozen=True, extra="ignore")
