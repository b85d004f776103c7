"""`keel user`: the people who sign in to the local console with a password.

They live in the console's own database (`.keel/data/console.db`, or
`KEEL_CONSOLE_DATABASE_URL`); the console need not be running. In production people sign in
through the company's identity provider instead.

The console's modules are imported by each command, not with this module: importing them
registers the console's tables in SQLModel's shared metadata, and `keel migrations-new` must
see only the service's own.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_cli import stack
from keel_contracts.roles import STAFF_ROLES, Role

if TYPE_CHECKING:
    from keel_console.models import ConsoleUser
    from keel_kit.db import Database

app = typer.Typer(help="People who sign in to the console (local passwords).")
console = Console()


async def _database() -> Database:
    """The console's database, migrated (the console need not have run yet)."""
    from keel_console.db import open_database
    from keel_console.settings import Settings

    settings = Settings(state_dir=stack.default_state_dir() / "data")
    return await open_database(settings.resolved_database_url())


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


async def _end_sessions(session: AsyncSession, name: str) -> None:
    from keel_console.models import ConsoleSession

    await session.exec(delete(ConsoleSession).where(col(ConsoleSession.username) == name))


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="the name they sign in with")],
    role: Annotated[Role, typer.Option(help="what they may do, one of the staff roles")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from stdin's first line")
    ] = False,
) -> None:
    """Add a person with a password (asked twice, not echoed), or give an existing one a new
    role and password; their open sessions end either way."""
    if role not in STAFF_ROLES:
        raise typer.BadParameter("a person's role", param_hint="--role")
    password = _read_password(password_stdin)
    from keel_console import accounts

    async def run() -> bool:
        database = await _database()
        try:
            async with database.transaction() as session:
                added = await accounts.set_user(session, name, role, password)
                await _end_sessions(session, name)
                return added
        finally:
            await database.dispose()

    try:
        added = asyncio.run(run())
    except accounts.BadAccount as error:
        console.print(f"[red]{error}")
        raise typer.Exit(1) from error
    url = f"http://127.0.0.1:{stack.PORTS[stack.CONSOLE]}/signin"
    console.print(f"{'added' if added else 'updated'} {name} ({role.value}); sign in at {url}")


@app.command("list")
def list_users() -> None:
    """Everyone who may sign in with a password, and their role."""
    from keel_console.models import ConsoleUser

    async def run() -> list[ConsoleUser]:
        database = await _database()
        try:
            async with database.transaction() as session:
                found = await session.exec(select(ConsoleUser).order_by(col(ConsoleUser.username)))
                return list(found.all())
        finally:
            await database.dispose()

    table = Table("name", "role", "password set")
    for user in asyncio.run(run()):
        table.add_row(user.username, user.role, user.password_changed_at.isoformat()[:19])
    console.print(table)


@app.command("remove")
def remove(name: str) -> None:
    """Take a person's password away and end their sessions."""
    from keel_console.models import ConsoleUser

    async def run() -> int:
        database = await _database()
        try:
            async with database.transaction() as session:
                await _end_sessions(session, name)
                gone = await session.exec(
                    delete(ConsoleUser).where(col(ConsoleUser.username) == name)
                )
                return int(gone.rowcount)
        finally:
            await database.dispose()

    if asyncio.run(run()) == 0:
        console.print(f"[red]no user {name}")
        raise typer.Exit(1)
    console.print(f"removed {name}")
