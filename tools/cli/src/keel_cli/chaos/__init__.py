"""`keel chaos`: trading-day load under a seeded schedule of faults, then `keel check`."""
