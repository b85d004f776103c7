from finance_harness import finance  # noqa: F401  (the fixture its service tests share)
