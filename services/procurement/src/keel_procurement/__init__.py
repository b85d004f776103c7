"""Keel procurement service: Suppliers, replenishment, purchase orders and receipts."""
