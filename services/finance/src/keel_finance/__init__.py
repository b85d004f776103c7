"""Keel finance service: the double-entry journal every money-moving event posts to."""
