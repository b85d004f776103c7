"""The faults of one chaos run, drawn from a seed: the same seed gives the same schedule.

Every run kills each service once, kills and restarts the broker, stops PostgreSQL at once
(when the stack runs on it), pauses one service past its consumer's session timeout, and
delivers duplicates and poison messages; on PostgreSQL it also stalls one consumer past its
poll interval (a lock holds its batch while the process lives on), once that service's kill
has restarted it. Only the moments, the order and the targets change with the seed. Faults
start in the first 80% of the load, so each has time to hurt while work flows (the stall
follows its target's restart).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from keel_contracts import SERVICES

# Topics whose messages every run duplicates or poisons: each is read by several services.
TRAFFIC_TOPICS = (
    "orders.order.v1",
    "inventory.commands.v1",
    "finance.commands.v1",
    "fulfillment.shipment.v1",
    "inventory.stock.v1",
)
# Past the consumer's 10 s session timeout: the group rebalances around the frozen replica.
PAUSE_SECONDS = 14.0
# The consumers' poll interval on a stack `keel chaos` starts (300 s by default: a run would
# have to stall a batch for five minutes), and a stall past it: the stuck member leaves its
# group while its process, heartbeats and HTTP side live on.
POLL_INTERVAL_SECONDS = 15.0
STALL_SECONDS = 20.0
RESTART_SECONDS = 2.0  # from a killed service's start to its stall


@dataclass(frozen=True)
class Fault:
    at: float  # seconds after the load starts
    kind: str  # kill, broker, postgres, pause, stall, duplicate, poison
    target: str  # a service, a topic, or the component itself
    hold: float = 0.0  # how long the component stays down or paused

    def describe(self) -> str:
        held = f" for {self.hold:.0f}s" if self.hold else ""
        return f"{self.at:6.1f}s  {self.kind:<9} {self.target}{held}"


def draw(seed: int, duration: float, *, postgres: bool) -> list[Fault]:
    """The faults of the run `seed` over `duration` seconds of load, in time order."""
    rng = random.Random(seed)
    window = duration * 0.8

    def when() -> float:
        return round(rng.uniform(1.0, max(1.0, window)), 1)

    faults = [Fault(when(), "kill", service, round(rng.uniform(1, 4), 1)) for service in SERVICES]
    faults.append(Fault(when(), "broker", "kafka", round(rng.uniform(2, 6), 1)))
    if postgres:
        faults.append(Fault(when(), "postgres", "postgres", round(rng.uniform(2, 6), 1)))
    faults.append(Fault(when(), "pause", rng.choice(SERVICES), PAUSE_SECONDS))
    for _ in range(2):
        faults.append(Fault(when(), "duplicate", rng.choice(TRAFFIC_TOPICS)))
    for _ in range(3):
        faults.append(Fault(when(), "poison", rng.choice(TRAFFIC_TOPICS)))
    if postgres:  # drawn last, so the faults drawn before it stay what they were
        faults.append(_stall_after_restart(rng.choice(SERVICES), faults))
    return sorted(faults, key=lambda f: (f.at, f.kind, f.target))


def _stall_after_restart(service: str, faults: list[Fault]) -> Fault:
    """A stall of `service` once its kill has restarted it: the stalled process is one the run
    started (with the run's poll interval), and no kill of it cuts the stall short."""
    kill = next(f for f in faults if f.kind == "kill" and f.target == service)
    return Fault(round(kill.at + kill.hold + RESTART_SECONDS, 1), "stall", service, STALL_SECONDS)
