from keel_finance import models  # noqa: F401  (registers the tables)
from keel_kit import replicas, tables  # noqa: F401
from keel_kit.migrations import run_env
from sqlmodel import SQLModel

run_env(SQLModel.metadata)
