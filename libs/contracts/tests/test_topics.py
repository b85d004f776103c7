import pytest

from keel_contracts import SERVICES, TOPICS, event_types, topic_for_message, topics_for

pytestmark = pytest.mark.unit

CONTEXTS = {"inventory", "orders", "fulfillment", "procurement", "returns", "finance"}


def test_every_message_type_travels_on_exactly_one_topic() -> None:
    for model in event_types().values():
        assert topic_for_message(model).name


def test_topic_names_follow_the_context_aggregate_version_rule() -> None:
    for spec in TOPICS:
        context, _aggregate, version = spec.name.split(".")
        assert version.startswith("v")
        assert version[1:].isdigit()
        assert context in {
            "inventory",
            "orders",
            "fulfillment",
            "procurement",
            "returns",
            "finance",
        }


def test_each_service_gets_its_dead_letter_topic() -> None:
    for service in SERVICES:
        assert f"{service}-service.dlq" in {t.name for t in topics_for(service)}
