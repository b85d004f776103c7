"""Order subscribers. For now the service keeps its replica of the item master."""

from keel_kit.handlers import Handlers
from keel_kit.replicas import replicate_items

handlers = Handlers()
replicate_items(handlers)
