from sqlmodel import SQLModel

from keel_fulfillment import models  # noqa: F401  (registers the tables)
from keel_kit import location_replicas, replicas, tables  # noqa: F401
from keel_kit.migrations import run_env

run_env(SQLModel.metadata)
