"""Keel order service: Orders and lines, sales channels, customer accounts and the order saga."""
