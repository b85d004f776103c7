"""What an engineer opens beside a running stack, asked as they would: Prometheus's HTTP API,
and Zipkin's UI rendered by a real headless Chromium (Debian's package)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from keel_cli.runtime import processes, prometheus, zipkin

# As a new machine's probe runs it: no sandbox as root, and none of the background calls a
# closed network refuses by the dozen.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=15000",  # let the page's scripts fetch and draw before it is read
)


def prometheus_api(path: str, **params: Any) -> Any:
    response = httpx.get(f"{prometheus.url()}/api/v1/{path}", params=params, timeout=10.0)
    response.raise_for_status()
    body = response.json()
    assert body["status"] == "success", body
    return body["data"]


def targets_up() -> dict[str, bool]:
    """Each scraped service (by its `service` label) and whether its last scrape succeeded."""
    return {
        target["labels"]["service"]: target["health"] == "up"
        for target in prometheus_api("targets")["activeTargets"]
        if target["labels"].get("job") == "keel"
    }


def query(expression: str) -> dict[str, float]:
    """An instant query's samples, keyed by their labels' values joined (or "" for none)."""
    return {
        ",".join(sample["metric"].get(k, "") for k in sorted(sample["metric"])): float(
            sample["value"][1]
        )
        for sample in prometheus_api("query", query=expression)["result"]
    }


def exemplar_trace_ids(metric: str, *, within_seconds: float = 3600) -> list[str]:
    """The trace ids Prometheus stored as exemplars of `metric`, newest last."""
    now = time.time()
    series = prometheus_api("query_exemplars", query=metric, start=now - within_seconds, end=now)
    return [
        exemplar["labels"]["trace_id"]
        for found in series
        for exemplar in found["exemplars"]
        if "trace_id" in exemplar["labels"]
    ]


def zipkin_traces(**query: str) -> list[list[dict[str, Any]]]:
    """Traces Zipkin's API finds for `query` (serviceName, spanName, annotationQuery...)."""
    response = httpx.get(
        f"{zipkin.url()}/api/v2/traces", params={**query, "limit": "50"}, timeout=10.0
    )
    response.raise_for_status()
    found: list[list[dict[str, Any]]] = response.json()
    return found


def render(url: str, *, screenshot: Path, height: int = 1000) -> str:
    """Load `url` in headless Chromium: save a screenshot, and return the DOM as drawn. A page
    that draws only the rows in view (Zipkin's span list) needs the `height` to show them all."""
    chromium = processes.installed_command("chromium", package="chromium")
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    profile = screenshot.parent / "chromium-profile"
    size = f"--window-size=1400,{height}"
    common = [chromium, *CHROMIUM_FLAGS, size, f"--user-data-dir={profile}"]
    subprocess.run(
        [*common, f"--screenshot={screenshot}", url], check=True, capture_output=True, timeout=120
    )
    drawn = subprocess.run(
        [*common, "--dump-dom", url], check=True, capture_output=True, text=True, timeout=120
    )
    return drawn.stdout
