"""The committed OpenAPI documents: their examples validate, and a change that breaks callers is
refused unless the service's version moves (oasdiff, as `python -m keel_cli.openapi` runs it)."""

from __future__ import annotations

import copy
import importlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from pydantic import BaseModel

from keel_cli import openapi
from keel_cli.stack import REPO_ROOT
from keel_contracts import SERVICES

pytestmark = pytest.mark.unit

ORDER = REPO_ROOT / "services" / "order" / "openapi.json"


def committed(service: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        (REPO_ROOT / "services" / service / "openapi.json").read_text()
    )
    return document


def examples(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """Each example of a component schema: the schema's name, the schema, the example."""
    for name, schema in document["components"]["schemas"].items():
        for example in schema.get("examples", []):
            yield name, schema, example


def test_every_example_validates_against_its_schema() -> None:
    found = 0
    for service in SERVICES:
        document = committed(service)
        for name, schema, example in examples(document):
            resolvable = {**schema, "components": document["components"]}
            errors = [
                e.message for e in jsonschema_rs.validator_for(resolvable).iter_errors(example)
            ]
            assert errors == [], f"{service} {name}: {errors}"
            found += 1
    assert found >= 4, "the intake's, the warehouse events' and others' examples are missing"


def test_every_example_is_a_body_its_model_accepts() -> None:
    # The models' own checks too (a shipped event needs a tracking number), not only the schema.
    checked = 0
    for service in SERVICES:
        module = importlib.import_module(f"keel_{service}.schemas")
        for model in vars(module).values():
            if not (isinstance(model, type) and issubclass(model, BaseModel)):
                continue
            extra = model.model_config.get("json_schema_extra")
            found = extra.get("examples") if isinstance(extra, dict) else None
            for example in found if isinstance(found, list) else []:
                model.model_validate(example)
                checked += 1
    assert checked >= 4


def test_a_removed_operation_breaks_callers_unless_the_version_moves(tmp_path: Path) -> None:
    base = tmp_path / "openapi.json"
    base.write_text(ORDER.read_text())
    revision = json.loads(ORDER.read_text())
    del revision["paths"]["/v1/orders"]["post"]

    breaks, report = openapi.breaking_changes(base, json.dumps(revision))
    assert breaks
    assert "POST /v1/orders" in report

    bumped = copy.deepcopy(revision)
    bumped["info"]["version"] = "0.2.0"
    assert not openapi.breaking_changes(base, json.dumps(bumped))[0]


def test_an_added_optional_field_breaks_nobody(tmp_path: Path) -> None:
    base = tmp_path / "openapi.json"
    base.write_text(ORDER.read_text())
    revision = json.loads(ORDER.read_text())
    order = revision["components"]["schemas"]["OrderCreate"]
    order["properties"]["note"] = {"type": "string"}

    assert not openapi.breaking_changes(base, json.dumps(revision))[0]
