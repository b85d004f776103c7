"""The tools engineers open beside the stack, started and stopped together: Zipkin's tracing UI
(127.0.0.1:9411) and Prometheus (127.0.0.1:9090), which scrapes the services at `targets`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from keel_cli.runtime import prometheus, zipkin


def start(state_dir: Path, targets: Mapping[str, int]) -> None:
    zipkin.start(state_dir)
    prometheus.start(state_dir, targets)


def stop(state_dir: Path) -> list[str]:
    """Stop whichever runs; returns the names of those stopped."""
    stopped = []
    for tool in (zipkin, prometheus):
        if tool.is_running(state_dir):
            tool.stop(state_dir)
            stopped.append(tool.NAME)
    return stopped


def urls(state_dir: Path) -> dict[str, str]:
    """Where each running tool's UI is."""
    found = {}
    if zipkin.is_running(state_dir):
        found[zipkin.NAME] = f"{zipkin.url()}/zipkin/"
    if prometheus.is_running(state_dir):
        found[prometheus.NAME] = f"{prometheus.url()}/targets"
    return found
