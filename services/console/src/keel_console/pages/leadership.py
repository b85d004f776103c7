"""Leadership's page: the seed's KPIs over time as charts, each read from the service that owns
it (`GET /v1/kpis`), never from Prometheus, so they show without the observability tools."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from keel_console.charts import chart
from keel_console.sessions import SignedIn
from keel_console.web import ConsoleDep, render, role_in
from keel_contracts.roles import Role

router = APIRouter()

# The services that own KPIs, in the order the page shows them.
OWNERS = ("inventory", "order", "returns", "procurement", "finance")
KpiReader = Annotated[SignedIn, Depends(role_in(Role.LEADERSHIP, Role.OPERATIONS))]


@router.get("/leadership")
async def kpis(
    request: Request,
    console: ConsoleDep,
    person: KpiReader,
    bucket: Literal["day", "hour"] = "day",
) -> Response:
    sections: list[dict[str, Any]] = []
    for service in OWNERS:
        report, refused = await console.services.read(
            person, service, "/v1/kpis", {"bucket": bucket}
        )
        sections.append(
            {
                "service": service,
                "charts": [chart(s, bucket) for s in (report or {}).get("series", [])],
                "error": refused.detail if refused else None,
            }
        )
    return render(request, "leadership.html", person, sections=sections, bucket=bucket)
