from sqlmodel import SQLModel

from keel_kit import location_replicas, replicas, tables  # noqa: F401  (registers the tables)
from keel_kit.migrations import run_env
from keel_procurement import models  # noqa: F401

run_env(SQLModel.metadata)
