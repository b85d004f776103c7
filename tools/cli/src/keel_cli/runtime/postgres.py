"""PostgreSQL as a private cluster under the state directory.

Debian's own cluster and service are left alone: they assume systemd, a fixed port and a data
dir outside the project. Our cluster is initdb'ed once, listens on 127.0.0.1 only, and runs as
the `postgres` OS user when we are root, because the server refuses to run as root.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pwd
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

import asyncpg

from keel_cli.runtime import processes

NAME = "postgres"
HOST = "127.0.0.1"
ROLE = "keel"
PASSWORD = "keel"  # noqa: S105 - local-only role; trust auth on loopback anyway
OS_USER = "postgres"
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 60.0

_HBA = """\
# Written by keel. Trust is acceptable only because the server listens on 127.0.0.1 alone.
local   all   all                 trust
host    all   all   127.0.0.1/32  trust
"""


def ensure_installed() -> Path:
    """The newest installed server's bin dir, installing Debian's `postgresql` if none is there."""
    found = _bin_dir()
    if found is None:
        processes.apt_install("postgresql")
        _stop_debian_clusters()
        found = _bin_dir()
    if found is None:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql after install")
    return found


def _bin_dir() -> Path | None:
    servers = [
        p
        for p in Path("/usr/lib/postgresql").glob("*/bin/postgres")
        if p.parent.parent.name.isdigit()
    ]
    if not servers:
        return None
    return max(servers, key=lambda p: int(p.parent.parent.name)).parent


def _stop_debian_clusters() -> None:
    """Stop the `main` cluster the package just created and started: it would hold port 5432."""
    if shutil.which("pg_lsclusters") is None:
        return
    listing = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True)
    for line in listing.stdout.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[3] == "online":
            subprocess.run(["pg_ctlcluster", fields[0], fields[1], "stop"], check=False)


def _os_user() -> str | None:
    """The account to run the server as: `postgres` when root, else ourselves (None)."""
    return OS_USER if os.geteuid() == 0 else None


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    user = _os_user()
    gid = None if user is None else pwd.getpwnam(user).pw_gid
    return subprocess.run(
        argv,
        capture_output=True,
        text=True,
        cwd="/",  # the caller's cwd (e.g. /root) may be closed to the postgres user
        user=user,
        group=gid,
        extra_groups=None if user is None or gid is None else os.getgrouplist(user, gid),
    )


def _give_to_os_user(path: Path) -> None:
    user = _os_user()
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _record(state_dir: Path) -> Path:
    return state_dir / "postgres" / "datadir"


def data_dir(state_dir: Path) -> Path:
    """Where this state dir's cluster lives (recorded at first start; may be outside state_dir)."""
    record = _record(state_dir.resolve())
    if record.is_file():
        return Path(record.read_text().strip())
    return state_dir.resolve() / "postgres" / "data"


def _choose_data_dir(state_dir: Path) -> Path:
    """Pick, once, a data dir the server's OS user can reach, and record it.

    A state dir under a private path (pytest's tmp dirs are 0700 root) cannot hold it, so that
    case falls back to /var/tmp/keel-pg-<hash of state dir>.
    """
    record = _record(state_dir)
    if record.is_file():
        return Path(record.read_text().strip())
    home = state_dir / "postgres"
    home.mkdir(parents=True, exist_ok=True)
    home.chmod(0o700)
    _give_to_os_user(home)
    if (
        _os_user() is not None
        and _run(["test", "-w", str(home), "-a", "-x", str(home)]).returncode != 0
    ):
        digest = hashlib.sha256(str(state_dir).encode()).hexdigest()[:12]
        # Survives like the state dir would; 0700 and owned by the server's user, so not shared.
        home = Path("/var/tmp") / f"keel-pg-{digest}"  # noqa: S108
        home.mkdir(mode=0o700, exist_ok=True)
        _give_to_os_user(home)
    chosen = home / "data"
    record.write_text(f"{chosen}\n")
    return chosen


def _initdb(bin_dir: Path, data: Path) -> None:
    if (data / "PG_VERSION").is_file():
        return
    shutil.rmtree(data, ignore_errors=True)  # remains of an interrupted initdb
    pwfile = data.parent / "initdb.pw"
    pwfile.write_text(PASSWORD + "\n")
    pwfile.chmod(0o600)
    _give_to_os_user(pwfile)
    try:
        result = _run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                ROLE,
                f"--pwfile={pwfile}",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ]
        )
    finally:
        pwfile.unlink(missing_ok=True)
    if result.returncode != 0:
        raise RuntimeError(f"initdb failed:\n{result.stdout}{result.stderr}")
    (data / "pg_hba.conf").write_text(_HBA)
    _give_to_os_user(data / "pg_hba.conf")
    with (data / "postgresql.conf").open("a") as conf:
        conf.write("\ninclude 'keel.conf'\n")


def _write_settings(data: Path, port: int) -> None:
    """Rewritten on every start so a different port takes effect without a new cluster."""
    (data / "keel.conf").write_text(f"""\
# Written by keel on every start; edit keel_cli/runtime/postgres.py instead.
listen_addresses = '{HOST}'
port = {port}
unix_socket_directories = '{data}'
max_connections = 200
shared_buffers = 256MB
# Durable like production, so local benchmarks and crash tests mean something.
fsync = on
""")
    _give_to_os_user(data / "keel.conf")


async def _connect(port: int, database: str = "postgres", connect_timeout: float = 10.0) -> Any:
    return await asyncpg.connect(
        host=HOST,
        port=port,
        user=ROLE,
        password=PASSWORD,
        database=database,
        timeout=connect_timeout,
    )


async def _login(port: int) -> bool:
    try:
        conn = await _connect(port, connect_timeout=3.0)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True


def _accepts_login(port: int) -> bool:
    return processes.port_open(HOST, port) and processes.run_sync(lambda: _login(port)) is True


def _wait_ready(state_dir: Path, port: int) -> None:
    processes.wait_ready(
        NAME,
        state_dir=state_dir,
        ready=lambda: _accepts_login(port),
        what=f"PostgreSQL did not accept logins on {HOST}:{port}",
        timeout=READY_TIMEOUT,
        poll=0.2,
    )


def start(state_dir: Path, *, port: int = 5432) -> None:
    """Start the cluster unless a server already accepts the keel login on `port`."""
    state_dir = state_dir.resolve()
    if _accepts_login(port):
        return
    if processes.is_running(NAME, state_dir=state_dir):
        _wait_ready(state_dir, port)  # a previous call's server still starting
        return
    if processes.port_open(HOST, port):
        raise RuntimeError(f"port {port} is taken by something that does not accept the keel login")
    bin_dir = ensure_installed()
    data = _choose_data_dir(state_dir)
    _initdb(bin_dir, data)
    _write_settings(data, port)
    processes.start_detached(
        NAME,
        [str(bin_dir / "postgres"), "-D", str(data)],
        state_dir=state_dir,
        cwd=Path("/"),
        user=_os_user(),
    )
    _wait_ready(state_dir, port)


def stop(state_dir: Path) -> None:
    """Fast shutdown: SIGINT to the postmaster alone, which ends sessions and checkpoints."""
    processes.stop(
        NAME, state_dir=state_dir.resolve(), timeout=STOP_TIMEOUT, sig=signal.SIGINT, group=False
    )


def stop_immediately(state_dir: Path) -> None:
    """Immediate shutdown (SIGQUIT): sessions end at once, no checkpoint, as in a crash; the
    next start recovers from the write-ahead log."""
    processes.stop(
        NAME, state_dir=state_dir.resolve(), timeout=STOP_TIMEOUT, sig=signal.SIGQUIT, group=False
    )


def is_running(state_dir: Path, port: int = 5432) -> bool:
    """Whether this state dir's server is alive or some server on `port` takes the keel login."""
    return processes.is_running(NAME, state_dir=state_dir.resolve()) or _accepts_login(port)


def url(db: str, *, port: int = 5432) -> str:
    """SQLAlchemy URL for the services, so they never build one by hand."""
    return f"postgresql+asyncpg://{ROLE}:{PASSWORD}@{HOST}:{port}/{db}"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _create(name: str, port: int) -> None:
    conn = await _connect(port)
    try:
        if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return
        # Another caller may win the race between the check and the create; fine either way.
        with contextlib.suppress(asyncpg.DuplicateDatabaseError):
            await conn.execute(f"CREATE DATABASE {_quote(name)}")
    finally:
        await conn.close()


async def _drop(name: str, port: int) -> None:
    conn = await _connect(port)
    try:
        # FORCE ends leftover sessions (a crashed test's pool) that would otherwise block the drop.
        await conn.execute(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")
    finally:
        await conn.close()


def create_database(name: str, *, port: int = 5432) -> None:
    """Create a database if it does not exist yet (CREATE DATABASE has no IF NOT EXISTS)."""
    processes.run_sync(lambda: _create(name, port))


def drop_database(name: str, *, port: int = 5432) -> None:
    """Drop a database if it exists, disconnecting whoever still uses it."""
    processes.run_sync(lambda: _drop(name, port))
