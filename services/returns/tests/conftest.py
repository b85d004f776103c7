from returns_harness import stack  # noqa: F401  (the fixture every service test uses)
