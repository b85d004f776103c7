"""The lots a receipt's lines name. Inventory books a receipt once per SKU, so a receipt carries
at most one lot of a SKU (lines of a SKU name the same lot and expiry, or none); another lot of
it arrives as a receipt of its own. An expiry belongs to a lot, as in inventory."""

from datetime import date

from keel_kit.problems import DomainError
from keel_procurement.schemas import ReceiptLineCreate

# A SKU's lot and its expiry, as a receipt names them; (None, None) for units without a lot.
LotOf = tuple[str | None, date | None]


def lots_by_sku(lines: list[ReceiptLineCreate]) -> dict[str, LotOf]:
    """Each SKU's lot; a 422 naming the line that gives an expiry without a lot, or a second
    lot (or another expiry) for a SKU an earlier line named."""
    first: dict[str, tuple[int, LotOf]] = {}
    for index, given in enumerate(lines):
        if given.expires_on is not None and given.lot is None:
            raise DomainError(
                "an expiry date belongs to a lot: name the lot",
                field=f"lines.{index}.expires_on",
            )
        lot: LotOf = (given.lot, given.expires_on)
        at, known = first.setdefault(given.sku, (index, lot))
        if known != lot:
            raise DomainError(
                f"line {index}: {given.sku} is {_named(known)} on line {at}; a receipt carries "
                f"one lot of a sku, so receive {_named(lot)} as a receipt of its own",
                field=f"lines.{index}.lot",
            )
    return {sku: lot for sku, (_, lot) in first.items()}


def _named(lot: LotOf) -> str:
    code, expires_on = lot
    if code is None:
        return "without a lot"
    return f"lot {code}" + (f" expiring {expires_on}" if expires_on else " without an expiry")
