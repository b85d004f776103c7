"""Keel returns service: Return authorizations, inspections, grades and dispositions."""
