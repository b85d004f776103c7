"""Support for the services' own tests, kept with the kit so that no service copies it."""

from __future__ import annotations

from typing import Any

from keel_kit.checks import OUTBOX_DRAINED


def check_findings(report: dict[str, Any]) -> dict[str, list[str]]:
    """What each invariant of a `GET /v1/checks` report found, by invariant, leaving out the
    outbox's: service tests run no relay, so their outboxes never drain."""
    return {
        i["name"]: i["findings"]
        for i in report["invariants"]
        if i["findings"] and i["name"] != OUTBOX_DRAINED.name
    }
