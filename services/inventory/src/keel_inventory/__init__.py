"""Keel inventory service: the stock ledger is the truth, balances its projection."""
