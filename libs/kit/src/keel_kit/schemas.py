"""The base of every HTTP request body a Keel service accepts."""

from pydantic import BaseModel, ConfigDict


class RequestBody(BaseModel):
    """The base of every HTTP request body, and of every model nested in one.

    Strict about its fields: an unknown field is refused (a 422 naming it), so a typo or a field
    the service does not know never passes silently. Only a request body needs it: contracts
    ignore unknown fields on purpose (a consumer must read a newer producer's messages).
    """

    model_config = ConfigDict(extra="forbid")
