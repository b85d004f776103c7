"""Zipkin's server, the tracing UI engineers open: its v2 API and UI on 127.0.0.1:9411.

The exec jar comes from Maven Central through `deploy/local/zipkin/pom.xml`, as the broker does.
It keeps spans in memory, at most MAX_SPANS of them (the oldest go first), so a long-running
stack never outgrows its heap; a restart forgets them.
"""

from __future__ import annotations

import os
from pathlib import Path

from keel_cli.runtime import maven, processes

NAME = "zipkin"
HOST = "127.0.0.1"
PORT = 9411
MAX_SPANS = 100_000  # about 150 MB of heap: a trading day of a few thousand orders
READY_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0


def url(port: int = PORT) -> str:
    return f"http://{HOST}:{port}"


def spans_endpoint(port: int = PORT) -> str:
    """Where services send their spans (Zipkin's v2 JSON API)."""
    return f"{url(port)}/api/v2/spans"


def ensure_installed(state_dir: Path) -> Path:
    """The exec jar, fetched into <state>/zipkin/libs unless the same pom already did."""
    libs = maven.fetch(NAME, state_dir / NAME / "libs")
    [jar] = libs.glob("zipkin-server-*-exec.jar")
    return jar


def start(state_dir: Path, *, port: int = PORT, heap: str = "384m") -> None:
    """Start the server unless it already runs; returns once its health check answers."""
    state_dir = state_dir.resolve()
    if not processes.is_running(NAME, state_dir=state_dir):
        if processes.port_open(HOST, port):
            raise RuntimeError(f"port {port} is taken by a process this state dir did not start")
        jar = ensure_installed(state_dir)
        argv = [
            maven.java(),
            "-Xms64m",
            f"-Xmx{heap}",
            "-XX:+ExitOnOutOfMemoryError",
            "-jar",
            str(jar),
            # Loopback only, like every local component.
            f"--armeria.ports[0].ip={HOST}",
            f"--armeria.ports[0].port={port}",
            "--armeria.ports[0].protocols=http",
        ]
        env = {
            **os.environ,
            "STORAGE_TYPE": "mem",
            "MEM_MAX_SPANS": str(MAX_SPANS),
            "QUERY_PORT": str(port),
        }
        processes.start_detached(NAME, argv, state_dir=state_dir, env=env)
    processes.wait_for_http(
        NAME, state_dir=state_dir, url=f"{url(port)}/health", timeout=READY_TIMEOUT
    )


def stop(state_dir: Path) -> None:
    processes.stop(NAME, state_dir=state_dir.resolve(), timeout=STOP_TIMEOUT)


def is_running(state_dir: Path) -> bool:
    return processes.is_running(NAME, state_dir=state_dir.resolve())
