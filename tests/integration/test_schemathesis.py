"""Every service's OpenAPI document, fuzzed by schemathesis against the real running service.

Each service runs as a real uvicorn process on PostgreSQL and the real broker; schemathesis
reads its `/openapi.json` and sends generated requests, valid and invalid, through its examples,
coverage and fuzzing phases. Two checks hold for every answer (DESIGN §5):

- `not_a_server_error`: bad input gets a 4xx problem document naming the field, never a 500;
- `response_schema_conformance`: every answer, problem documents included, is what the
  document declares.

The run is bounded (a few examples per operation and mode, no shrinking) so that the six
services together take a few minutes on a small machine, and deterministic (a fixed seed,
derandomized generation), so a failure found in CI is found again on a laptop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from schemathesis.engine import events
from schemathesis.engine.recorder import ScenarioRecorder

from tests.integration.support import StartService

pytestmark = pytest.mark.integration

SERVICES = ("order", "inventory", "fulfillment", "procurement", "returns", "finance")

# Enough to reach the edges (calendar extremes, control characters, oversized numbers) that
# the coverage phase targets deliberately; the fuzzing phase adds a few random ones on top.
MAX_EXAMPLES_PER_OPERATION = 50
SEED = 20_260_906

CONFIG: dict[str, Any] = {
    "seed": SEED,
    "generation": {
        "mode": "all",
        "max-examples": MAX_EXAMPLES_PER_OPERATION,
        "deterministic": True,
        "database": "none",  # no replay of earlier runs' examples: every run is the same
        # A failure is reported as found; shrinking it could cost minutes of requests.
        "no-shrink": True,
    },
    "checks": {
        "enabled": False,
        "not_a_server_error": {"enabled": True},
        "response_schema_conformance": {"enabled": True},
    },
    "phases": {
        "examples": {"enabled": True},
        "coverage": {"enabled": True},
        "fuzzing": {"enabled": True},
        # Chains of calls belong to the behavioural tests, which know what a valid order is.
        "stateful": {"enabled": False},
    },
    "request-timeout": 20,
}


@dataclass
class FuzzReport:
    """What one schemathesis run saw: operations, requests sent, and each failure's repro."""

    operations: set[str] = field(default_factory=set)
    requests: int = 0
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def record(self, event: events.ScenarioFinished) -> None:
        recorder = event.recorder
        self.operations.add(recorder.label)
        self.requests += len(recorder.interactions)
        seen: set[str] = set()
        for case_id, checks in recorder.checks.items():
            for check in checks:
                info = check.failure_info
                if info is None or info.failure.title in seen:
                    continue
                seen.add(info.failure.title)  # one entry per kind of failure per operation
                self.failures.append(
                    f"{recorder.label} [{event.phase.value}]: {info.failure.title}\n"
                    f"  {info.failure.message.strip()[:600]}\n"
                    f"  answered: {_answer(recorder, case_id)}\n"
                    f"  reproduce: {info.code_sample}"
                )

    def summary(self, service: str) -> str:
        listed = "\n\n".join(self.failures + self.errors)
        return (
            f"{service}: {len(self.operations)} operations, {self.requests} requests, "
            f"{len(self.failures)} failures, {len(self.errors)} errors\n\n{listed}"
        )


def _answer(recorder: ScenarioRecorder, case_id: str) -> str:
    interaction = recorder.interactions.get(case_id)
    if interaction is None or interaction.response is None:
        return "nothing"
    response = interaction.response
    return f"{response.status_code} {response.content[:300]!r}"


def fuzz(base_url: str) -> FuzzReport:
    """Run schemathesis's phases against the service at `base_url`; collect what failed."""
    config = schemathesis.Config.from_dict({**CONFIG, "base-url": base_url})
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json", config=config)
    report = FuzzReport()
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            report.record(event)
        elif isinstance(event, events.NonFatalError):
            report.errors.append(f"{event.label}: error {event.info.format().strip()[:600]}")
        elif isinstance(event, events.FatalError):
            report.errors.append(f"fatal: {event.exception!r}")
    return report


@pytest.mark.parametrize("service", SERVICES)
def test_fuzzing_finds_no_server_error_and_every_answer_matches_its_schema(
    service: str, start_service: StartService
) -> None:
    env = {}
    if service == "finance":  # its inventory reconciliation asks inventory, else answers 503
        env["KEEL_FINANCE_INVENTORY_URL"] = start_service("inventory").url
    process = start_service(service, env=env)

    report = fuzz(process.url)

    print(report.summary(service))  # the figures, in the log of a passing run too
    assert report.operations, f"{service}: schemathesis found no operation to test"
    if report.failures or report.errors:
        log = _short_lines(process.tail(20))
        pytest.fail(f"{report.summary(service)}\n\nservice log (tail):\n{log}", pytrace=False)


def _short_lines(log: str, width: int = 400) -> str:
    return "\n".join(line[:width] for line in log.splitlines())
