"""Write or check each service's committed OpenAPI document (`services/<name>/openapi.json`).

`python -m keel_cli.openapi` rewrites them, but refuses one whose change would break callers
(oasdiff's breaking-change rules: a path or a response field gone, a parameter now required,
...) while the service's version, its package's in `services/<name>/pyproject.toml`, has not
moved; it lists the breaking changes instead. `--check`, which `./keel test` runs, fails when a
committed document differs from the code, and says whether the difference would break callers.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from keel_cli.stack import REPO_ROOT
from keel_contracts import SERVICES

OASDIFF = Path(sys.executable).parent / "oasdiff"  # `./keel install` puts it beside python


def document(service: str) -> dict[str, Any]:
    """The document the service's app serves at `/openapi.json`."""
    settings = importlib.import_module(f"keel_{service}.settings").Settings(
        database_url="sqlite+aiosqlite:///:memory:"
    )
    app = importlib.import_module(f"keel_{service}.main").create_app(settings)
    served: dict[str, Any] = app.openapi()
    return served


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def breaking_changes(committed: Path, text: str) -> tuple[bool, str]:
    """Whether the document in `text` breaks callers of the `committed` one with no version
    bump, and oasdiff's account of every breaking change."""
    if not OASDIFF.is_file():
        raise SystemExit("oasdiff is not installed: run ./keel install (needs go)")
    with tempfile.TemporaryDirectory() as folder:
        revision = Path(folder) / "openapi.json"
        revision.write_text(text)
        command = [str(OASDIFF), "breaking", str(committed), str(revision), "--color", "never"]
        bump = "MISSING-VERSION-BUMP"
        result = subprocess.run(
            [*command, "--fail-on", bump], capture_output=True, text=True, check=False
        )
    return result.returncode != 0, (result.stdout + result.stderr).strip()


def main(argv: list[str]) -> int:
    check = "--check" in argv
    # Six apps in one process: OpenTelemetry warns each time that only the first one's tracer
    # provider counts, which is all the same here.
    logging.getLogger("opentelemetry.trace").setLevel(logging.ERROR)
    failed = False
    for service in SERVICES:
        path = REPO_ROOT / "services" / service / "openapi.json"
        where = os.path.relpath(path, REPO_ROOT)
        text = render(document(service))
        if path.exists() and path.read_text() == text:
            continue
        breaks, report = breaking_changes(path, text) if path.exists() else (False, "")
        if breaks:
            failed = True
            print(
                f"{where}: breaks callers and {service}'s version has not moved; bump it in "
                f"services/{service}/pyproject.toml (0.x: the minor number), run ./keel install, "
                f"then write again:\n"
                f"{report}\n",
                file=sys.stderr,
            )
        elif check:
            failed = True
            print(f"{where}: out of date (run python -m keel_cli.openapi)", file=sys.stderr)
        else:
            path.write_text(text)
            print(f"{where}: written" + (f"\n{report}" if report else ""))
    if not failed and check:
        print("OpenAPI documents match the code")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
