"""`keel`: start, stop and inspect the local stack; dead letters; tests."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import subprocess
import time
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from keel_cli import audit, dev_commands, dlq_commands, stack, trace, users
from keel_cli.options import DEFAULT_BOOTSTRAP, BootstrapOption
from keel_cli.runtime import kafka, observability, postgres, processes
from keel_contracts import SERVICES
from keel_contracts.roles import STAFF_ROLES, Role

app = typer.Typer(
    help="Keel: the operations core, run locally without Docker.", no_args_is_help=True
)
app.add_typer(dlq_commands.app, name="dlq")
app.add_typer(audit.app, name="audit")
app.add_typer(users.app, name="user")
app.command("trace")(trace.command)
app.command("test")(dev_commands.run_tests)
app.command("migrations-new")(dev_commands.migrations_new)
console = Console()
MAX_TOKEN_TTL = timedelta(days=30)

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="sqlite (embedded, one file per service) or postgres; "
        "default: what this state folder's stack runs on, else sqlite",
        show_default=False,
    ),
]


def _config(database: str | None = None) -> stack.StackConfig:
    """The stack to act on; `database` unsaid means the one this state folder records."""
    if database is not None and database not in stack.DATABASES:
        raise typer.BadParameter("choose sqlite or postgres", param_hint="--database")
    state_dir = stack.default_state_dir()
    try:
        chosen = stack.choose_database(state_dir, database)
    except stack.DatabaseConflict as error:
        console.print(f"[red]{error}")
        raise typer.Exit(1) from error
    return stack.StackConfig(state_dir=state_dir, database=chosen)


@app.command()
def up(
    database: DatabaseOption = None,
    secure_broker: Annotated[
        bool | None,
        typer.Option(
            "--secure-broker/--plain-broker",
            help="Kafka with SASL/SCRAM logins and per-service ACLs, as deploy/ runs it, or "
            "without; default: as this state folder's broker last ran, else plain",
            show_default=False,
        ),
    ] = None,
    observe: Annotated[
        bool,
        typer.Option(
            help="start Zipkin's tracing UI on 127.0.0.1:9411 (the services send it every "
            "trace, by default) and Prometheus on 127.0.0.1:9090 (it scrapes them)"
        ),
    ] = True,
) -> None:
    """Start Kafka, the databases, the tracing UI and the six services; return when all are
    ready.

    Safe to repeat: only what is missing starts, on the database the stack already uses.
    """
    config = dataclasses.replace(_config(database), secure_broker=secure_broker, observe=observe)
    started = time.monotonic()
    already = _bring_up(config)
    if already:
        console.print("Keel was already running; nothing was restarted.")
    _print_status(stack.component_states(config))
    console.print(f"ready in {time.monotonic() - started:.1f}s")


def _bring_up(config: stack.StackConfig) -> bool:
    """Start whatever is not running; returns whether everything already was."""
    running = [s for s in stack.APPS if processes.is_running(s, state_dir=config.state_dir)]
    with console.status("Kafka broker"):
        kafka.ensure_installed(config.state_dir)
        try:
            kafka.start(config.state_dir, port=config.kafka_port, secure=config.secure_broker)
        except RuntimeError as error:
            console.print(f"[red]{error}")
            raise typer.Exit(1) from error
    if config.database == "postgres":
        with console.status("PostgreSQL"):
            postgres.ensure_installed()
            postgres.start(config.state_dir, port=config.postgres_port)
            for service in SERVICES:
                postgres.create_database(f"keel_{service}", port=config.postgres_port)
    # A stack already running keeps its choice (`keel demo` after `keel up --no-observe`).
    if config.observe and (not running or observability.urls(config.state_dir)):
        with console.status("Zipkin, the tracing UI, and Prometheus"):
            observability.start(config.state_dir, {s: stack.PORTS[s] for s in SERVICES})
    # Recorded before the services start, so a crash from here on still leaves the trace.
    stack.record_database(config)
    missing = [s for s in stack.APPS if s not in running]
    for name in running:
        console.print(f"{name}: already running")
    if missing:
        console.print(f"starting {', '.join(missing)} on {config.database}")
    for name in missing:
        stack.start_service(config, name)
    with console.status("waiting for every /health/ready"):
        try:
            stack.wait_ready()
        except TimeoutError as error:
            console.print(f"[red]{error}[/]\nSee `keel logs SERVICE`.")
            raise typer.Exit(1) from error
    return len(running) == len(stack.APPS)


@app.command()
def demo(
    orders: Annotated[int, typer.Option(min=1, max=100_000, help="orders to place")] = 2000,
    skus: Annotated[int, typer.Option(min=10, max=5000, help="SKUs in the catalog")] = 200,
    seed: Annotated[int, typer.Option(help="random seed, for a repeatable day")] = 7,
    database: DatabaseOption = None,
) -> None:
    """A simulated trading day: catalog, three channels ordering, warehouses shipping, buyers
    replenishing, customers returning; then the report (statuses, oversold units, cycle times,
    fill rates, returns and refunds, trial balance, inventory reconciliation, margins)."""
    from keel_cli.demo.run import render, run_day

    config = _config(database)
    _bring_up(config)
    started = time.monotonic()
    result = asyncio.run(run_day(orders, skus, seed, console))
    render(result, console)
    console.print(f"demo took {time.monotonic() - started:.0f}s")
    reconciled = result.reconciliation.get("matches")
    if result.oversold_units or not result.trial_balance.get("balanced") or not reconciled:
        raise typer.Exit(1)


@app.command()
def bench(
    rate: Annotated[
        float, typer.Option(min=1, help="offered orders/s for the fixed-rate run")
    ] = 50,
    duration: Annotated[
        float, typer.Option(min=5, help="seconds per run; rates are also shown per 30 s")
    ] = 30,
    concurrency: Annotated[int, typer.Option(min=1, max=512, help="requests in flight")] = 32,
    batch: Annotated[
        int, typer.Option(min=1, max=500, help="orders per request (over 1: the batch endpoint)")
    ] = 1,
    skus: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    hot_sku: Annotated[
        bool,
        typer.Option(
            "--hot-sku",
            help="instead: every order for one SKU stocked with 2,000 units at one warehouse, "
            "as fast as possible; reservations/s and oversold units",
        ),
    ] = False,
    database: DatabaseOption = None,
) -> None:
    """The ceilings (pgbench, raw Kafka), then orders through the intake at a fixed rate and at
    saturation, shipped by the bench as the warehouses, to the sale's journal posting: orders/s,
    latency percentiles, per-window rates, consumer lag, CPU seconds per process."""
    from keel_cli.bench import run_bench
    from keel_cli.bench_report import publish

    config = _config(database)
    _bring_up(config)
    report = asyncio.run(
        run_bench(
            rate=rate,
            duration=duration,
            concurrency=concurrency,
            batch=batch,
            skus=skus,
            hot_sku=hot_sku,
            config=config,
            services=SERVICES,
            on_phase=lambda phase: console.print(f"[bold]{phase}"),
        )
    )
    report["database"] = config.database
    if not publish(report, stack.REPO_ROOT / "bench" / "results", console.print):
        raise typer.Exit(1)


@app.command()
def down(
    keep_infra: Annotated[bool, typer.Option(help="stop only the services")] = False,
) -> None:
    """Stop the services gracefully (they flush their outboxes), then Kafka, Zipkin, Prometheus
    and PostgreSQL."""
    state_dir = stack.default_state_dir()
    for service in (stack.CONSOLE, *SERVICES):
        if processes.stop(service, state_dir=state_dir, timeout=30):
            console.print(f"stopped {service}")
    if keep_infra:
        return
    if kafka.is_running(state_dir):
        kafka.stop(state_dir)
        console.print("stopped kafka")
    for tool in observability.stop(state_dir):
        console.print(f"stopped {tool}")
    # Only this folder's own server: a PostgreSQL that merely answers on the port is not ours.
    if processes.is_running(postgres.NAME, state_dir=state_dir):
        postgres.stop(state_dir)
        console.print("stopped postgres")
    stack.forget_database(state_dir)


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on stdout")] = False,
) -> None:
    """Show what runs, where, and whether each service is ready.

    Exits 0 only when Kafka, PostgreSQL (if used) and every service are up and ready.
    """
    config = _config()
    states = stack.component_states(config)
    if as_json:
        print(json.dumps(stack.status_document(config, states), indent=2))
    else:
        _print_status(states)
    if not all(c.ok for c in states):
        raise typer.Exit(1)


def _print_status(states: list[stack.ComponentState]) -> None:
    table = Table("component", "url", "state")
    for c in states:
        shown_url = f"{c.url}/docs" if c.name in SERVICES else c.url
        shown_url = f"{c.url}/signin" if c.name == stack.CONSOLE else shown_url
        table.add_row(c.name, shown_url, c.state if c.ok else f"[red]{c.state}[/]")
    console.print(table)


@app.command()
def check(
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on stdout")] = False,
    wait: Annotated[float, typer.Option(min=0, help="seconds to wait for quiet first")] = 60,
    bootstrap: BootstrapOption = DEFAULT_BOOTSTRAP,
) -> None:
    """Recompute every cross-service invariant (stock, orders, books, lag); exit 1 on any
    violation. Dead letters and parked rows are warnings."""
    from keel_cli.check import render, run_check

    urls = {service: stack.url(service) for service in SERVICES}
    report = asyncio.run(run_check(urls, stack.tools_kafka(bootstrap), quiet_timeout=wait))
    if as_json:
        print(json.dumps(report.document(), indent=2))
    else:
        render(report, console)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def chaos(
    seed: Annotated[int, typer.Option(help="draws the schedule of faults")] = 1,
    duration: Annotated[float, typer.Option(min=10, help="seconds of load")] = 60,
    rate: Annotated[float, typer.Option(min=1, help="orders offered per second")] = 10,
    database: DatabaseOption = None,
    out: Annotated[Path | None, typer.Option(help="also write the result here as JSON")] = None,
) -> None:
    """Trading-day load while faults strike (kills, broker and database restarts, a paused
    consumer, duplicates, poison), then heal and `keel check`; exit 1 on any violation."""
    from keel_cli.chaos.run import render, run_chaos
    from keel_cli.chaos.schedule import POLL_INTERVAL_SECONDS

    config = _config(database)
    # Services this run starts or restarts (a stalled one always is) give up a stalled batch's
    # partitions this soon.
    os.environ.setdefault("KEEL_CONSUMER_MAX_POLL_INTERVAL_SECONDS", str(POLL_INTERVAL_SECONDS))
    _bring_up(config)
    result = asyncio.run(
        run_chaos(config, seed=seed, duration=duration, rate=rate, say=console.print)
    )
    render(result, console)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result.document(), indent=2))
    if result.violations:
        raise typer.Exit(1)


@app.command()
def logs(
    service: str,
    lines: Annotated[int, typer.Option("-n", help="lines to show")] = 50,
    follow: Annotated[bool, typer.Option("-f", help="keep following")] = False,
) -> None:
    """Show a component's log (a service name, kafka or postgres)."""
    path = processes.log_path(service, state_dir=stack.default_state_dir())
    if not path.exists():
        console.print(f"[red]no log for {service} at {path}")
        raise typer.Exit(1)
    argv = ["tail", f"-n{lines}", *(["-f"] if follow else []), str(path)]
    raise typer.Exit(subprocess.call(argv))


@app.command()
def token(
    user: Annotated[str, typer.Option(help="the person the token names (its `sub`)")],
    role: Annotated[Role, typer.Option(help="what they may do")],
    ttl: Annotated[str, typer.Option(help="how long it lasts: 90s, 30m, 8h, 2d")] = "8h",
) -> None:
    """Print a staff token signed by the local stack's issuer, alone on stdout:
    `export KEEL_TOKEN=$(./keel token --user ann --role admin)`."""
    try:
        lifetime = parse_duration(ttl)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--ttl") from error
    if role not in STAFF_ROLES:
        raise typer.BadParameter(
            "a person's token; services sign their own, partners sign their requests",
            param_hint="--role",
        )
    if not user.strip() or len(user) > 200:
        raise typer.BadParameter("name a person, up to 200 characters", param_hint="--user")
    print(stack.keys().staff_token(user=user, role=role, ttl=lifetime))


def parse_duration(text: str) -> timedelta:
    """`90s`, `30m`, `8h` or `2d`; at most 30 days, since a token cannot be taken back."""
    units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
    number, unit = text[:-1], text[-1:]
    if unit not in units or not number.isdigit() or int(number) == 0:
        raise ValueError(f"{text!r} is not a duration like 90s, 30m, 8h or 2d")
    lifetime = timedelta(**{units[unit]: int(number)})
    if lifetime > MAX_TOKEN_TTL:
        raise ValueError(f"{text!r} is longer than the {MAX_TOKEN_TTL.days} days a token may last")
    return lifetime


if __name__ == "__main__":
    app()
