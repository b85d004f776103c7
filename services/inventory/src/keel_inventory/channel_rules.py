"""Channel allocation without I/O: how much of a SKU each sales channel may still sell.

A channel's rule (DESIGN §3) shapes what it sees of a SKU's free stock:
- a cap: at most `cap_percent` of the SKU's sellable units (reserved ones included), or
  `cap_units`, whichever is smaller, less what the channel already holds;
- a pool: `pool_units` kept for the channel alone, so every other channel sees free stock less
  what is still unfilled of it;
- a safety buffer: `safety_units` of free stock the channel never sells (a marketplace's
  margin for the lag of its feed).

A channel's default rule applies to every SKU; a rule for one SKU replaces it for that SKU. A
channel without a rule sells all free stock not pooled for others.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# The `sku` of a channel's default rule.
EVERY_SKU = ""


@dataclass(frozen=True, slots=True)
class ChannelRule:
    cap_percent: int | None = None
    cap_units: int | None = None
    pool_units: int | None = None
    safety_units: int | None = None

    @property
    def capped(self) -> bool:
        return self.cap_percent is not None or self.cap_units is not None

    def cap(self, sellable: int) -> int | None:
        """The most units of the SKU the channel may hold, or None without a cap."""
        caps = [self.cap_units] if self.cap_units is not None else []
        if self.cap_percent is not None:
            caps.append(self.cap_percent * max(0, sellable) // 100)
        return min(caps) if caps else None


NO_RULE = ChannelRule()


def effective_rules(
    rules: Iterable[tuple[str, str, ChannelRule]], sku: str
) -> dict[str, ChannelRule]:
    """Each channel's rule for `sku` from (channel, sku or EVERY_SKU, rule) rows: its own rule
    for the SKU where there is one, else the channel's default."""
    defaults: dict[str, ChannelRule] = {}
    own: dict[str, ChannelRule] = {}
    for channel, rule_sku, rule in rules:
        if rule_sku == sku:
            own[channel] = rule
        elif rule_sku == EVERY_SKU:
            defaults[channel] = rule
    return defaults | own


def room(
    channel: str,
    *,
    sellable: int,
    free: int,
    rules: Mapping[str, ChannelRule],
    held: Mapping[str, int],
) -> int:
    """Units of one SKU `channel` may still take: the free units less the pools still unfilled
    for other channels and its own safety buffer, and no more than its cap less what it holds.

    `sellable` is the SKU's sellable units (reserved included), `free` those not reserved (over
    every location), `held` the units each channel holds reserved.
    """
    rule = rules.get(channel, NO_RULE)
    pooled_for_others = sum(
        max(0, (other.pool_units or 0) - held.get(name, 0))
        for name, other in rules.items()
        if name != channel
    )
    units = free - pooled_for_others - (rule.safety_units or 0)
    cap = rule.cap(sellable)
    if cap is not None:
        units = min(units, cap - held.get(channel, 0))
    return max(0, units)


@dataclass
class ChannelBook:
    """What the rules need of a set of SKUs, kept current while requests take stock in turn:
    each SKU's sellable units, the rules that apply to it, and what each channel holds of it.
    A SKU no rule touches is absent from `rules` and limits nobody."""

    sellable: dict[str, int] = field(default_factory=dict)
    rules: dict[str, dict[str, ChannelRule]] = field(default_factory=dict)
    held: dict[str, dict[str, int]] = field(default_factory=dict)

    def limits(
        self, channel: str, lines: Mapping[str, int], free: Mapping[str, int]
    ) -> dict[str, int]:
        """The most of each of `lines`' SKUs `channel` may take now (SKUs without rules left
        out), given the free units per SKU."""
        return {
            sku: room(
                channel,
                sellable=self.sellable.get(sku, 0),
                free=free.get(sku, 0),
                rules=self.rules[sku],
                held=self.held.get(sku, {}),
            )
            for sku in lines
            if self.rules.get(sku)
        }

    def take(self, channel: str, units: Mapping[str, int]) -> None:
        """`channel` now holds `units` more of each SKU."""
        for sku, quantity in units.items():
            by_channel = self.held.setdefault(sku, {})
            by_channel[channel] = by_channel.get(channel, 0) + quantity
