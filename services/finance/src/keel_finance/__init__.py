"""Keel finance service: the double-entry journal every money-moving event posts to, and
payments through a provider port."""
