"""The migration that gave allocations their shipped units works them out for the reservations
already committed, from the reserved movements that still name them."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from keel_kit.migrations import KIT_MIGRATIONS, alembic_config

pytestmark = [pytest.mark.unit]

MIGRATIONS = Path(__file__).parents[1] / "src" / "keel_inventory" / "migrations"
BEFORE = "0563845049e8"  # the revision before allocations knew what shipped

RESERVATIONS = [("R-held", "held"), ("R-part", "committed"), ("R-all", "committed")]
ALLOCATIONS = [("R-held", 2), ("R-part", 3), ("R-all", 2)]
# The reserved ledger: each reservation's hold, and what its shipments took off it.
RESERVED_MOVES = [("R-held", 2), ("R-part", 3), ("R-part", -2), ("R-all", 2), ("R-all", -2)]


def test_committed_reservations_get_what_their_shipments_took(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'inventory.db'}"
    command.upgrade(alembic_config(KIT_MIGRATIONS, url), "head")
    command.upgrade(alembic_config(MIGRATIONS, url), BEFORE)
    # A plain connection, foreign keys unchecked: only the tables the migration reads matter.
    engine = create_engine(f"sqlite:///{tmp_path / 'inventory.db'}")
    with engine.begin() as db:
        for reservation_id, status in RESERVATIONS:
            db.execute(
                text(
                    "INSERT INTO reservation VALUES (:r, :o, 'web', :s, '2026-12-08', '2026-12-07')"
                ),
                {"r": reservation_id, "o": f"o-{reservation_id}", "s": status},
            )
        for reservation_id, quantity in ALLOCATIONS:
            db.execute(
                text("INSERT INTO reservation_allocation VALUES (:r, 'MUG', 'WH-A', :q)"),
                {"r": reservation_id, "q": quantity},
            )
        for n, (reservation_id, quantity) in enumerate(RESERVED_MOVES):
            db.execute(
                text(
                    "INSERT INTO stock_movement (movement_id, sku, location_id, state, quantity, "
                    "kind, unit_cost, reference, created_at) VALUES "
                    "(:m, 'MUG', 'WH-A', 'reserved', :q, 'reserve', 0, :r, '2026-12-07')"
                ),
                {"m": f"M-{n}", "q": quantity, "r": reservation_id},
            )
    command.upgrade(alembic_config(MIGRATIONS, url), "head")
    with engine.connect() as db:
        rows = db.execute(
            text("SELECT reservation_id, shipped FROM reservation_allocation ORDER BY 1")
        ).all()
    assert [tuple(row) for row in rows] == [("R-all", 2), ("R-held", 0), ("R-part", 2)]
    engine.dispose()
