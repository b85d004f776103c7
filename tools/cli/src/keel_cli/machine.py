"""What a benchmark ran on, printed beside every figure."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def describe() -> dict[str, str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory_kb = int(line.split()[1])
    return {
        "host": platform.node(),
        "os": f"{platform.system()} {platform.release()}",
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": f"{memory_kb / 1024 / 1024:.1f} GiB",
        "python": platform.python_version(),
    }


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, from /proc."""
    fields = _stat(pid)
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process and its children, live or ended: PostgreSQL works in its
    postmaster's children (one per connection, and autovacuum workers that come and go), and
    an ended child's time passes to its parent's account when the parent reaps it."""
    # utime and stime, then cutime and cstime: the reaped children's
    total = sum(int(field) for field in _stat(pid)[11:15]) / os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if int(_stat(int(entry.name))[1]) == pid:
                total += cpu_seconds(int(entry.name))
        except (OSError, ValueError):
            continue  # the process ended while we looked
    return total


def context_switches() -> int:
    """Context switches on the whole machine since boot (/proc/stat)."""
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("ctxt "):
            return int(line.split()[1])
    raise RuntimeError("/proc/stat has no ctxt line")


def _stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name, which may contain spaces."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
