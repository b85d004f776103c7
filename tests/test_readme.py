"""The README's topics table is the registry's, so a reader is never told a stale story."""

import re

import pytest

from keel_contracts import TOPICS
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.contract


def _readme_topics() -> dict[str, list[str]]:
    rows = {}
    for line in (REPO_ROOT / "README.md").read_text().splitlines():
        match = re.match(r"^\| `([a-z_]+\.[a-z_]+\.v\d+)` \|(.*)\|$", line)
        if match:
            rows[match.group(1)] = [cell.strip() for cell in match.group(2).split("|")]
    return rows


def test_readme_lists_every_registry_topic_with_its_layout() -> None:
    rows = _readme_topics()
    assert set(rows) == {spec.name for spec in TOPICS}
    for spec in TOPICS:
        owner, key, partitions, kept, readers, messages = rows[spec.name]
        assert owner == spec.owner
        assert key == spec.key
        assert int(partitions) == spec.partitions
        assert kept == (
            "compacted" if spec.compacted else f"{spec.retention_ms // 86_400_000} days"
        )
        assert readers == (", ".join(spec.consumers) or "—")
        assert messages.split(", ") == [m.type for m in spec.messages]
