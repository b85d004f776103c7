"""HTTP models of the exception queue and hold resolution."""

from typing import Annotated, Literal

from pydantic import BaseModel, StringConstraints

from keel_contracts.exception_queue import ExceptionItem
from keel_contracts.limits import NoControl
from keel_kit.schemas import RequestBody

# A person's decision: a hold's resolution other than the system's `closed`. A Literal, not
# Resolution's members, so that a refusal names the values as they are sent.
Decision = Literal["release", "reject"]


class HoldResolve(RequestBody):
    decision: Decision
    note: Annotated[
        str, StringConstraints(min_length=1, max_length=400, strip_whitespace=True), NoControl
    ]
    # Who resolves is the caller (the bearer token's subject). Older clients named them here;
    # naming anyone else is a 403.
    resolved_by: (
        Annotated[
            str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True), NoControl
        ]
        | None
    ) = None


class ExceptionPublic(ExceptionItem):
    """One hold in the shape every exception queue shares, with the order's own fields: the
    hold's number on its order and the rule-set version that opened it."""

    hold_id: int
    rule_set_version: str


class ExceptionsPage(BaseModel):
    items: list[ExceptionPublic]
    next_cursor: str | None


class HoldResolution(BaseModel):
    """The resolved hold and the status its order has now."""

    order_id: str
    status: str
    hold: ExceptionPublic
