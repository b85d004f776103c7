"""`keel`: start, stop and inspect the local stack; dead letters; tests."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from keel_cli import dlq, stack
from keel_cli.runtime import kafka, postgres, processes
from keel_contracts import SERVICES

app = typer.Typer(
    help="Keel: the operations core, run locally without Docker.", no_args_is_help=True
)
dlq_app = typer.Typer(help="Inspect and replay dead letters.", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")
console = Console()

BootstrapOption = Annotated[
    str,
    typer.Option(
        "--bootstrap", envvar="KEEL_KAFKA_BOOTSTRAP_SERVERS", help="Kafka bootstrap servers"
    ),
]
DEFAULT_BOOTSTRAP = kafka.bootstrap()
DatabaseOption = Annotated[
    str, typer.Option("--database", help="sqlite (embedded, one file per service) or postgres")
]


def _config(database: str = "sqlite") -> stack.StackConfig:
    if database not in ("sqlite", "postgres"):
        raise typer.BadParameter("choose sqlite or postgres", param_hint="--database")
    return stack.StackConfig(state_dir=stack.default_state_dir(), database=database)


def _running_database(config: stack.StackConfig) -> str:
    marker = config.state_dir / "run" / "database"
    return marker.read_text().strip() if marker.exists() else config.database


@app.command()
def up(database: DatabaseOption = "sqlite") -> None:
    """Start Kafka, the databases and the six services; return when all are ready."""
    config = _config(database)
    started = time.monotonic()
    already = _bring_up(config)
    if already:
        console.print("Keel was already running; nothing was restarted.")
    _print_status(config)
    console.print(f"ready in {time.monotonic() - started:.1f}s")


def _bring_up(config: stack.StackConfig) -> bool:
    """Start whatever is not running; returns whether everything already was."""
    running = [s for s in SERVICES if processes.is_running(s, state_dir=config.state_dir)]
    if running and _running_database(config) != config.database:
        console.print(
            f"[red]The stack already runs on {_running_database(config)}; `keel down` first."
        )
        raise typer.Exit(1)
    with console.status("Kafka broker"):
        kafka.ensure_installed(config.state_dir)
        kafka.start(config.state_dir, port=config.kafka_port)
    if config.database == "postgres":
        with console.status("PostgreSQL"):
            postgres.ensure_installed()
            postgres.start(config.state_dir, port=config.postgres_port)
            for service in SERVICES:
                postgres.create_database(f"keel_{service}", port=config.postgres_port)
    (config.state_dir / "run").mkdir(parents=True, exist_ok=True)
    (config.state_dir / "run" / "database").write_text(config.database)
    for service in SERVICES:
        if service in running:
            console.print(f"{service}: already running")
        else:
            stack.start_service(config, service)
    with console.status("waiting for every /health/ready"):
        try:
            stack.wait_ready()
        except TimeoutError as error:
            console.print(f"[red]{error}[/]\nSee `keel logs SERVICE`.")
            raise typer.Exit(1) from error
    return len(running) == len(SERVICES)


@app.command()
def demo(
    orders: Annotated[int, typer.Option(min=1, max=100_000, help="orders to place")] = 2000,
    skus: Annotated[int, typer.Option(min=10, max=5000, help="SKUs in the catalog")] = 200,
    seed: Annotated[int, typer.Option(help="random seed, for a repeatable day")] = 7,
    database: DatabaseOption = "sqlite",
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
    duration: Annotated[float, typer.Option(min=5, help="seconds per run")] = 30,
    concurrency: Annotated[int, typer.Option(min=1, max=512, help="requests in flight")] = 32,
    batch: Annotated[
        int, typer.Option(min=1, max=500, help="orders per request (over 1: the batch endpoint)")
    ] = 1,
    skus: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    database: DatabaseOption = "sqlite",
) -> None:
    """Orders through the intake at a fixed rate, then at saturation: orders/s, latency
    percentiles to confirmation and to shipment, consumer lag, CPU seconds per process."""
    from keel_cli.bench import dumps, run_bench, stamp

    config = _config(database)
    _bring_up(config)
    report = asyncio.run(
        run_bench(
            rate=rate,
            duration=duration,
            concurrency=concurrency,
            batch=batch,
            skus=skus,
            bootstrap=config.bootstrap,
            state_dir=config.state_dir,
            services=SERVICES,
            on_phase=lambda phase: console.print(f"[bold]{phase}"),
        )
    )
    report["database"] = database
    out = stack.REPO_ROOT / "bench" / "results" / f"keel-bench-{stamp()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(dumps(report))
    print(dumps(report))
    console.print(f"report written to {out}")


@app.command()
def down(
    keep_infra: Annotated[bool, typer.Option(help="stop only the services")] = False,
) -> None:
    """Stop the services gracefully (they flush their outboxes), then Kafka and PostgreSQL."""
    config = _config()
    for service in SERVICES:
        if processes.stop(service, state_dir=config.state_dir, timeout=30):
            console.print(f"stopped {service}")
    if keep_infra:
        return
    if kafka.is_running(config.state_dir):
        kafka.stop(config.state_dir)
        console.print("stopped kafka")
    if postgres.is_running(config.state_dir, config.postgres_port):
        postgres.stop(config.state_dir)
        console.print("stopped postgres")


@app.command()
def status() -> None:
    """Show what runs, where, and whether each service is ready."""
    _print_status(_config())


def _print_status(config: stack.StackConfig) -> None:
    table = Table("component", "url", "state")
    table.add_row(
        "kafka", config.bootstrap, "running" if kafka.is_running(config.state_dir) else "stopped"
    )
    database = _running_database(config)
    if database == "postgres":
        pg_state = postgres.is_running(config.state_dir, config.postgres_port)
        table.add_row(
            "postgres", f"127.0.0.1:{config.postgres_port}", "running" if pg_state else "stopped"
        )
    else:
        table.add_row("databases", str(config.state_dir / "data"), "sqlite files")
    for service in SERVICES:
        ok, _detail = stack.ready(service)
        state = (
            "ready"
            if ok
            else (
                "starting"
                if processes.is_running(service, state_dir=config.state_dir)
                else "stopped"
            )
        )
        table.add_row(service, f"{stack.url(service)}/docs", state)
    console.print(table)


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


@dlq_app.command("list")
def dlq_list(
    group: Annotated[
        str | None, typer.Argument(help="consumer group, e.g. finance-service")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    bootstrap: BootstrapOption = DEFAULT_BOOTSTRAP,
) -> None:
    """List dead letters of one consumer group, or of all."""
    letters = [
        letter
        for g in ([group] if group else dlq.groups())
        for letter in asyncio.run(dlq.read_all(bootstrap, g))
    ]
    if as_json:
        print(json.dumps([d.summary() for d in letters], indent=2))
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
    console.print(f"{len(letters)} dead letter(s)")


@dlq_app.command("replay")
def dlq_replay(
    group: Annotated[str, typer.Argument(help="consumer group, e.g. finance-service")],
    offset: Annotated[
        list[int] | None, typer.Option(help="dead-letter offset(s); default all")
    ] = None,
    body: Annotated[Path | None, typer.Option(help="send this corrected body instead")] = None,
    bootstrap: BootstrapOption = DEFAULT_BOOTSTRAP,
) -> None:
    """Re-deliver dead letters to their original topic (optionally with a corrected body)."""
    try:
        corrected = body.read_bytes() if body is not None else None
        replayed = asyncio.run(dlq.replay(bootstrap, group, offset, corrected))
    except ValueError as error:
        console.print(f"[red]{error}")
        raise typer.Exit(2) from error
    for letter in replayed:
        console.print(f"replayed {letter.topic}@{letter.offset} -> {letter.original_topic}")
    console.print(f"{len(replayed)} message(s) replayed")


@app.command("test")
def run_tests(
    pytest_args: Annotated[list[str] | None, typer.Argument(help="extra pytest arguments")] = None,
) -> None:
    """Lint, type-check, and run every test (starting Kafka and PostgreSQL if needed)."""
    root = stack.REPO_ROOT
    steps = [
        [sys.executable, "-m", "ruff", "check", "."],
        [sys.executable, "-m", "ruff", "format", "--check", "."],
        [sys.executable, "-m", "mypy", *_typed_packages(root)],
        [sys.executable, "-m", "mypy", *_test_dirs(root)],
        [sys.executable, "-m", "keel_cli.asyncapi", "--check"],
        [sys.executable, "-m", "pytest", *(pytest_args or [])],
    ]
    for argv in steps:
        console.print(f"[bold]$ {' '.join(argv[2:])}")
        code = subprocess.call(argv, cwd=root)
        if code != 0:
            raise typer.Exit(code)


def _typed_packages(root: Path) -> list[str]:
    """Every first-party package, as `-p name` pairs for mypy."""
    names = ["keel_contracts", "keel_kit", "keel_cli"]
    names += [f"keel_{p.name}" for p in sorted((root / "services").iterdir()) if p.is_dir()]
    return [arg for name in names for arg in ("-p", name)]


def _test_dirs(root: Path) -> list[str]:
    dirs = [root / "tests", root / "bench", *sorted(root.glob("*/*/tests"))]
    return [str(d.relative_to(root)) for d in dirs if any(d.glob("*.py"))]


@app.command("migrations-new")
def migrations_new(service: str, message: str) -> None:
    """Autogenerate a migration for a service from its models."""
    import importlib

    from keel_kit.migrations import new_revision

    module = importlib.import_module(f"keel_{service}.main")
    new_revision(Path(module.__file__ or "").parent / "migrations", message)


if __name__ == "__main__":
    app()
