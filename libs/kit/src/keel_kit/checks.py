"""Invariants a service can recompute from its own data, served at `GET /v1/checks`.

`keel check` asks every service for its report and adds what only the broker knows (consumer
lag, dead letters). A service declares its invariants beside its use cases; the kit adds the
ones every service shares (its outbox drained). Each invariant reads in its own transaction and
answers a list of findings, each a sentence naming what disagrees and by how much: an empty
list is a pass. Findings of a warning invariant are reported but do not fail the check.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import func, select

from keel_contracts.roles import Role
from keel_kit.access import roles, table
from keel_kit.context import ServiceContext, UnitOfWork
from keel_kit.runtime import RuntimeDep
from keel_kit.tables import OutboxRecord

# A report lists at most this many findings per invariant (and says how many there were).
FINDINGS_SHOWN = 20

Severity = Literal["violation", "warning"]


@dataclass(frozen=True)
class Invariant:
    """One rule the service's data must keep, and how to look for breaks of it."""

    name: str  # what must hold, as a sentence: "every journal entry balances"
    find: Callable[[UnitOfWork[Any]], Awaitable[list[str]]]  # reads, in its own transaction
    severity: Severity = "violation"


class InvariantResult(BaseModel):
    name: str
    severity: Severity
    holds: bool
    found: int
    findings: list[str]


class ChecksReport(BaseModel):
    """Every invariant of the service with what was found; `ok` when no violation was."""

    service: str
    ok: bool
    invariants: list[InvariantResult]


async def run_checks(
    service: str, context: ServiceContext, invariants: Sequence[Invariant]
) -> ChecksReport:
    results = []
    for invariant in invariants:
        async with context.unit_of_work() as uow:
            findings = await invariant.find(uow)
        results.append(
            InvariantResult(
                name=invariant.name,
                severity=invariant.severity,
                holds=not findings,
                found=len(findings),
                findings=findings[:FINDINGS_SHOWN],
            )
        )
    ok = all(r.holds for r in results if r.severity == "violation")
    return ChecksReport(service=service, ok=ok, invariants=results)


async def _outbox_waiting(uow: UnitOfWork[Any]) -> list[str]:
    waiting = await uow.session.scalar(select(func.count()).select_from(OutboxRecord)) or 0
    return [f"{waiting} outbox row(s) not yet published"] if waiting else []


OUTBOX_DRAINED = Invariant("the outbox is drained (once the stack is quiet)", _outbox_waiting)
KIT_INVARIANTS: tuple[Invariant, ...] = (OUTBOX_DRAINED,)


PERMISSIONS = table([("GET", "/v1/checks", roles(Role.OPERATIONS, Role.FINANCE, read=True))])


def checks_router(service: str, invariants: Sequence[Invariant]) -> APIRouter:
    """`GET /v1/checks`: the kit's invariants and the service's, recomputed now."""
    router = APIRouter(prefix="/v1", tags=["checks"])
    every = (*KIT_INVARIANTS, *invariants)

    @router.get("/checks")
    async def get_checks(runtime: RuntimeDep) -> ChecksReport:
        return await run_checks(service, runtime.context, every)

    return router
