"""Real service processes (uvicorn, one each) and the HTTP calls tests make to them, each
signed by a person with the keys the services check tokens against."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from keel_kit.signing import StackKeys
from tests.integration.support.people import ADMIN, Person
from tests.integration.support.polling import eventually


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class ServiceHttp:
    """Requests to a running service at `url`, with the suite's timeouts, each carrying a token
    of `person` signed with the stack's `keys` (those the service checks tokens against): the
    test's admin, unless `as_person` names someone else."""

    keys: StackKeys
    person: Person = ADMIN

    @property
    def url(self) -> str:
        raise NotImplementedError

    def as_person(self, person: Person) -> ServiceHttp:
        """The same service, asked by `person`."""
        return Endpoint(self.url, self.keys, person)

    @property
    def authorization(self) -> dict[str, str]:
        """The Authorization header of `person`'s token."""
        token = self.keys.staff_token(user=self.person.user, role=self.person.role)
        return {"Authorization": f"Bearer {token}"}

    def client(self, *, timeout: float = 10) -> httpx.AsyncClient:
        """An async client whose requests `person` signs, for requests sent concurrently."""
        return httpx.AsyncClient(base_url=self.url, headers=self.authorization, timeout=timeout)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", params=params, headers=self.authorization, timeout=10)

    def post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        headers = {**self.authorization, **(headers or {})}
        return httpx.post(f"{self.url}{path}", json=body, headers=headers, timeout=10)

    def put(self, path: str, body: Any) -> httpx.Response:
        return httpx.put(f"{self.url}{path}", json=body, headers=self.authorization, timeout=10)

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


class Endpoint(ServiceHttp):
    """A service known by its URL: one the test did not start (the one `keel up` runs, say), or
    one it did, asked by someone other than the admin."""

    def __init__(self, url: str, keys: StackKeys, person: Person = ADMIN) -> None:
        self._url = url
        self.keys = keys
        self.person = person

    @property
    def url(self) -> str:
        return self._url


@dataclass
class ServiceProcess(ServiceHttp):
    """One real service: uvicorn in its own process, spoken to over HTTP. `keys` are those in
    the `auth/` of its state folder (`KEEL_STATE_DIR` in `env`)."""

    service: str
    env: dict[str, str]
    log_dir: Path
    keys: StackKeys
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


# What the `start_service` fixture hands a test: `start_service("finance", env=...)`.
StartService = Callable[..., ServiceProcess]


def journal_entries(finance: ServiceHttp, source_id: str) -> list[dict[str, Any]]:
    response = finance.get("/v1/journal", source_id=source_id)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()
    return entries
