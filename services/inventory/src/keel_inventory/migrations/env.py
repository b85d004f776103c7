from sqlmodel import SQLModel

from keel_inventory import lot_models, models  # noqa: F401  (they register the tables)
from keel_kit import tables  # noqa: F401
from keel_kit.migrations import run_env

run_env(SQLModel.metadata)
