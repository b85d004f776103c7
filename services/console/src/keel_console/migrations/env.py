from sqlmodel import SQLModel

from keel_console import models  # noqa: F401  (registers the tables)
from keel_kit.migrations import run_env

run_env(SQLModel.metadata)
