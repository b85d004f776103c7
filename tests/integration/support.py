"""Helpers for integration tests: real service processes, polling, and raw Kafka access."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from aiokafka import AIOKafkaProducer

from keel_cli.topic_reader import read_topic

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def eventually(check: Callable[[], T | None], *, timeout: float = 60.0, what: str = "") -> T:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")


@dataclass
class ServiceProcess:
    """One real service: uvicorn in its own process, spoken to over HTTP."""

    service: str
    env: dict[str, str]
    log_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.log_dir / f"{self.service}-{self.port}.log"

    def start(self, *, wait_ready: bool = True, extra_env: dict[str, str] | None = None) -> None:
        env = {**os.environ, **self.env, **(extra_env or {})}
        env[f"KEEL_{self.service.upper()}_PORT"] = str(self.port)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_file.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                f"keel_{self.service}.main:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--no-access-log",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        if wait_ready:
            self.wait_ready()

    def wait_ready(self, timeout: float = 90.0) -> None:
        def is_ready() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"{self.service} exited:\n{self.tail()}")
            try:
                return httpx.get(f"{self.url}/health/ready", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        eventually(is_ready, timeout=timeout, what=f"{self.service} ready")

    def wait_listening(self, timeout: float = 60.0) -> None:
        def answers() -> bool:
            try:
                return httpx.get(f"{self.url}/health/live", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        eventually(answers, timeout=timeout, what=f"{self.service} answering HTTP")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def tail(self, lines: int = 40) -> str:
        if not self.log_file.exists():
            return ""
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])

    def get(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", params=params, timeout=10)

    def post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        return httpx.post(f"{self.url}{path}", json=body, headers=headers, timeout=10)

    def put(self, path: str, body: Any) -> httpx.Response:
        return httpx.put(f"{self.url}{path}", json=body, timeout=10)

    def metric(self, name: str, **labels: str) -> float:
        """Sum of a Prometheus sample across series matching `labels`."""
        total = 0.0
        for line in self.get("/metrics").text.splitlines():
            if not line.startswith(name) or line.startswith("#"):
                continue
            series, _, value = line.rpartition(" ")
            if series.split("{")[0] != name:
                continue
            if all(f'{k}="{v}"' in series for k, v in labels.items()):
                total += float(value)
        return total


async def produce(
    bootstrap: str, topic: str, value: bytes, *, key: str, headers: dict[str, str] | None = None
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(
            topic,
            value=value,
            key=key.encode(),
            headers=[(k, v.encode()) for k, v in (headers or {}).items()],
        )
    finally:
        await producer.stop()


async def find_record(bootstrap: str, topic: str, predicate: Callable[[bytes], bool]) -> Any:
    """The first record on `topic` whose value satisfies `predicate`."""
    for record in await read_topic(bootstrap, topic):
        if predicate(record.value or b""):
            return record
    return None


def new_sku() -> str:
    return f"SKU-{uuid.uuid4().hex[:8].upper()}"


def receive_stock(
    inventory: ServiceProcess,
    *,
    sku: str,
    quantity: int,
    unit_cost: str = "2.50",
    headers: dict[str, str] | None = None,
) -> str:
    """Register the SKU and a warehouse if needed, receive stock; return the movement id."""
    item = inventory.post(
        "/v1/items", {"sku": sku, "name": f"Item {sku}", "unit_cost": unit_cost, "currency": "USD"}
    )
    assert item.status_code in (201, 409), item.text
    location = inventory.post(
        "/v1/locations",
        {
            "location_id": "WH-EAST",
            "name": "East",
            "kind": "warehouse",
            "country": "US",
            "postal_code": "10001",
        },
    )
    assert location.status_code in (201, 409), location.text
    receipt = inventory.post(
        "/v1/receipts",
        {
            "sku": sku,
            "location_id": "WH-EAST",
            "quantity": quantity,
            "unit_cost": unit_cost,
            "reference": f"opening {sku}",
        },
        headers=headers,
    )
    assert receipt.status_code == 201, receipt.text
    movement_id: str = receipt.json()["movement_id"]
    return movement_id


def journal_entries(finance: ServiceProcess, source_id: str) -> list[dict[str, Any]]:
    response = finance.get("/v1/journal", source_id=source_id)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()
    return entries


async def produce_many(bootstrap: str, topic: str, messages: list[tuple[str, bytes]]) -> None:
    """Send (key, value) pairs in one pipelined batch."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        futures = [await producer.send(topic, value=v, key=k.encode()) for k, v in messages]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


def keel(state_dir: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the `keel` command line on its own state folder, as a user would (no KEEL_ settings
    from the test session leak into it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    env["KEEL_STATE_DIR"] = str(state_dir)
    return subprocess.run(
        [sys.executable, "-m", "keel_cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
