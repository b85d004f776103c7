"""The real Apache Kafka 4 broker (KRaft, one node) as a local process.

There is no Docker here, and the only download source is Maven Central, so the broker's jars come
from `deploy/local/kafka/pom.xml` via Maven and run on the machine's Java 17.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import subprocess
import uuid
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from keel_cli.runtime import kafka_security, maven, processes
from keel_kit import kafka_setup
from keel_kit.kafka_access import KafkaAccess

NAME = "kafka"
HOST = "127.0.0.1"
READY_TIMEOUT = 90.0
STOP_TIMEOUT = 60.0


def bootstrap(port: int = 9092) -> str:
    """The bootstrap address clients use; always loopback since the broker listens nowhere else."""
    return f"{HOST}:{port}"


def _home(state_dir: Path) -> Path:
    return state_dir / "kafka"


def ensure_installed(state_dir: Path) -> Path:
    """Fetch the broker's jars into <state>/kafka/libs unless the same pom already did."""
    return maven.fetch(NAME, _home(state_dir) / "libs")


def _plain_listeners(port: int, controller_port: int) -> str:
    return f"""\
listeners=PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{controller_port}
advertised.listeners=PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{controller_port}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
"""


def _server_properties(state_dir: Path, port: int, controller_port: int, secure: bool) -> str:
    home = _home(state_dir)
    listeners = (
        kafka_security.listener_properties(home, HOST, port, controller_port)
        if secure
        else _plain_listeners(port, controller_port)
    )
    # Static voters rather than controller.quorum.bootstrap.servers: the voter endpoint then
    # lives only in this file, so a later start on other ports works without re-formatting.
    return f"""\
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@{HOST}:{controller_port}
{listeners.rstrip()}
log.dirs={home / "data"}
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
# Topics come from the service registry; a typo must fail, not create a topic.
auto.create.topics.enable=false
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# The 3 s default only helps large groups join together; here it just slows every test.
group.initial.rebalance.delay.ms=0
# After a crash the old registration blocks the restarted broker until this session expires
# (default 9 s); failure tests restart the broker often. Heartbeats stay well inside it.
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=4000
# Threads for a broker sharing two cores (defaults 3 and 8); see the GC note in `start`.
num.network.threads=2
num.io.threads=4
"""


def _cluster_id(state_dir: Path) -> str:
    """The cluster id, made once; same shape as Kafka's Uuid.randomUuid() without a JVM start."""
    path = _home(state_dir) / "cluster.id"
    if path.is_file():
        return path.read_text().strip()
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cid.startswith("-"):  # Kafka rejects ids that look like command-line flags
            break
    path.write_text(cid + "\n")
    return cid


def _format_storage(state_dir: Path, libs: Path, config: Path) -> None:
    if (_home(state_dir) / "data" / "meta.properties").is_file():
        return
    result = subprocess.run(
        [
            maven.java(),
            "-Xmx256m",
            "-cp",
            f"{libs}/*",
            "kafka.tools.StorageTool",
            "format",
            "-t",
            _cluster_id(state_dir),
            "-c",
            str(config),
            "-g",
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"formatting Kafka storage failed:\n{result.stdout}{result.stderr}")


class _OwnLoginOnLoopback(logging.Filter):
    """aiokafka warns at every PLAIN login over plain text; the broker's own login on loopback,
    used only here to probe and provision, is meant to be so."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "in the clear" not in record.getMessage()


logging.getLogger("aiokafka.conn").addFilter(_OwnLoginOnLoopback())


async def _answers(access: KafkaAccess) -> bool:
    admin = AIOKafkaAdminClient(**access.client_options(), request_timeout_ms=5000)
    try:
        await asyncio.wait_for(admin.start(), 10)
        await asyncio.wait_for(admin.describe_cluster(), 10)
        return True
    except Exception:
        return False
    finally:
        await admin.close()


def _wait_ready(state_dir: Path, port: int) -> None:
    """Wait for a metadata answer, not just an open port: KRaft listens before it serves."""
    access = broker_access(state_dir, port)
    processes.wait_ready(
        NAME,
        state_dir=state_dir,
        ready=lambda: (
            processes.port_open(HOST, port) and processes.run_sync(lambda: _answers(access)) is True
        ),
        what=f"Kafka did not answer on {bootstrap(port)}",
        timeout=READY_TIMEOUT,
    )


def broker_access(state_dir: Path, port: int = 9092) -> KafkaAccess:
    """How the broker's own login reaches it: in plain text, or with SASL when secured."""
    home = _home(state_dir.resolve())
    if kafka_security.is_secured(home):
        return kafka_security.broker_access(home, bootstrap(port))
    return KafkaAccess(bootstrap(port))


def login_access(state_dir: Path, bootstrap_servers: str, login: str) -> KafkaAccess:
    """A SCRAM login of this state folder's secured broker: a service's, or the tools' (keel)."""
    return kafka_security.login_access(_home(state_dir.resolve()), bootstrap_servers, login)


def is_secured(state_dir: Path) -> bool:
    """Whether this state folder's broker takes only SASL logins (`keel up --secure-broker`)."""
    return kafka_security.is_secured(_home(state_dir.resolve()))


def start(
    state_dir: Path,
    *,
    port: int = 9092,
    controller_port: int = 9093,
    heap: str = "512m",
    secure: bool | None = None,
) -> None:
    """Start the broker unless it already runs; returns once it serves metadata requests.

    `secure` starts it with SASL logins and the registry's ACLs (then provisioned), or without;
    None keeps what this state folder's broker last ran with.
    """
    state_dir = state_dir.resolve()
    home = _home(state_dir)
    if secure is None:
        secure = kafka_security.is_secured(home)
    if processes.is_running(NAME, state_dir=state_dir):
        if secure != kafka_security.is_secured(home):
            wanted, running = ("with", "without") if secure else ("without", "with")
            raise RuntimeError(
                f"the broker runs {running} SASL logins; `keel down` first to start it {wanted}"
            )
        if not processes.port_open(HOST, port):
            _wait_ready(state_dir, port)  # a previous call's broker still starting
        return
    for p in (port, controller_port):
        if processes.port_open(HOST, p):
            raise RuntimeError(f"port {p} is taken by a process this state dir did not start")
    libs = ensure_installed(state_dir)
    (home / "data").mkdir(parents=True, exist_ok=True)
    kafka_security.mark(home, secure)
    config = home / "server.properties"
    config.write_text(_server_properties(state_dir, port, controller_port, secure))
    _format_storage(state_dir, libs, config)
    argv = [
        maven.java(),
        f"-Xms{heap}",
        f"-Xmx{heap}",
        # The parallel collector, not kafka-server-start.sh's G1: on two cores shared with
        # everything else, G1 (with the default thread counts) cost the broker a fifth to two
        # fifths more CPU per order (`keel bench`, bench/README.md).
        "-XX:+UseParallelGC",
        "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={maven.deploy_dir(NAME) / 'log4j2.properties'}",
        f"-Dkafka.logs.dir={home / 'logs'}",
        "-cp",
        f"{libs}/*",
        "kafka.Kafka",
        str(config),
    ]
    processes.start_detached(NAME, argv, state_dir=state_dir, cwd=home)
    _wait_ready(state_dir, port)
    if secure:
        kafka_setup.provision(
            kafka_security.broker_access(home, bootstrap(port)),
            kafka_security.service_passwords(home),
        )


def stop(state_dir: Path) -> None:
    """SIGTERM runs Kafka's clean shutdown, so the next start needs no log recovery."""
    processes.stop(NAME, state_dir=state_dir.resolve(), timeout=STOP_TIMEOUT)


def kill(state_dir: Path) -> None:
    """SIGKILL the broker, as a crash would, for failure tests."""
    processes.kill(NAME, state_dir=state_dir.resolve())


def is_running(state_dir: Path) -> bool:
    """Whether the broker this state dir started is alive (it may still be starting)."""
    return processes.is_running(NAME, state_dir=state_dir.resolve())
