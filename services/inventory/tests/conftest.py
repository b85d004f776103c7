from inventory_harness import inventory  # noqa: F401  (the fixture every service test uses)
