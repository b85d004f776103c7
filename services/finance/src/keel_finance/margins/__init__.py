"""Margins per sales channel (see `service`)."""
