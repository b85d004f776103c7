"""Channel allocation use cases: set and read a channel's rules, and what a channel may sell.

A rule is data with a version: each change counts up and is audited with the rule before and
after, so what limited a channel on any day can be told. The reservation paths apply the rules
(keel_inventory.reservations); this module only keeps them.
"""

from __future__ import annotations

from keel_contracts.events import ChannelRegistered
from keel_contracts.roles import Role
from keel_contracts.times import as_utc
from keel_inventory import channel_rules, repository
from keel_inventory.channel_rules import EVERY_SKU, ChannelRule
from keel_inventory.context import Work
from keel_inventory.models import CHANNEL_LENGTH, KnownChannel
from keel_inventory.models import ChannelRule as RuleRow
from keel_inventory.schemas import (
    ChannelAvailability,
    ChannelRuleIn,
    ChannelRulePublic,
    ChannelRulesPublic,
)
from keel_kit import audit
from keel_kit.handlers import PermanentError
from keel_kit.identity import Principal
from keel_kit.problems import DomainError, NotFound


async def set_rule(
    *, uow: Work, channel_id: str, sku: str | None, cmd: ChannelRuleIn, actor: Principal
) -> ChannelRulePublic:
    """Store the channel's rule for `sku` (None: its default), counting the version up when it
    changes; the same rule again changes nothing and is not audited twice."""
    session = uow.session
    if await repository.get_channel(session, channel_id) is None:
        raise NotFound(
            f"no channel {channel_id}: inventory knows the channels the order service announces "
            "(one created before that is announced again when it is next changed)"
        )
    if sku is not None and await repository.get_item(session, sku) is None:
        raise NotFound(f"unknown sku {sku}")
    if sku is not None and cmd.priority is not None:
        raise DomainError(
            f"priority is the channel's: set it on /v1/allocations/{channel_id}", field="priority"
        )
    key = sku or EVERY_SKU
    row = await repository.get_rule(session, channel_id, key)
    before = _limits(row) if row is not None else None
    after = cmd.model_dump()
    if row is not None and before == after:
        return _public(row)
    now = uow.service.clock()
    if row is None:
        row = RuleRow(channel_id=channel_id, sku=key, updated_by=actor.subject, updated_at=now)
    else:
        row.version += 1
        row.updated_by, row.updated_at = actor.subject, now
    for name, value in after.items():
        setattr(row, name, value)
    session.add(row)
    await session.flush()
    if sku is None:  # a default touches every SKU the channel may sell
        await repository.mark_every_sku_changed(session)
    else:
        await repository.mark_changed(session, [sku])
    await audit.record(
        uow,
        actor=actor,
        action="channel_rule.set",
        object_type="channel_rule",
        object_id=f"{channel_id}/{sku}" if sku else channel_id,
        owner_role=Role.OPERATIONS,
        before=before,
        after={**after, "version": row.version},
    )
    return _public(row)


async def learn_channel(*, uow: Work, event: ChannelRegistered) -> None:
    """Keep a channel the order service announced; a new one is told what it may sell of
    every SKU on the availability feed."""
    if len(event.channel_id) > CHANNEL_LENGTH or len(event.name) > 200:
        # Refused here, not by the database at commit, so it is dead-lettered alone.
        raise PermanentError(f"channel id or name too long (limits {CHANNEL_LENGTH}, 200)")
    if len(event.market_country) > 2:
        raise PermanentError(f"market country {event.market_country!r} is not a country code")
    session = uow.session
    known = await repository.get_channel(session, event.channel_id)
    if known is None:
        known = KnownChannel(channel_id=event.channel_id, name="", market_country="")
        await repository.mark_every_sku_changed(session)
    known.name, known.market_country = event.name, event.market_country
    session.add(known)


async def rules_of(*, uow: Work, channel_id: str) -> ChannelRulesPublic:
    rows = await repository.rules_of_channel(uow.session, channel_id)
    default = next((_public(r) for r in rows if r.sku == EVERY_SKU), None)
    return ChannelRulesPublic(
        channel_id=channel_id,
        default=default,
        skus=[_public(r) for r in rows if r.sku != EVERY_SKU],
    )


async def rule_for(*, uow: Work, channel_id: str, sku: str) -> ChannelRulePublic:
    row = await repository.get_rule(uow.session, channel_id, sku)
    if row is None:
        raise NotFound(f"channel {channel_id} has no rule of its own for {sku}")
    return _public(row)


async def availability(
    *, uow: Work, channel_id: str, sku: str, sellable: int, free: int
) -> ChannelAvailability:
    """What `channel_id` may sell of `sku` now, given the SKU's sellable and free units."""
    session = uow.session
    rules = channel_rules.effective_rules((await repository.rules_for(session, [sku]))[sku], sku)
    await repository.flush(session)
    held = (await repository.channel_holds(session, [sku]))[sku]
    rule = rules.get(channel_id)
    return ChannelAvailability(
        channel_id=channel_id,
        available_to_sell=channel_rules.room(
            channel_id, sellable=sellable, free=free, rules=rules, held=held
        ),
        held=held.get(channel_id, 0),
        rule=ChannelRuleIn(**_as_fields(rule)) if rule is not None else None,
    )


def _as_fields(rule: ChannelRule) -> dict[str, int | None]:
    return {
        "cap_percent": rule.cap_percent,
        "cap_units": rule.cap_units,
        "pool_units": rule.pool_units,
        "safety_units": rule.safety_units,
    }


def _limits(row: RuleRow) -> dict[str, int | None]:
    caps = ChannelRule(row.cap_percent, row.cap_units, row.pool_units, row.safety_units)
    return {**_as_fields(caps), "priority": row.priority}


def _public(row: RuleRow) -> ChannelRulePublic:
    return ChannelRulePublic(
        channel_id=row.channel_id,
        sku=row.sku or None,
        version=row.version,
        updated_by=row.updated_by,
        updated_at=as_utc(row.updated_at),
        **_limits(row),
    )
