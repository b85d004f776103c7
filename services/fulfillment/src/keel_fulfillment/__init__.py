"""Keel fulfillment service: Warehouses, shipment plans, pick tasks, carriers and tracking."""
