import copy

import pytest

from keel_contracts.snapshots import breaking_changes, current_schemas, load_snapshots

pytestmark = pytest.mark.contract


def test_committed_snapshots_cover_every_message_type() -> None:
    assert set(load_snapshots()) == set(current_schemas())


def test_code_is_compatible_with_committed_snapshots() -> None:
    assert breaking_changes(load_snapshots(), current_schemas()) == []


def test_code_matches_committed_snapshots_exactly() -> None:
    """A compatible change must still be snapshotted, so the next change is judged against it."""
    assert load_snapshots() == current_schemas()


def _order_placed() -> dict[str, dict[str, object]]:
    return copy.deepcopy({"order.placed": current_schemas()["order.placed"]})


def test_removing_a_field_is_breaking() -> None:
    old = _order_placed()
    new = copy.deepcopy(old)
    del new["order.placed"]["properties"]["channel"]  # type: ignore[attr-defined]
    assert breaking_changes(old, new) == ["order.placed.channel: field removed"]


def test_new_optional_field_is_compatible() -> None:
    old = _order_placed()
    new = copy.deepcopy(old)
    new["order.placed"]["properties"]["note"] = {"type": "string"}  # type: ignore[index]
    assert breaking_changes(old, new) == []


def test_new_required_field_is_breaking() -> None:
    old = _order_placed()
    new = copy.deepcopy(old)
    new["order.placed"]["properties"]["note"] = {"type": "string"}  # type: ignore[index]
    new["order.placed"]["required"].append("note")  # type: ignore[attr-defined]
    assert breaking_changes(old, new) == ["order.placed.note: field became required"]


def test_retyping_a_nested_field_is_breaking() -> None:
    old = _order_placed()
    new = copy.deepcopy(old)
    new["order.placed"]["$defs"]["OrderedLine"]["properties"]["quantity"] = {"type": "string"}  # type: ignore[index]
    problems = breaking_changes(old, new)
    assert any(p.startswith("order.placed.lines") and "quantity" in p for p in problems)


def test_removing_a_message_type_is_breaking() -> None:
    assert breaking_changes(_order_placed(), {}) == ["order.placed: message type removed"]
