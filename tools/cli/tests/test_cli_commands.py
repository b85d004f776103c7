"""`keel up`, `down`, `status`, `demo` and `bench` against a fake stack.

Every probe and every start or stop the commands make goes to `FakeStack`, so these tests run
no broker, no database and no service, and never touch the ports a real stack uses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from keel_cli import bench, stack
from keel_cli.main import app
from keel_cli.runtime import kafka, kafka_security, postgres, processes, prometheus, zipkin
from keel_contracts import SERVICES

pytestmark = pytest.mark.unit


@dataclass
class FakeStack:
    """What runs (live pidfiles), what answers, and what the commands started and stopped."""

    state_dir: Path
    alive: set[str] = field(default_factory=set)  # services, "kafka", "postgres"
    ready: set[str] = field(default_factory=set)  # services answering /health/ready
    alarms: dict[str, list[str]] = field(default_factory=dict)  # what /health/ready lists
    foreign_postgres: bool = False  # someone else's server takes the keel login on the port
    started: list[tuple[str, str]] = field(default_factory=list)  # (component, database)
    stopped: list[str] = field(default_factory=list)
    broker_asked: list[bool | None] = field(default_factory=list)  # each start's `secure`

    def start_broker(self, secure: bool | None) -> None:
        self.broker_asked.append(secure)
        self.start("kafka")

    def run_all(self, database: str) -> None:
        self.alive |= {"kafka", *stack.APPS, *(["postgres"] if database == "postgres" else [])}
        self.ready |= set(stack.APPS)
        stack.record_database(stack.StackConfig(self.state_dir, database))

    def start(self, name: str, database: str = "") -> None:
        self.started.append((name, database))
        self.alive.add(name)
        if name in stack.APPS:
            self.ready.add(name)

    def stop(self, name: str) -> bool:
        was_alive = name in self.alive
        if was_alive:
            self.stopped.append(name)
        self.alive.discard(name)
        self.ready.discard(name)
        return was_alive

    def started_services(self) -> dict[str, str]:
        return {name: db for name, db in self.started if name in SERVICES}


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeStack:
    state_dir = tmp_path / "state"
    monkeypatch.setenv("KEEL_STATE_DIR", str(state_dir))
    fake = FakeStack(state_dir.resolve())

    def start_service(config: stack.StackConfig, service: str) -> int:
        fake.start(service, config.database)
        return 4242

    monkeypatch.setattr(processes, "is_running", lambda name, *, state_dir: name in fake.alive)
    monkeypatch.setattr(processes, "stop", lambda name, *, state_dir, timeout: fake.stop(name))
    monkeypatch.setattr(kafka, "ensure_installed", lambda state_dir: state_dir)
    monkeypatch.setattr(
        kafka, "start", lambda state_dir, *, port, secure: fake.start_broker(secure)
    )
    monkeypatch.setattr(kafka, "is_running", lambda state_dir: "kafka" in fake.alive)
    monkeypatch.setattr(kafka, "stop", lambda state_dir: fake.stop("kafka"))
    monkeypatch.setattr(zipkin, "start", lambda state_dir: fake.start("zipkin"))
    monkeypatch.setattr(zipkin, "is_running", lambda state_dir: "zipkin" in fake.alive)
    monkeypatch.setattr(zipkin, "stop", lambda state_dir: fake.stop("zipkin"))
    monkeypatch.setattr(prometheus, "start", lambda state_dir, targets: fake.start("prometheus"))
    monkeypatch.setattr(prometheus, "is_running", lambda state_dir: "prometheus" in fake.alive)
    monkeypatch.setattr(prometheus, "stop", lambda state_dir: fake.stop("prometheus"))
    monkeypatch.setattr(postgres, "ensure_installed", lambda: Path("/usr/lib/postgresql"))
    monkeypatch.setattr(postgres, "start", lambda state_dir, *, port: fake.start("postgres"))
    monkeypatch.setattr(postgres, "create_database", lambda name, *, port: None)
    monkeypatch.setattr(
        postgres,
        "is_running",
        lambda state_dir, port=5432: "postgres" in fake.alive or fake.foreign_postgres,
    )
    monkeypatch.setattr(postgres, "stop", lambda state_dir: fake.stop("postgres"))
    monkeypatch.setattr(stack, "start_service", start_service)
    monkeypatch.setattr(stack, "wait_ready", lambda: None)
    monkeypatch.setattr(
        stack,
        "ready",
        lambda service, timeout=2.0: (
            service in fake.ready,
            json.dumps({"status": "ok", "alarms": fake.alarms.get(service, [])}),
        ),
    )
    return fake


def _keel(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def _said(result: Result) -> str:
    """The output with rich's line wrapping undone, so sentences can be searched for."""
    return " ".join(result.output.split())


# keel up


def test_up_starts_the_tracing_ui_and_prometheus_unless_told_not_to(fake: FakeStack) -> None:
    assert _keel("up", "--no-observe").exit_code == 0
    assert "zipkin" not in fake.alive
    assert "prometheus" not in fake.alive
    # A stack running without them keeps its choice (its services send no spans anyway).
    assert _keel("up").exit_code == 0
    assert not {"zipkin", "prometheus"} & fake.alive
    assert _keel("down").exit_code == 0

    result = _keel("up")

    assert result.exit_code == 0, result.output
    assert {"zipkin", "prometheus"} <= fake.alive
    assert "http://127.0.0.1:9411/zipkin/" in _said(result)
    assert "http://127.0.0.1:9090/targets" in _said(result)
    assert _keel("down").exit_code == 0
    assert {"zipkin", "prometheus"} <= set(fake.stopped)


def test_up_asks_for_the_secured_broker_only_when_told(fake: FakeStack) -> None:
    assert _keel("up", "--secure-broker").exit_code == 0
    assert _keel("up").exit_code == 0  # as the state folder's broker last ran
    assert _keel("up", "--plain-broker").exit_code == 0
    assert fake.broker_asked == [True, None, False]


def test_up_says_why_the_broker_cannot_start_as_asked(
    fake: FakeStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(state_dir: Path, *, port: int, secure: bool | None) -> None:
        raise RuntimeError("the broker runs with SASL logins; `keel down` first")

    monkeypatch.setattr(kafka, "start", refuse)
    result = _keel("up", "--plain-broker")
    assert result.exit_code == 1
    assert "`keel down` first" in _said(result)


def test_up_after_every_service_crashed_restarts_them_on_the_recorded_postgres(
    fake: FakeStack,
) -> None:
    fake.run_all("postgres")
    fake.alive -= {"postgres", *SERVICES}  # crashed; Kafka and the record remain
    fake.ready.clear()

    result = _keel("up")

    assert result.exit_code == 0, result.output
    assert ("postgres", "") in fake.started
    assert fake.started_services() == {service: "postgres" for service in SERVICES}
    assert stack.recorded_database(fake.state_dir) == "postgres"


def test_up_after_a_partial_crash_starts_only_the_missing_services(fake: FakeStack) -> None:
    fake.run_all("postgres")
    fake.alive -= {"fulfillment", "finance"}
    fake.ready -= {"fulfillment", "finance"}

    result = _keel("up")

    assert result.exit_code == 0, result.output
    assert fake.started_services() == {"fulfillment": "postgres", "finance": "postgres"}
    assert "order: already running" in result.output


def test_up_without_a_record_starts_on_sqlite(fake: FakeStack) -> None:
    result = _keel("up")

    assert result.exit_code == 0, result.output
    assert fake.started_services() == {service: "sqlite" for service in SERVICES}
    assert ("postgres", "") not in fake.started
    assert stack.recorded_database(fake.state_dir) == "sqlite"


def test_up_with_another_database_than_the_running_stack_is_refused(fake: FakeStack) -> None:
    fake.run_all("postgres")
    fake.alive.discard("returns")

    result = _keel("up", "--database", "sqlite")

    assert result.exit_code == 1
    assert "The stack already runs on postgres, not sqlite" in _said(result)
    assert fake.started == []
    assert stack.recorded_database(fake.state_dir) == "postgres"


def test_up_with_an_unknown_database_is_a_usage_error(fake: FakeStack) -> None:
    result = _keel("up", "--database", "mysql")

    assert result.exit_code == 2
    assert fake.started == []


def test_demo_with_another_database_than_the_running_stack_is_refused(fake: FakeStack) -> None:
    fake.run_all("sqlite")

    result = _keel("demo", "--database", "postgres")

    assert result.exit_code == 1
    assert "already runs on sqlite" in _said(result)
    assert fake.started == []


# keel down


def test_down_stops_the_postgres_the_stack_ran_on_and_forgets_the_record(
    fake: FakeStack,
) -> None:
    fake.run_all("postgres")

    result = _keel("down")

    assert result.exit_code == 0, result.output
    assert set(fake.stopped) == {*stack.APPS, "kafka", "postgres"}
    assert fake.stopped[0] == "console"  # before the services it calls
    assert stack.recorded_database(fake.state_dir) is None


def test_down_keeping_the_infrastructure_keeps_the_record(fake: FakeStack) -> None:
    fake.run_all("postgres")

    result = _keel("down", "--keep-infra")

    assert result.exit_code == 0, result.output
    assert set(fake.stopped) == set(stack.APPS)
    assert stack.recorded_database(fake.state_dir) == "postgres"


def test_down_leaves_a_postgres_that_is_not_its_own_alone(fake: FakeStack) -> None:
    fake.run_all("sqlite")
    fake.foreign_postgres = True

    result = _keel("down")

    assert result.exit_code == 0, result.output
    assert "postgres" not in fake.stopped
    assert "stopped postgres" not in result.output


# keel status


def _status_json(*extra: str) -> tuple[int, dict[str, Any]]:
    result = _keel("status", "--json", *extra)
    document: dict[str, Any] = json.loads(result.stdout)
    return result.exit_code, document


def test_status_exits_zero_when_everything_is_up_and_ready(fake: FakeStack) -> None:
    fake.run_all("postgres")

    result = _keel("status")

    assert result.exit_code == 0, result.output
    assert "ready" in result.output


def test_status_json_names_every_component_with_url_and_state(fake: FakeStack) -> None:
    fake.run_all("postgres")

    code, document = _status_json()

    assert code == 0
    assert document["ok"] is True
    assert document["database"] == "postgres"
    assert list(document["components"]) == ["kafka", "postgres", *SERVICES, "console"]
    assert document["components"]["kafka"] == {
        "url": "127.0.0.1:9092",
        "state": "running",
        "ok": True,
        "alarms": [],
    }
    assert document["components"]["order"] == {
        "url": stack.url("order"),
        "state": "ready",
        "ok": True,
        "alarms": [],
    }


def test_status_says_when_the_broker_takes_logins_only(fake: FakeStack) -> None:
    fake.run_all("sqlite")
    (fake.state_dir / "kafka").mkdir(parents=True)
    kafka_security.mark(fake.state_dir / "kafka", True)

    code, document = _status_json()

    assert code == 0
    assert document["components"]["kafka"]["state"] == "running, SASL logins only"


def test_status_on_sqlite_has_no_server_to_be_down(fake: FakeStack) -> None:
    fake.run_all("sqlite")

    code, document = _status_json()

    assert code == 0
    assert "postgres" not in document["components"]
    assert document["components"]["databases"]["state"] == "sqlite files"


def test_status_exits_non_zero_when_kafka_is_down(fake: FakeStack) -> None:
    fake.run_all("sqlite")
    fake.alive.discard("kafka")

    code, document = _status_json()

    assert code == 1
    assert document["ok"] is False
    assert document["components"]["kafka"]["state"] == "stopped"


def test_status_exits_non_zero_when_the_stacks_postgres_is_down(fake: FakeStack) -> None:
    fake.run_all("postgres")
    fake.alive.discard("postgres")

    code, document = _status_json()

    assert code == 1
    assert document["components"]["postgres"] == {
        "url": "127.0.0.1:5432",
        "state": "stopped",
        "ok": False,
        "alarms": [],
    }


def test_status_exits_non_zero_while_a_service_is_not_ready(fake: FakeStack) -> None:
    fake.run_all("sqlite")
    fake.ready.discard("inventory")  # process alive, not ready yet
    fake.alive.discard("returns")
    fake.ready.discard("returns")

    code, document = _status_json()

    assert code == 1
    assert document["components"]["inventory"]["state"] == "starting"
    assert document["components"]["returns"]["state"] == "stopped"
    assert document["components"]["order"]["ok"] is True


def test_status_table_exits_non_zero_when_nothing_runs(fake: FakeStack) -> None:
    result = _keel("status")

    assert result.exit_code == 1
    assert "stopped" in result.output


# keel bench


def _report(complete: bool) -> dict[str, Any]:
    reasons = [] if complete else ["saturation: 7 of 900 accepted orders never reached a shipment"]
    return {"complete": complete, "incomplete_reasons": reasons, "runs": []}


def _bench_returning(
    report: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async def fake_run_bench(**_: Any) -> dict[str, Any]:
        return dict(report)

    monkeypatch.setattr(bench, "run_bench", fake_run_bench)
    monkeypatch.setattr(stack, "REPO_ROOT", tmp_path)  # the report file lands here


def _written_report(tmp_path: Path) -> dict[str, Any]:
    (path,) = (tmp_path / "bench" / "results").glob("keel-bench-*.json")
    written: dict[str, Any] = json.loads(path.read_text())
    return written


def test_bench_that_did_not_drain_warns_and_exits_non_zero(
    fake: FakeStack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake.run_all("postgres")
    _bench_returning(_report(complete=False), monkeypatch, tmp_path)

    result = _keel("bench")

    assert result.exit_code == 1
    assert "INCOMPLETE RUN" in _said(result)
    assert "7 of 900 accepted orders never reached a shipment" in _said(result)
    written = _written_report(tmp_path)
    assert written["complete"] is False
    assert written["database"] == "postgres"


def test_bench_that_drained_exits_zero_without_a_warning(
    fake: FakeStack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake.run_all("sqlite")
    _bench_returning(_report(complete=True), monkeypatch, tmp_path)

    result = _keel("bench")

    assert result.exit_code == 0, result.output
    assert "INCOMPLETE" not in result.output
    assert _written_report(tmp_path)["complete"] is True


def test_status_exits_non_zero_and_names_a_stalled_partition(fake: FakeStack) -> None:
    fake.run_all("sqlite")
    fake.alarms["finance"] = ["orders.order.v1[2] stalled for 412s"]

    code, document = _status_json()

    assert code == 1
    assert document["components"]["finance"]["ok"] is False
    assert document["components"]["finance"]["alarms"] == ["orders.order.v1[2] stalled for 412s"]
    assert document["components"]["finance"]["state"].startswith("alarm: orders.order.v1[2]")


def test_up_starts_the_console_after_the_services(fake: FakeStack) -> None:
    assert _keel("up").exit_code == 0
    started = [name for name, _ in fake.started if name in stack.APPS]
    assert started[-1] == "console"
    assert set(started) == set(stack.APPS)
