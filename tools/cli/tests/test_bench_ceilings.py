"""The ceilings: pgbench's figure read from its output, and how each ceiling is said."""

from __future__ import annotations

import pytest

from keel_cli import bench_ceilings
from keel_cli.bench_ceilings import describe_kafka, describe_postgres, measure, pgbench_tps
from keel_kit.kafka_access import KafkaAccess

pytestmark = pytest.mark.unit

PGBENCH_15 = """\
pgbench (15.13 (Debian 15.13-0+deb12u1))
transaction type: <builtin: TPC-B (sort of)>
scaling factor: 10
number of clients: 8
number of threads: 2
duration: 10 s
number of transactions actually processed: 12345
latency average = 6.480 ms
initial connection time = 12.345 ms
tps = 1234.567890 (without initial connection time)
"""

PGBENCH_12 = """\
tps = 998.100000 (including connections establishing)
tps = 1001.500000 (excluding connections establishing)
"""


def test_tps_is_read_from_pgbench_output() -> None:
    assert pgbench_tps(PGBENCH_15) == pytest.approx(1234.56789)


def test_older_pgbench_gives_its_first_tps_line() -> None:
    assert pgbench_tps(PGBENCH_12) == pytest.approx(998.1)


def test_output_without_tps_gives_none() -> None:
    assert pgbench_tps("connection to server failed") is None


def test_postgres_ceiling_on_sqlite_is_said_not_applicable() -> None:
    said = describe_postgres({"tps": None, "not_applicable": "the stack runs on sqlite"})
    assert said == "ceiling not applicable: the stack runs on sqlite"


def test_a_measured_ceiling_names_its_workload() -> None:
    said = describe_postgres({"tps": 1234.6, "workload": "pgbench -s 10 -T 10 -c 8 -j 2"})
    assert said == "1,235 transactions/s (pgbench -s 10 -T 10 -c 8 -j 2)"


def test_a_kafka_ceiling_that_failed_says_why() -> None:
    said = describe_kafka({"error": "KafkaConnectionError: no broker"})
    assert said == "not measured: KafkaConnectionError: no broker"


@pytest.mark.asyncio
async def test_on_sqlite_no_pgbench_runs_and_a_failed_kafka_ceiling_does_not_stop_the_bench(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def pgbench(port: int) -> dict[str, object]:
        raise AssertionError("pgbench must not run against SQLite")

    async def broken(kafka: KafkaAccess, seconds: float = 5.0) -> dict[str, object]:
        raise OSError("no broker")

    monkeypatch.setattr(bench_ceilings, "pgbench", pgbench)
    monkeypatch.setattr(bench_ceilings, "kafka_rates", broken)
    said: list[str] = []

    ceilings = await measure(
        database="sqlite", postgres_port=5432, kafka=KafkaAccess("x:9092"), say=said.append
    )

    assert ceilings["postgres"]["not_applicable"] == "the stack runs on sqlite"
    assert ceilings["kafka"] == {"error": "OSError: no broker"}
    assert "ceiling: PostgreSQL ceiling not applicable: the stack runs on sqlite" in said
