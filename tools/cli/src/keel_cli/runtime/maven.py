"""The Java servers of the local runtime (the Kafka broker, Zipkin's tracing UI), fetched by
Maven from Maven Central: the one download source these machines have for them.

Each lives in `deploy/local/<name>/pom.xml`, a project that is not built: `mvn
dependency:copy-dependencies` copies its jars into the state folder, and they run on the
machine's Java 17.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from keel_cli.runtime import processes

_MARKER = ".keel-pom-sha256"


def deploy_dir(name: str) -> Path:
    """deploy/local/<name>, where the server's pom.xml is."""
    return processes.deploy_path(f"local/{name}", marker="pom.xml")


def java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    return processes.installed_command("java", package="openjdk-17-jre-headless")


def fetch(name: str, libs: Path) -> Path:
    """Copy deploy/local/<name>'s jars into `libs` unless the same pom already did.

    A hash of pom.xml is kept beside the jars so a version bump in the pom re-fetches them
    instead of silently running the old server.
    """
    pom = deploy_dir(name) / "pom.xml"
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()
    marker = libs / _MARKER
    if marker.is_file() and marker.read_text().strip() == digest:
        return libs
    java()
    mvn = processes.installed_command("mvn", package="maven")
    # Copy into a sibling and swap, so an interrupted download never looks complete.
    staging = libs.with_name(f"{libs.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    result = subprocess.run(
        [
            mvn,
            "-B",
            "-q",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={staging}",
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
        raise RuntimeError(f"maven could not fetch {name} (exit {result.returncode}):\n{tail}")
    (staging / _MARKER).write_text(digest + "\n")
    shutil.rmtree(libs, ignore_errors=True)
    staging.replace(libs)
    return libs
