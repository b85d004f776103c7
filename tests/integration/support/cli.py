"""The `keel` command line, run as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def keel(state_dir: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the `keel` command line on its own state folder, as a user would (no KEEL_ settings
    from the test session leak into it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    env["KEEL_STATE_DIR"] = str(state_dir)
    return subprocess.run(
        [sys.executable, "-m", "keel_cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
