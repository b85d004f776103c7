"""Every service's Alembic revisions, and the kit's, match the models they migrate."""

import subprocess
import sys

import pytest

from keel_contracts import SERVICES

pytestmark = pytest.mark.contract


@pytest.mark.parametrize("service", [*SERVICES, "console"])
def test_migrations_cover_every_model_change(service: str) -> None:
    # A process per service: all services' models share SQLModel's metadata, so one process
    # importing several would see tables that are not the service's own.
    code = (
        "from pathlib import Path; import importlib;"
        f"module = importlib.import_module('keel_{service}.main');"
        "from keel_kit.migrations import check_models_match;"
        "check_models_match(Path(module.__file__).parent / 'migrations')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]


def test_kit_migrations_cover_every_kit_table_change() -> None:
    code = (
        "import keel_kit.app;"  # registers every kit table
        "from keel_kit.migrations import KIT_MIGRATIONS, check_models_match;"
        "check_models_match(KIT_MIGRATIONS)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
