"""promtool, the checker of the Prometheus `keel up` runs (Debian's `prometheus` package),
installed on first use so that no check is skipped on a new machine."""

from __future__ import annotations

import subprocess
from pathlib import Path

from keel_cli.runtime import processes


def promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    binary = processes.installed_command("promtool", package="prometheus")
    return subprocess.run([binary, *args], capture_output=True, text=True, cwd=cwd)
