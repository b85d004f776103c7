"""Every service's OpenAPI document, fuzzed by schemathesis against the real running service.

Each service runs as a real uvicorn process on PostgreSQL and the real broker; schemathesis
reads its `/openapi.json` and sends generated requests, valid and invalid, through its examples,
coverage and fuzzing phases, each with an admin's token, so that they reach every route rather
than the access guard. These checks hold for every answer (DESIGN §5):

- `not_a_server_error`: bad input gets a 4xx problem document naming the field, never a 500;
- `status_code_conformance`: the operation declares every status it answers;
- `content_type_conformance`: the answer comes as the media type declared for its status
  (problem documents as `application/problem+json`);
- `response_schema_conformance` and `response_headers_conformance`: every answer, problem
  documents included, and its declared headers are what the document says.

The run is bounded (a few examples per operation and mode, no shrinking) so that the six
services together take a few minutes on a small machine, and deterministic (a fixed seed,
derandomized generation), so a failure found in CI is found again on a laptop.

A second, cheap pass sends each `/v1` operation of the document once with no token at all, and
expects the guard's 401 problem document from every one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.engine import events
from schemathesis.engine.recorder import ScenarioRecorder

from tests.integration.support import ServiceHttp, StartService

pytestmark = pytest.mark.integration

SERVICES = ("order", "inventory", "fulfillment", "procurement", "returns", "finance")

# Enough to reach the edges (calendar extremes, control characters, oversized numbers) that
# the coverage phase targets deliberately; the fuzzing phase adds a few random ones on top.
MAX_EXAMPLES_PER_OPERATION = 50
SEED = 20_260_906
PLACEHOLDER = re.compile(r"\{[^}]+\}")  # a path parameter, for the pass without a token

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
        "status_code_conformance": {"enabled": True},
        "content_type_conformance": {"enabled": True},
        "response_schema_conformance": {"enabled": True},
        "response_headers_conformance": {"enabled": True},
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


def fuzz(service: ServiceHttp) -> FuzzReport:
    """Run schemathesis's phases against `service`, every request carrying the token of the
    person it is asked by (configured headers win over generated ones); collect what failed."""
    config = schemathesis.Config.from_dict(
        {**CONFIG, "base-url": service.url, "headers": service.authorization}
    )
    schema = schemathesis.openapi.from_url(f"{service.url}/openapi.json", config=config)
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

    report = fuzz(process)

    print(report.summary(service))  # the figures, in the log of a passing run too
    assert report.operations, f"{service}: schemathesis found no operation to test"
    if report.failures or report.errors:
        log = _short_lines(process.tail(20))
        pytest.fail(f"{report.summary(service)}\n\nservice log (tail):\n{log}", pytrace=False)


def _short_lines(log: str, width: int = 400) -> str:
    return "\n".join(line[:width] for line in log.splitlines())


def anonymous_answers(service: ServiceHttp) -> dict[str, httpx.Response]:
    """Each `/v1` operation of the service's document, sent once without a token (placeholder
    path values, an empty JSON body): its answer, by `METHOD /template`."""
    document = httpx.get(f"{service.url}/openapi.json", timeout=10).json()
    answers: dict[str, httpx.Response] = {}
    with httpx.Client(base_url=service.url, timeout=10) as client:
        for template, operations in document["paths"].items():
            if not template.startswith("/v1/"):
                continue
            path = PLACEHOLDER.sub("1", template)
            for method in operations:
                body: dict[str, Any] | None = {} if method != "get" else None
                answers[f"{method.upper()} {template}"] = client.request(method, path, json=body)
    return answers


def _unauthenticated(response: httpx.Response) -> bool:
    """The guard's answer to a request without a token: a 401 problem naming the scheme."""
    return (
        response.status_code == 401
        and response.headers["content-type"] == "application/problem+json"
        and response.headers.get("www-authenticate", "").startswith("Bearer")
        and response.json()["status"] == 401
    )


@pytest.mark.parametrize("service", SERVICES)
def test_every_v1_operation_answers_a_caller_without_a_token_401(
    service: str, start_service: StartService
) -> None:
    # The guard answers before anything else is asked, so the service need not be ready (its
    # consumers joined), only answering; finance's inventory URL is never reached.
    process = start_service(service, wait_ready=False)
    process.wait_listening()

    answers = anonymous_answers(process)

    assert answers, f"{service}: its document has no /v1 operation"
    wrong = [
        f"  {operation}: {response.status_code} {response.text[:200]}"
        for operation, response in sorted(answers.items())
        if not _unauthenticated(response)
    ]
    assert not wrong, f"{service}: answered without a token:\n" + "\n".join(wrong)
