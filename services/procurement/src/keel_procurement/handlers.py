"""Procurement subscribers. For now the service keeps its replicas of the item master and of
inventory's locations (purchase orders and policies name them)."""

from keel_kit.handlers import Handlers
from keel_kit.location_replicas import replicate_locations
from keel_kit.replicas import replicate_items

handlers = Handlers()
replicate_items(handlers)
replicate_locations(handlers)
