"""What one transaction has locked and not yet written: the consumer's fast path.

A consumer applies a whole batch of messages in one transaction. Balances it locks stay locked
until the commit, so their values are kept here instead of being read again; the rows each
message appends (movements, reservations and their allocations) and the balance deltas are
written set-based once, just before the transaction commits. Any query that reads or changes
those tables directly first calls `flush`. What the batch's shipments need of their
reservations and items is read for all of them at once and kept here too (see `shipping`).

Inside a savepoint (the kit isolating a failing message) none of this applies: a savepoint
rolled back would leave this memory ahead of the database, so everything is written and read
straight through.
"""

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, event, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_inventory import models
from keel_inventory.domain import COMMITTED, HELD

if TYPE_CHECKING:
    from keel_inventory.repository.shipping import ReservationToShip

_tables = SQLModel.metadata.tables
BALANCE = _tables[models.StockBalance.__tablename__]
MOVEMENT = _tables[models.StockMovement.__tablename__]
RESERVATION = _tables[models.Reservation.__tablename__]
ALLOCATION = _tables[models.ReservationAllocation.__tablename__]
BACKORDER = _tables[models.Backorder.__tablename__]
BACKORDER_LINE = _tables[models.BackorderLine.__tablename__]
CHANNEL_HOLD = _tables[models.ChannelHold.__tablename__]
FEED = _tables[models.AvailabilityFeed.__tablename__]
RULE = _tables[models.ChannelRule.__tablename__]

# A newly held order leaves the backorder queue if it was waiting there.
_UNQUEUE_LINES = delete(BACKORDER_LINE).where(
    BACKORDER_LINE.c.backorder_id.in_(
        select(BACKORDER.c.id).where(BACKORDER.c.order_id.in_(bindparam("orders", expanding=True)))
    )
)
_UNQUEUE = delete(BACKORDER).where(BACKORDER.c.order_id.in_(bindparam("orders", expanding=True)))
# A released order's reservation stays held until its shipment (or the new deadline).
_EXTEND_HOLD = (
    update(RESERVATION)
    .where(RESERVATION.c.order_id == bindparam("order"), RESERVATION.c.status == HELD)
    .values(expires_at=bindparam("until"))
)
# Reservations whose stock has shipped.
_COMMIT = (
    update(RESERVATION)
    .where(RESERVATION.c.reservation_id.in_(bindparam("ids", expanding=True)))
    .values(status=COMMITTED)
)
# Units of a reservation's allocation that shipped: it holds them no more.
_SHIP = (
    update(ALLOCATION)
    .where(
        ALLOCATION.c.reservation_id == bindparam("reservation"),
        ALLOCATION.c.sku == bindparam("allocated_sku"),
        ALLOCATION.c.location_id == bindparam("allocated_at"),
    )
    .values(shipped=ALLOCATION.c.shipped + bindparam("units"))
)
_UPSERTS: dict[tuple[str, str], Any] = {}
_KEY = "keel_inventory.batch_work"

Writes = list[tuple[Any, list[dict[str, Any]] | dict[str, Any]]]


class BatchWork:
    def __init__(self) -> None:
        self.serialised = False  # holds the stock-changes lock
        # sku -> location -> [sellable, reserved], for the rows this transaction holds locked.
        self.locked: dict[str, dict[str, list[int]]] = {}
        self.reservations: list[dict[str, Any]] = []
        self.allocations: list[dict[str, Any]] = []
        self.movements: list[dict[str, Any]] = []
        self.deltas: dict[tuple[str, str, str], int] = {}
        self.new_orders: set[str] = set()  # orders whose reservation row is pending
        self.holds: dict[str, datetime] = {}  # order -> until when its held reservation stays
        # sku -> channel -> units held, for the SKUs read (pending deltas included), and the
        # (channel, sku) deltas not yet written.
        self.channel_held: dict[str, dict[str, int]] = {}
        self.channel_deltas: dict[tuple[str, str], int] = {}
        # The channel rules read for each SKU (a rule changed meanwhile applies from the next
        # transaction on).
        self.rules: dict[str, list[tuple[str, str, Any]]] = {}
        self.changed_skus: set[str] = set()  # for the availability feed
        # SKUs known to have no lot on hand anywhere: their issues need not look for lots.
        self.lotless: set[str] = set()
        # What the batch's shipments need, read for all of them at once (`shipping`): their
        # items (which no message changes), and per order its reservation with what it holds
        # (None: it has none). Whatever writes a reservation forgets it here, to be read again.
        self.items: dict[str, models.Item] = {}
        self.to_ship: dict[str, ReservationToShip | None] = {}
        # order -> its reservation, committed by a shipment, the status not yet written; and
        # (reservation, sku, location) -> units of that allocation shipped, not yet written.
        self.committed: dict[str, str] = {}
        self.shipped: dict[tuple[str, str, str], int] = {}

    @property
    def pending(self) -> bool:
        return bool(
            self.reservations
            or self.allocations
            or self.movements
            or self.deltas
            or self.holds
            or self.channel_deltas
            or self.changed_skus
            or self.committed
            or self.shipped
        )

    def reservations_changed(
        self, *, orders: Iterable[str] = (), reservation_ids: Collection[str] = ()
    ) -> None:
        """Forget what shipments read of these reservations: written anew, they are read anew."""
        for order_id in orders:
            self.to_ship.pop(order_id, None)
        if reservation_ids:
            for order_id, known in list(self.to_ship.items()):
                if known is not None and known.reservation_id in reservation_ids:
                    del self.to_ship[order_id]

    def drain(self, dialect: str) -> Writes:
        """The pending writes as (statement, parameters), parents first; then forget them."""
        deltas = [
            {"sku": sku, "location_id": loc, "state": state, "quantity": delta}
            for (sku, loc, state), delta in sorted(self.deltas.items())  # lock order
            if delta
        ]
        channel_deltas = [
            {"channel": channel, "sku": sku, "quantity": delta}
            for (channel, sku), delta in sorted(self.channel_deltas.items())
            if delta
        ]
        writes: Writes = [
            (insert(RESERVATION), self.reservations),
            (insert(ALLOCATION), self.allocations),
            (insert(MOVEMENT), self.movements),
            (balance_upsert(dialect), deltas),
            (channel_hold_upsert(dialect), channel_deltas),
            (feed_upsert(dialect), [{"sku": sku} for sku in sorted(self.changed_skus)]),
        ]
        if self.new_orders:
            orders = {"orders": sorted(self.new_orders)}
            writes += [(_UNQUEUE_LINES, orders), (_UNQUEUE, orders)]
        holds = [{"order": order, "until": until} for order, until in sorted(self.holds.items())]
        writes.append((_EXTEND_HOLD, holds))
        # After the holds extended: a hold extended before its order shipped was extended
        # while still held (and `extend_hold` drops one that comes after).
        if self.committed:
            writes.append((_COMMIT, {"ids": sorted(self.committed.values())}))
        writes.append((_SHIP, _shipped_rows(sorted(self.shipped.items()))))
        self.reservations, self.allocations, self.movements = [], [], []
        self.deltas, self.new_orders, self.holds, self.committed = {}, set(), {}, {}
        self.shipped = {}
        self.channel_deltas, self.changed_skus = {}, set()
        return [(statement, params) for statement, params in writes if params]


def _shipped_rows(shipped: Iterable[tuple[tuple[str, str, str], int]]) -> list[dict[str, Any]]:
    """`_SHIP`'s parameters, from ((reservation, sku, location), units)."""
    return [
        {"reservation": reservation_id, "allocated_sku": sku, "allocated_at": loc, "units": n}
        for (reservation_id, sku, loc), n in shipped
    ]


async def record_shipped(
    session: AsyncSession, reservation_id: str, shipped: Iterable[tuple[str, str, int]]
) -> None:
    """Outside a batch: note at once the units of the reservation's allocations that shipped,
    (location_id, sku, quantity)."""
    rows = _shipped_rows(((reservation_id, sku, loc), n) for loc, sku, n in shipped)
    if rows:
        await (await session.connection()).execute(_SHIP, rows)


async def batch_work(session: AsyncSession) -> BatchWork | None:
    """This transaction's BatchWork, or None inside a savepoint (write straight through)."""
    work: BatchWork | None = session.info.get(_KEY)
    if session.in_nested_transaction():
        if work is not None:
            if work.pending:
                # Written inside the savepoint they would vanish if it rolled back. The kit
                # never opens one after a fast-path message: it redoes the batch afresh.
                raise RuntimeError("stock writes are pending outside the savepoint")
            # Values moved inside a savepoint may be rolled back.
            work.locked.clear()
            work.channel_held.clear()
            work.to_ship.clear()
        return None
    if work is None:
        work = session.info[_KEY] = _start(session)
    return work


def _start(session: AsyncSession) -> BatchWork:
    work = BatchWork()
    dialect = session.get_bind().dialect.name

    def write_pending(sync_session: Any) -> None:
        if sync_session.info.get(_KEY) is work:
            connection: Connection = sync_session.connection()
            for statement, params in work.drain(dialect):
                try:
                    connection.execute(statement, params)
                except DBAPIError as error:
                    if (conflict := _as_conflict(error)) is None:
                        raise
                    raise conflict from error

    def forget(sync_session: Any, transaction: Any) -> None:
        # Locks end with the transaction, and so does what was known of the locked rows.
        if transaction.parent is None and sync_session.info.get(_KEY) is work:
            del sync_session.info[_KEY]

    event.listen(session.sync_session, "before_commit", write_pending)
    event.listen(session.sync_session, "after_transaction_end", forget)
    return work


def current_work(session: AsyncSession) -> BatchWork | None:
    """This transaction's BatchWork if it has one and no savepoint is open; never starts one."""
    if session.in_nested_transaction():
        return None
    work: BatchWork | None = session.info.get(_KEY)
    return work


async def flush(session: AsyncSession) -> None:
    """Write what the batch has pending, before anything uses those tables directly."""
    work: BatchWork | None = session.info.get(_KEY)
    if work is None or not (work.pending or work.new_orders):
        return
    if session.in_nested_transaction():
        raise RuntimeError("stock writes are pending outside the savepoint")
    connection = await session.connection()
    for statement, params in work.drain(session.get_bind().dialect.name):
        try:
            await connection.execute(statement, params)
        except DBAPIError as error:
            if (conflict := _as_conflict(error)) is None:
                raise
            raise conflict from error


def _as_conflict(error: DBAPIError) -> IntegrityError | None:
    """A deferred write the database refused for its data (SQLSTATE class 22: too long, out
    of range) is some message's fault, found late. Raised as an IntegrityError, like a broken
    constraint, it makes the kit redo the batch message by message, where that message fails
    alone and is dead-lettered, instead of the whole batch coming back forever."""
    sqlstate = getattr(error.orig, "sqlstate", None) or ""
    if error.orig is None or isinstance(error, IntegrityError) or not sqlstate.startswith("22"):
        return None
    return IntegrityError(error.statement, error.params, error.orig)


def balance_upsert(dialect: str) -> Any:
    """Add `quantity` to a balance, creating it if new (built once per dialect).

    Relative, so concurrent writers to one balance add up instead of overwriting each other.
    """
    return _adding_upsert(BALANCE, ("sku", "location_id", "state"), dialect)


def channel_hold_upsert(dialect: str) -> Any:
    """Add `quantity` to what a channel holds of a SKU, as `balance_upsert` does a balance."""
    return _adding_upsert(CHANNEL_HOLD, ("channel", "sku"), dialect)


def feed_upsert(dialect: str) -> Any:
    """Mark SKUs' availability changed, so the feed publishes them (built once per dialect)."""
    statement = _UPSERTS.get((FEED.name, dialect))
    if statement is None:
        module = postgresql if dialect == "postgresql" else sqlite
        marking = module.insert(FEED).values(dirty=True)
        statement = marking.on_conflict_do_update(index_elements=["sku"], set_={"dirty": True})
        _UPSERTS[(FEED.name, dialect)] = statement
    return statement


def _adding_upsert(table: Any, keys: tuple[str, ...], dialect: str) -> Any:
    statement = _UPSERTS.get((table.name, dialect))
    if statement is None:
        module = postgresql if dialect == "postgresql" else sqlite
        adding = module.insert(table)
        statement = adding.on_conflict_do_update(
            index_elements=list(keys),
            set_={"quantity": table.c.quantity + adding.excluded.quantity},
        )
        _UPSERTS[(table.name, dialect)] = statement
    return statement
