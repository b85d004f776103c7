"""`keel audit verify`: every service's audit chain read whole and recomputed here.

The CLI does not trust a service to judge its own chain: it reads the entries as stored
(`GET /v1/audit/chain`, as admin, a page at a time) and checks every link itself with
`keel_kit.audit.broken_link`, naming the first broken entry of each service.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

from keel_cli import stack
from keel_cli.people import ADMIN
from keel_contracts import SERVICES
from keel_kit.audit import broken_link

app = typer.Typer(help="The audit trail of governed actions.", no_args_is_help=True)
console = Console()
TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class ChainVerdict:
    service: str
    entries: int
    broken_at: int | None = None  # the first entry that does not hold
    problem: str | None = None  # what is wrong there, or why the chain could not be read

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify_chain(http: httpx.Client, service: str, base_url: str) -> ChainVerdict:
    """Read the service's whole chain and recompute it."""
    entries: list[dict[str, Any]] = []
    cursor: str | None = None
    head: dict[str, Any] = {}
    while True:
        params = {"cursor": cursor} if cursor else {}
        response = http.get(f"{base_url}/v1/audit/chain", params=params)
        if response.status_code != 200:
            detail = f"GET /v1/audit/chain answered {response.status_code}: {response.text[:200]}"
            return ChainVerdict(service, len(entries), problem=detail)
        page = response.json()
        # The head of the last page read: entries appended while reading are behind it.
        head = page["head"]
        entries.extend(page["entries"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    broken = broken_link(entries, head)
    if broken is None:
        return ChainVerdict(service, len(entries))
    return ChainVerdict(service, len(entries), broken.seq, broken.problem)


def verify_all(urls: Mapping[str, str], headers: Mapping[str, str]) -> list[ChainVerdict]:
    verdicts = []
    with httpx.Client(timeout=TIMEOUT_SECONDS, headers=dict(headers)) as http:
        for service, base in urls.items():
            try:
                verdicts.append(verify_chain(http, service, base))
            except httpx.HTTPError as error:
                verdicts.append(ChainVerdict(service, 0, problem=f"unreachable: {error!r}"))
    return verdicts


@app.command()
def verify(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Recompute every service's audit chain; exit 0 when all hold, else name the first
    broken entry of each chain that does not."""
    verdicts = verify_all({s: stack.url(s) for s in SERVICES}, ADMIN.headers())
    if as_json:
        print(json.dumps([asdict(v) | {"ok": v.ok} for v in verdicts], indent=2))
    else:
        for v in verdicts:
            if v.ok:
                console.print(f"[green]{v.service}[/]: {v.entries} entries, the chain holds")
            elif v.broken_at is None:
                console.print(f"[red]{v.service}[/]: {v.problem}")
            else:
                console.print(f"[red]{v.service}[/]: broken at entry {v.broken_at}: {v.problem}")
    if not all(v.ok for v in verdicts):
        raise typer.Exit(1)
