"""The `keel` command line, run as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def keel(
    state_dir: Path,
    *args: str,
    timeout: float = 300,
    input_text: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the `keel` command line on its own state folder, as a user would (no KEEL_ settings
    from the test session leak into it, only those in `env`), typing `input_text` if given."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    clean["KEEL_STATE_DIR"] = str(state_dir)
    return subprocess.run(
        [sys.executable, "-m", "keel_cli.main", *args],
        env={**clean, **(env or {})},
        input=input_text,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
