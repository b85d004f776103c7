import pytest

from keel_contracts import Envelope, new_event_id, parse_payload
from keel_contracts.events import OrderPlaced
from keel_contracts.values import Line, Money

pytestmark = pytest.mark.unit


def test_event_ids_are_version_7_and_time_ordered() -> None:
    ids = [new_event_id() for _ in range(50)]
    assert all(i.version == 7 for i in ids)
    assert [i.bytes[:6] for i in ids] == sorted(i.bytes[:6] for i in ids)


def test_envelope_round_trips_a_payload_with_money_as_string() -> None:
    placed = OrderPlaced(
        order_id="o-1",
        channel="web",
        customer_id="c-1",
        lines=(Line(sku="SKU-1", quantity=2),),
        total=Money(amount="19.90", currency="USD"),
    )
    envelope = Envelope.wrap(placed, source="order", correlation_id="o-1")
    raw = envelope.to_bytes()
    assert b'"amount":"19.90"' in raw
    assert parse_payload(Envelope.from_bytes(raw)) == placed


def test_unknown_payload_fields_are_ignored() -> None:
    envelope = Envelope.wrap(
        OrderPlaced(
            order_id="o-1",
            channel="web",
            customer_id="c-1",
            lines=(Line(sku="S", quantity=1),),
            total=Money(amount="1", currency="USD"),
        ),
        source="order",
        correlation_id="o-1",
    )
    grown = envelope.model_copy(update={"payload": {**envelope.payload, "gift_wrap": True}})
    assert isinstance(parse_payload(grown), OrderPlaced)
