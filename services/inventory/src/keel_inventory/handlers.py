"""Inventory consumes nothing yet; reservation commands arrive with the order-to-cash flow."""

from keel_kit.handlers import Handlers

handlers = Handlers()
