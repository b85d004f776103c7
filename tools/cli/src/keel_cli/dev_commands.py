"""`keel test` and `keel migrations-new`: the commands of whoever works on Keel itself."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from keel_cli import stack
from keel_kit.migrations import new_revision

console = Console()


def run_tests(
    pytest_args: Annotated[list[str] | None, typer.Argument(help="extra pytest arguments")] = None,
) -> None:
    """Lint, type-check, and run every test (starting Kafka and PostgreSQL if needed)."""
    root = stack.REPO_ROOT
    steps = [
        [sys.executable, "-m", "ruff", "check", "."],
        [sys.executable, "-m", "ruff", "format", "--check", "."],
        [sys.executable, "-m", "mypy", *_typed_packages(root)],
        [sys.executable, "-m", "mypy", *_test_dirs(root)],
        [sys.executable, "-m", "keel_cli.asyncapi", "--check"],
        [sys.executable, "-m", "keel_cli.openapi", "--check"],
        [sys.executable, "-m", "keel_cli.permissions", "--check"],
        # The slowest tests named at the end, to keep the suite's time in view.
        [sys.executable, "-m", "pytest", "--durations=20", *(pytest_args or [])],
    ]
    for argv in steps:
        console.print(f"[bold]$ {' '.join(argv[2:])}")
        code = subprocess.call(argv, cwd=root)
        if code != 0:
            raise typer.Exit(code)


def _typed_packages(root: Path) -> list[str]:
    """Every first-party package, as `-p name` pairs for mypy."""
    names = ["keel_contracts", "keel_kit", "keel_cli"]
    names += [f"keel_{p.name}" for p in sorted((root / "services").iterdir()) if p.is_dir()]
    return [arg for name in names for arg in ("-p", name)]


def _test_dirs(root: Path) -> list[str]:
    dirs = [root / "tests", root / "bench", *sorted(root.glob("*/*/tests"))]
    return [str(d.relative_to(root)) for d in dirs if any(d.glob("*.py"))]


def migrations_new(service: str, message: str) -> None:
    """Autogenerate a migration for a service from its models."""
    module = importlib.import_module(f"keel_{service}.main")
    new_revision(Path(module.__file__ or "").parent / "migrations", message)
