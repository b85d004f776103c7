"""Detached background processes tracked by pidfiles under a state directory.

The local runtime has no Docker and no service manager it may rely on, so each server runs as
a plain process in its own session: it outlives the CLI call that started it, and a later call
(or a test) finds it again through `<state>/run/<name>.pid` and can stop its whole group.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import httpx

T = TypeVar("T")

# Popen objects of the children this Python process started. Holding them lets us reap a child
# that exited (a zombie still answers kill(pid, 0)) and avoids "subprocess still running"
# ResourceWarnings when the object would otherwise be garbage-collected.
_children: dict[int, subprocess.Popen[bytes]] = {}
_children_lock = threading.Lock()

# /proc/<pid>/stat start times are in clock ticks since boot and boot time has 1 s precision.
_START_TIME_SLACK = 2.0


def log_path(name: str, *, state_dir: Path) -> Path:
    """Where a process's stdout and stderr go, so a failed start can quote its tail."""
    return state_dir / "logs" / f"{name}.log"


def _pid_path(name: str, *, state_dir: Path) -> Path:
    return state_dir / "run" / f"{name}.pid"


def start_detached(
    name: str,
    argv: list[str],
    *,
    state_dir: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    user: str | None = None,
) -> int:
    """Start `argv` in a new session and record its pid; returns the pid.

    A new session makes the process its own group leader, so `stop` can signal the process and
    any children with one killpg, and a Ctrl-C in the caller's terminal does not reach it.
    `user` (root only) drops privileges for servers such as PostgreSQL that refuse to run as root.
    """
    log = log_path(name, state_dir=state_dir)
    log.parent.mkdir(parents=True, exist_ok=True)
    pid_file = _pid_path(name, state_dir=state_dir)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    gid: int | None = None
    extra_groups: list[int] | None = None
    if user is not None:
        gid = pwd.getpwnam(user).pw_gid
        # Without this the child would keep root's supplementary groups.
        extra_groups = os.getgrouplist(user, gid)
    with log.open("ab") as out:
        out.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting {argv[0]}\n".encode())
        out.flush()
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
            user=user,
            group=gid,
            extra_groups=extra_groups,
        )
    with _children_lock:
        _children[proc.pid] = proc
    tmp = pid_file.with_suffix(".pid.tmp")
    tmp.write_text(f"{proc.pid}\n")
    tmp.replace(pid_file)
    return proc.pid


def _process_start_epoch(pid: int) -> float | None:
    """When `pid` started (seconds since the epoch), or None where /proc cannot tell."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
    except (OSError, StopIteration, ValueError):
        return None
    # The command name (field 2) may contain spaces; fields after its closing ")" are fixed.
    fields = stat.rsplit(")", 1)[1].split()
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def _alive(pid: int) -> bool:
    with _children_lock:
        proc = _children.get(pid)
    if proc is not None and proc.poll() is not None:
        with _children_lock:
            _children.pop(pid, None)
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        # A zombie that is not our child (its parent has not reaped it yet) is not running,
        # but a zombie leader whose other threads are still exiting (a JVM after SIGKILL) still
        # holds its sockets open: only the last thread's exit closes them.
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        threads = len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return True
    return state not in ("Z", "X") or threads > 1


def read_pid(name: str, *, state_dir: Path) -> int | None:
    """The pid of a live process started under `name`, or None if there is none.

    A pidfile can outlive its process (kill -9, reboot) and the pid can be reused by an unrelated
    process; a process that started after the pidfile was written is therefore not ours.
    """
    pid_file = _pid_path(name, state_dir=state_dir)
    try:
        pid = int(pid_file.read_text().strip())
        written = pid_file.stat().st_mtime
    except (OSError, ValueError):
        return None
    if pid <= 0 or not _alive(pid):
        return None
    started = _process_start_epoch(pid)
    if started is not None and started > written + _START_TIME_SLACK:
        return None
    return pid


def is_running(name: str, *, state_dir: Path) -> bool:
    """Whether the process recorded under `name` is alive."""
    return read_pid(name, state_dir=state_dir) is not None


def _wait_dead(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:
        _signal(pid, sig)  # not a group we lead (should not happen for our sessions)


def stop(
    name: str,
    *,
    state_dir: Path,
    timeout: float = 20.0,
    sig: signal.Signals = signal.SIGTERM,
    group: bool = True,
) -> bool:
    """Stop the process gracefully, escalating to SIGKILL of its group after `timeout` seconds.

    `sig` and `group` exist because servers differ in how they want to be told: PostgreSQL's
    postmaster wants SIGINT (SIGTERM waits for every client to leave) sent to it alone, and
    then ends its own children in order. Returns whether something was running.
    """
    pid = read_pid(name, state_dir=state_dir)
    stopped = False
    if pid is not None:
        if group:
            _signal_group(pid, sig)
        else:
            _signal(pid, sig)
        if not _wait_dead(pid, timeout):
            _signal_group(pid, signal.SIGKILL)
            _wait_dead(pid, 10.0)
        stopped = True
    _pid_path(name, state_dir=state_dir).unlink(missing_ok=True)
    return stopped


def kill(name: str, *, state_dir: Path) -> None:
    """SIGKILL the process group at once, as a crash would; the pidfile stays for inspection."""
    pid = read_pid(name, state_dir=state_dir)
    if pid is not None:
        _signal_group(pid, signal.SIGKILL)
        _wait_dead(pid, 10.0)


def port_open(host: str, port: int) -> bool:
    """Whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, timeout: float) -> None:
    """Block until host:port accepts connections; raise TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not port_open(host, port):
        if time.monotonic() >= deadline:
            raise TimeoutError(f"nothing accepted connections on {host}:{port} within {timeout:g}s")
        time.sleep(0.2)


def log_tail(name: str, *, state_dir: Path, lines: int = 40) -> str:
    """The last lines of a process's log, to put the real cause into an exception message."""
    try:
        text = log_path(name, state_dir=state_dir).read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def run_sync(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from synchronous code, even inside a running event loop.

    The runtime API is synchronous (CLI commands, fixtures) but talks to the servers with
    asyncio clients; a private thread with its own loop works whether or not the caller is
    already inside `asyncio.run` (as an async test is).
    """
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(factory()))
        except BaseException as exc:  # re-raised in the caller's thread
            error.append(exc)

    thread = threading.Thread(target=target, name="keel-runtime-async")
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


def apt_install(*packages: str) -> None:
    """Install Debian packages non-interactively; fresh CI machines have only the base image."""
    if shutil.which("apt-get") is None:
        raise RuntimeError(f"cannot install {', '.join(packages)}: no apt-get on this machine")
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*prefix, "apt-get", "update", "-q"], check=True, env=env)
    subprocess.run(
        [*prefix, "apt-get", "install", "-y", "-q", "--no-install-recommends", *packages],
        check=True,
        env=env,
    )


def installed_command(name: str, *, package: str) -> str:
    """The command `name` on PATH, installing Debian's `package` first if it is missing."""
    found = shutil.which(name)
    if found is None:
        apt_install(package)
        found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"no {name} on PATH after installing {package}")
    return found


def deploy_path(relative: str, *, marker: str) -> Path:
    """deploy/<relative>, found from this source tree or the working directory by the `marker`
    file it holds. KEEL_DEPLOY_DIR (the deploy folder) wins, so an installed (non-editable) CLI
    can still be pointed at it."""
    override = os.environ.get("KEEL_DEPLOY_DIR")
    if override:
        return Path(override) / relative
    for base in (*Path(__file__).resolve().parents, *Path.cwd().resolve().parents, Path.cwd()):
        candidate = base / "deploy" / relative
        if (candidate / marker).is_file():
            return candidate
    raise FileNotFoundError(f"deploy/{relative}/{marker} not found; set KEEL_DEPLOY_DIR")


def wait_ready(
    name: str,
    *,
    state_dir: Path,
    ready: Callable[[], bool],
    what: str,
    timeout: float,
    poll: float = 0.25,
) -> None:
    """Wait until `ready()` holds for the process started as `name`; `what` says in an error
    what it did not do ("Kafka did not answer on ..."). A process that exits while we wait
    fails at once, with its log's tail, rather than after the whole timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_running(name, state_dir=state_dir):
            tail = log_tail(name, state_dir=state_dir)
            raise RuntimeError(f"{name} exited during start-up; log tail:\n{tail}")
        if ready():
            return
        time.sleep(poll)
    tail = log_tail(name, state_dir=state_dir)
    raise TimeoutError(f"{what} in {timeout:g}s:\n{tail}")


def wait_for_http(name: str, *, state_dir: Path, url: str, timeout: float) -> None:
    """`wait_ready` for a server that says it is ready by answering `url` with a 200."""

    def answers() -> bool:
        try:
            return httpx.get(url, timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    wait_ready(
        name,
        state_dir=state_dir,
        ready=answers,
        what=f"{name} did not answer {url}",
        timeout=timeout,
        poll=0.5,
    )
