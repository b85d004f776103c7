"""The role-by-route matrix of every service, as README shows it.

`python -m keel_cli.permissions` rewrites README's matrix from the services' permission tables
(`keel_<service>.permissions`, with the kit's own routes); a test fails when README has drifted.
"""

from __future__ import annotations

import importlib
import re
import sys

from keel_cli.stack import REPO_ROOT
from keel_contracts import SERVICES
from keel_contracts.roles import Role
from keel_kit.access import Permissions
from keel_kit.app import KIT_PERMISSIONS

README = REPO_ROOT / "README.md"
BEGIN, END = "<!-- permissions:begin -->", "<!-- permissions:end -->"
COLUMNS = [r for r in Role if r is not Role.ADMIN]  # admin may use every route


def service_permissions(service: str) -> Permissions:
    """The service's whole table: its own routes and the kit's."""
    own: Permissions = importlib.import_module(f"keel_{service}.permissions").PERMISSIONS
    return own | KIT_PERMISSIONS


def render() -> str:
    """One row per route, one column per role; admin, who may use all, is left out."""
    lines = [
        "| service | route | " + " | ".join(r.value for r in COLUMNS) + " |",
        "|---|---|" + "---|" * len(COLUMNS),
    ]
    for service in SERVICES:
        routes = service_permissions(service).routes
        for (method, path), allowed in sorted(routes.items(), key=lambda r: (r[0][1], r[0][0])):
            marks = " | ".join("✓" if role in allowed else "" for role in COLUMNS)
            lines.append(f"| {service} | `{method} {path}` | {marks} |")
    return "\n".join(lines)


def _with_matrix(readme: str) -> str:
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(readme):
        raise SystemExit(f"README.md has no {BEGIN} … {END} section")
    return pattern.sub(lambda _: f"{BEGIN}\n{render()}\n{END}", readme)


def main(argv: list[str]) -> int:
    text = README.read_text()
    wanted = _with_matrix(text)
    if "--check" in argv:
        if wanted != text:
            print("README's permission matrix is stale: run python -m keel_cli.permissions")
            return 1
        return 0
    README.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
