"""`keel dlq`: dead letters on their topics, and the outbox rows services parked."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from keel_cli import dlq, stack
from keel_cli.options import DEFAULT_BOOTSTRAP, BootstrapOption
from keel_cli.people import ADMIN
from keel_contracts import SERVICES

app = typer.Typer(help="Inspect and replay dead letters and parked rows.", no_args_is_help=True)
console = Console()
notes = Console(stderr=True)  # what is not the answer (a service not answering)


@app.command("list")
def dlq_list(
    group: Annotated[
        str | None, typer.Argument(help="consumer group, e.g. finance-service")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    bootstrap: BootstrapOption = DEFAULT_BOOTSTRAP,
) -> None:
    """List dead letters of one consumer group, or of all, and beside them the outbox rows
    the service(s) parked because the broker can never accept them."""
    kafka = stack.tools_kafka(bootstrap)
    letters = [
        letter
        for g in ([group] if group else dlq.groups())
        for letter in asyncio.run(dlq.read_all(kafka, g))
    ]
    services = [dlq.service_of_group(group)] if group else list(SERVICES)
    urls = {s: stack.url(s) for s in services if s is not None}
    # As admin: the operator who lists parked rows is the one who may replay them.
    listing = dlq.read_parked(urls, headers=ADMIN.headers())
    for service, why in listing.unreachable.items():
        # On stderr, so that --json stays one JSON document on stdout.
        notes.print(f"[yellow]{service} {why} at {stack.url(service)}: its parked rows are unknown")
    if as_json:
        summaries = [d.summary() for d in letters] + [row.summary() for row in listing.rows]
        print(json.dumps(summaries, indent=2))
        return
    table = Table("dlq", "offset", "original", "type", "error")
    for letter in letters:
        s = letter.summary()
        table.add_row(
            str(s["dlq"]),
            str(s["offset"]),
            str(s["original"]),
            str(s["type"]),
            str(s["error"])[:120],
        )
    console.print(table)
    if listing.rows:
        parked = Table("service", "parked id", "topic", "type", "key", "parked at", "reason")
        for row in listing.rows:
            parked.add_row(
                row.service, str(row.id), row.topic, row.type, row.key, row.parked_at, row.reason
            )
        console.print(parked)
    console.print(f"{len(letters)} dead letter(s), {len(listing.rows)} parked outbox row(s)")


@app.command("replay")
def dlq_replay(
    group: Annotated[str, typer.Argument(help="consumer group, e.g. finance-service")],
    offset: Annotated[
        list[int] | None, typer.Option(help="dead-letter offset(s); default all")
    ] = None,
    body: Annotated[
        Path | None, typer.Option(help="apply this corrected message (JSON) instead")
    ] = None,
    bootstrap: BootstrapOption = DEFAULT_BOOTSTRAP,
) -> None:
    """Have the service that owns the group apply its dead letters again (optionally one with a
    corrected body), as admin; each replay is audited."""
    service = dlq.service_of_group(group)
    if service is None:
        raise typer.BadParameter(f"{group} is no service's consumer group", param_hint="GROUP")
    try:
        corrected = json.loads(body.read_bytes()) if body is not None else None
        offsets = offset or [
            d.offset for d in asyncio.run(dlq.read_all(stack.tools_kafka(bootstrap), group))
        ]
        outcomes = dlq.replay(
            service, stack.url(service), offsets, corrected, headers=ADMIN.headers()
        )
    except (ValueError, LookupError) as error:
        console.print(f"[red]{error}")
        raise typer.Exit(2) from error
    except dlq.ServiceUnavailable as error:
        console.print(f"[red]{error}")
        raise typer.Exit(1) from error
    for outcome in outcomes:
        if outcome["applied"]:
            console.print(f"replayed {group}.dlq@{outcome['offset']}: applied")
        else:
            console.print(f"[red]replayed {group}.dlq@{outcome['offset']}: {outcome['error']}")
    applied = sum(1 for outcome in outcomes if outcome["applied"])
    console.print(f"{len(outcomes)} message(s) replayed, {applied} applied")
    if applied < len(outcomes):
        raise typer.Exit(1)


@app.command("replay-parked")
def dlq_replay_parked(
    service: Annotated[str, typer.Argument(help="the service that parked them, e.g. inventory")],
    parked_id: Annotated[
        list[int] | None, typer.Option("--id", help="parked row id(s); default all")
    ] = None,
) -> None:
    """Move parked outbox rows back to the end of the service's outbox, as they are, once the
    cause is fixed (a larger topic limit, say); its relay publishes them again."""
    if service not in SERVICES:
        raise typer.BadParameter(f"choose one of {', '.join(SERVICES)}", param_hint="SERVICE")
    try:
        replayed = dlq.replay_parked(
            service, stack.url(service), parked_id, headers=ADMIN.headers()
        )
    except LookupError as error:
        console.print(f"[red]{error}")
        raise typer.Exit(2) from error
    except dlq.ServiceUnavailable as error:
        console.print(f"[red]{error}")
        raise typer.Exit(1) from error
    for parked, outbox_id in replayed:
        console.print(f"replayed parked row {parked} of {service} -> outbox row {outbox_id}")
    console.print(f"{len(replayed)} parked row(s) replayed")
