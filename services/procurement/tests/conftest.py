from procurement_harness import procurement  # noqa: F401
