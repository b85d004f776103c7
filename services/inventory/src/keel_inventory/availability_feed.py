"""The availability feed: what may be sold of each SKU, published on inventory.availability.v1
(compacted, keyed by SKU) when it changes, so marketplace feeds stop selling what is gone.

Every stock change marks its SKUs; a periodic job publishes the marked ones, debounced by its
period: a SKU that changed a hundred times since the last run is published once, as it stands.
Each `availability.changed` carries the SKU's free units and, for every channel the order
service has announced, what that channel may sell under its allocation rule. One that comes back
to what was last published is not sent again.
"""

from keel_contracts.events import AvailabilityChanged
from keel_inventory import repository
from keel_inventory.channel_rules import effective_rules, room
from keel_inventory.context import Work


async def publish_changed(work: Work) -> None:
    """The periodic job: publish up to a batch of the SKUs marked changed."""
    session = work.session
    skus = await repository.changed_skus(
        session, work.service.settings.availability_feed_batch_size
    )
    if not skus:
        return
    stock = await repository.stock_for_sale(session, skus)
    rules = await repository.rules_for(session, skus)
    held = await repository.channel_holds(session, skus)
    channels = await repository.known_channels(session)
    last = await repository.last_published(session, skus)
    published = []
    for sku in skus:
        sellable, free = stock[sku]
        applying = effective_rules(rules[sku], sku)
        event = AvailabilityChanged(
            sku=sku,
            available_to_sell=free,
            channels={
                channel: room(channel, sellable=sellable, free=free, rules=applying, held=held[sku])
                for channel in channels
            },
        )
        payload = event.model_dump_json()
        if payload != last.get(sku):
            work.outbox.add(session, event, key=sku)
        published.append((sku, payload))
    await repository.record_published(session, published)
