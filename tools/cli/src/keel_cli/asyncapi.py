"""Write or check every service's committed AsyncAPI document (`services/<name>/asyncapi.json`).

`python -m keel_cli.asyncapi` rewrites them; `--check` fails when the code has drifted from the
committed documents, so a change to what a service consumes or publishes is always reviewed.
"""

from __future__ import annotations

import importlib
import json
import sys

from keel_cli.stack import REPO_ROOT
from keel_contracts import SERVICES
from keel_kit.asyncapi import document


def render(service: str) -> str:
    settings_cls = importlib.import_module(f"keel_{service}.settings").Settings
    handlers = importlib.import_module(f"keel_{service}.handlers").handlers
    settings = settings_cls(database_url="sqlite+aiosqlite:///:memory:")
    return json.dumps(document(settings, handlers), indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for service in SERVICES:
        path = REPO_ROOT / "services" / service / "asyncapi.json"
        text = render(service)
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path.relative_to(REPO_ROOT)))
        else:
            path.write_text(text)
    if stale:
        print(
            "AsyncAPI documents out of date (run python -m keel_cli.asyncapi):",
            *stale,
            sep="\n  ",
            file=sys.stderr,
        )
        return 1
    print("AsyncAPI documents " + ("match the code" if check else "written"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
