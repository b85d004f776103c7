"""Replenishment runs as the API shows them: a run, the runs newest first, and a run's
suggestions a page at a time (a run over thousands of policies makes as many suggestions, so
they are never all in one answer). Each suggestion names the draft purchase order it went on.

Cursors are opaque (`keel_kit.cursors`): a run's id for the runs, and a suggestion's (supplier,
location, SKU) position within its run for the suggestions.
"""

import uuid

from keel_kit import cursors
from keel_kit.problems import NotFound
from keel_procurement import repository
from keel_procurement.context import Work
from keel_procurement.models import ReplenishmentRun
from keel_procurement.replenishment import suggestion_public
from keel_procurement.schemas import (
    ReplenishmentRunPublic,
    ReplenishmentRunsPage,
    SuggestionsPage,
)


async def view(*, uow: Work, run_id: str) -> ReplenishmentRunPublic:
    return ReplenishmentRunPublic.model_validate(await _run(uow, run_id), from_attributes=True)


async def page(*, uow: Work, cursor: str | None, limit: int) -> ReplenishmentRunsPage:
    """One page of runs, newest first; `next_cursor` is null on the last page."""
    before = _run_id(cursor) if cursor is not None else None
    rows = await repository.runs(uow.session, before=before, limit=limit + 1)
    items = [ReplenishmentRunPublic.model_validate(r, from_attributes=True) for r in rows[:limit]]
    last = items[-1] if len(rows) > limit else None
    return ReplenishmentRunsPage(
        items=items,
        next_cursor=cursors.encode_cursor([last.run_id]) if last is not None else None,
    )


async def suggestions(*, uow: Work, run_id: str, cursor: str | None, limit: int) -> SuggestionsPage:
    """One page of the run's suggestions by supplier, location and SKU (those of one purchase
    order together); `next_cursor` is null on the last page. A 404 for a run never made."""
    await _run(uow, run_id)
    after = _position(cursor) if cursor is not None else None
    rows = await repository.suggestions_of_run(
        uow.session,
        run_id,
        after=after,
        limit=limit + 1,  # one more tells whether another page follows
    )
    page_rows = rows[:limit]
    last = page_rows[-1] if len(rows) > limit else None
    return SuggestionsPage(
        items=[suggestion_public(row) for row in page_rows],
        next_cursor=(
            cursors.encode_cursor([last.supplier_id, last.location_id, last.sku])
            if last is not None
            else None
        ),
    )


async def _run(uow: Work, run_id: str) -> ReplenishmentRun:
    run = await repository.get_run(uow.session, run_id)
    if run is None:
        raise NotFound(f"no replenishment run {run_id}")
    return run


def _run_id(cursor: str) -> str:
    (run_id,) = cursors.decode_cursor(cursor, parts=1)
    try:
        canonical = str(uuid.UUID(run_id))
    except ValueError as error:
        raise cursors.not_a_cursor() from error
    if canonical != run_id:
        raise cursors.not_a_cursor()
    return run_id


def _position(cursor: str) -> tuple[str, str, str]:
    # Compared with the columns as text, never parsed further: any text is a position.
    supplier_id, location_id, sku = cursors.decode_cursor(cursor, parts=3)
    return supplier_id, location_id, sku
