"""Write or check the committed AsyncAPI documents: each service's
(`services/<name>/asyncapi.json`) and the suite's (`libs/contracts/asyncapi.json`).

`python -m keel_cli.asyncapi` rewrites them. `--check` fails when the code has drifted from the
committed documents, so a change to what a service sends or reads is always reviewed, and then
has the AsyncAPI parser validate them (`tools/asyncapi`, installed by `./keel install`).
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from keel_cli.stack import REPO_ROOT
from keel_contracts import SERVICES
from keel_contracts.asyncapi import suite_document
from keel_kit.asyncapi import document

VALIDATOR = REPO_ROOT / "tools" / "asyncapi" / "validate.js"
SUITE = REPO_ROOT / "libs" / "contracts" / "asyncapi.json"


def documents() -> dict[Path, dict[str, Any]]:
    """Every committed document's path and what the code says it should hold."""
    wanted = {SUITE: suite_document()}
    for service in SERVICES:
        handlers = importlib.import_module(f"keel_{service}.handlers").handlers
        wanted[REPO_ROOT / "services" / service / "asyncapi.json"] = document(service, handlers)
    return wanted


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def validate(paths: list[Path]) -> int:
    """The AsyncAPI parser's verdict: 0 when no document has an error or a warning."""
    node = shutil.which("node")
    if node is None or not (VALIDATOR.parent / "node_modules").is_dir():
        print("AsyncAPI parser not installed: run ./keel install (needs node)", file=sys.stderr)
        return 1
    relative = [os.path.relpath(path, REPO_ROOT) for path in paths]
    return subprocess.run([node, str(VALIDATOR), *relative], cwd=REPO_ROOT, check=False).returncode


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    wanted = documents()
    for path, doc in wanted.items():
        text = render(doc)
        if not check:
            path.write_text(text)
        elif not path.exists() or path.read_text() != text:
            stale.append(str(path.relative_to(REPO_ROOT)))
    if stale:
        print(
            "AsyncAPI documents out of date (run python -m keel_cli.asyncapi):",
            *stale,
            sep="\n  ",
            file=sys.stderr,
        )
        return 1
    if not check:
        print("AsyncAPI documents written")
        return 0
    if validate(list(wanted)) != 0:
        print("AsyncAPI documents do not validate", file=sys.stderr)
        return 1
    print("AsyncAPI documents match the code and validate")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
