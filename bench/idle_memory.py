"""The memory the running local stack holds, per component and in all, measured as PSS.

PSS (proportional set size) splits each shared page among the processes that map it, so
PostgreSQL's shared buffers, mapped by every backend, are counted once; RSS would count them
once per backend. Each component is its recorded process and all its descendants.

    ./keel up --database postgres && ./keel demo --orders 20
    .venv/bin/python -m bench.idle_memory [--settle 30]

Prints the machine, then MB per component and the total; asserts nothing.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from keel_cli import stack
from keel_cli.machine import describe
from keel_cli.runtime import processes
from keel_contracts import SERVICES

COMPONENTS = (*SERVICES, "kafka", "postgres", "zipkin", "prometheus")


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # ended while we looked
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def pss_mb(pid: int) -> float:
    """The PSS of `pid` and its descendants, in MB (10^6 bytes)."""
    total_kb = 0
    for member in descendants(pid):
        try:
            for line in Path(f"/proc/{member}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total_kb += int(line.split()[1])
        except OSError:
            continue
    return total_kb * 1024 / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--settle", type=float, default=30.0, help="seconds to wait first")
    args = parser.parse_args()
    state_dir = stack.default_state_dir()
    time.sleep(args.settle)
    for key, value in describe().items():
        print(f"{key}: {value}")
    figures = {
        name: pss_mb(pid)
        for name in COMPONENTS
        if (pid := processes.read_pid(name, state_dir=state_dir)) is not None
    }
    for name, mb in figures.items():
        print(f"{name:12} {mb:8.1f} MB")
    total = sum(figures.values())
    print(f"{'total':12} {total:8.1f} MB ({total / 1024**3 * 1e6:.2f} GiB)")


if __name__ == "__main__":
    main()
