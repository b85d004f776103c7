"""Committed JSON Schema snapshots and the additive-only compatibility rule.

Within a major version a contract may only grow: new message types and new optional fields are
fine; removing or retyping a field, or making a field required, is a breaking change and needs a
new major version (a new topic). `python -m keel_contracts.snapshots` writes the snapshots after a
compatible change and refuses a breaking one.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from keel_contracts.envelope import Envelope, event_types

SNAPSHOT_DIR = Path(__file__).resolve().parents[2] / "schemas"
ENVELOPE = "envelope"
# Keys that describe a schema without constraining the data it accepts.
DOCUMENTATION_KEYS = {"title", "description", "default", "examples"}

Schema = dict[str, Any]


def current_schemas() -> dict[str, Schema]:
    """The JSON Schema of the envelope and of every message type, as the code defines them now."""
    schemas = {ENVELOPE: Envelope.model_json_schema()}
    for wire_type, model in sorted(event_types().items()):
        schemas[wire_type] = model.model_json_schema()
    return schemas


def load_snapshots(directory: Path = SNAPSHOT_DIR) -> dict[str, Schema]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))}


def write_snapshots(schemas: dict[str, Schema], directory: Path = SNAPSHOT_DIR) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, schema in schemas.items():
        (directory / f"{name}.json").write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")


def breaking_changes(old: dict[str, Schema], new: dict[str, Schema]) -> list[str]:
    """Every way `new` fails to accept what `old` promised; an empty list means compatible."""
    problems: list[str] = []
    for name, old_schema in old.items():
        if name not in new:
            problems.append(f"{name}: message type removed")
            continue
        _compare(old_schema, old_schema, new[name], new[name], name, problems)
    return problems


def _resolve(root: Schema, node: Schema) -> Schema:
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return node
    resolved: Any = root
    for part in ref.removeprefix("#/").split("/"):
        resolved = resolved[part]
    return _resolve(root, resolved)


def _compare(
    old_root: Schema, old: Schema, new_root: Schema, new: Schema, path: str, problems: list[str]
) -> None:
    old, new = _resolve(old_root, old), _resolve(new_root, new)
    old_props: Schema = old.get("properties", {})
    new_props: Schema = new.get("properties", {})
    for field, old_field in old_props.items():
        if field not in new_props:
            problems.append(f"{path}.{field}: field removed")
        else:
            _compare(old_root, old_field, new_root, new_props[field], f"{path}.{field}", problems)
    for field in sorted(set(new.get("required", ())) - set(old.get("required", ()))):
        problems.append(f"{path}.{field}: field became required")
    for key in sorted((old.keys() | new.keys()) - DOCUMENTATION_KEYS - {"properties", "required"}):
        if key in ("$defs", "$ref"):
            continue
        old_value, new_value = old.get(key), new.get(key)
        if (
            isinstance(old_value, list)
            and isinstance(new_value, list)
            and key in ("anyOf", "allOf")
        ):
            if len(old_value) != len(new_value):
                problems.append(f"{path}: {key} changed")
                continue
            for i, (o, n) in enumerate(zip(old_value, new_value, strict=True)):
                _compare(old_root, o, new_root, n, f"{path}[{i}]", problems)
        elif isinstance(old_value, dict) and isinstance(new_value, dict):
            _compare(old_root, old_value, new_root, new_value, f"{path}.{key}", problems)
        elif old_value != new_value:
            problems.append(f"{path}: {key} changed from {old_value!r} to {new_value!r}")


def main() -> int:
    old, new = load_snapshots(), current_schemas()
    problems = breaking_changes(old, new)
    if problems:
        print("Breaking contract changes; publish a new major version instead:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    write_snapshots(new)
    print(f"wrote {len(new)} schema snapshots to {SNAPSHOT_DIR}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
