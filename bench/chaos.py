"""Many chaos runs, one per seed, and the table of every result kept.

Each seed runs `keel chaos --seed N` against the local stack (started on the chosen database if
it is not running) and keeps its JSON result under bench/results/; the table at the end covers
every chaos result kept there, from this and earlier series, with the machine they ran on.

    python -m bench.chaos --seeds 1-40 --duration 60 --database postgres
    python -m bench.chaos --table            (only print the table of what is kept)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from keel_cli.machine import describe

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def seeds(spec: str) -> list[int]:
    """`1-40` or `3,5,8` (or both: `1-5,9`)."""
    chosen: list[int] = []
    for part in spec.split(","):
        first, _, last = part.partition("-")
        chosen.extend(range(int(first), int(last or first) + 1))
    return chosen


def run(seed: int, duration: float, rate: float, database: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"chaos-{database}-seed{seed}-{stamp}.json"
    argv = [sys.executable, "-m", "keel_cli.main", "chaos", f"--seed={seed}"]
    argv += [f"--duration={duration}", f"--rate={rate}", f"--database={database}", f"--out={out}"]
    completed = subprocess.run(argv, cwd=ROOT, check=False)
    if not out.exists():  # the run died before it could judge: keep that too
        out.write_text(
            json.dumps(
                {
                    "seed": seed,
                    "database": database,
                    "duration": duration,
                    "ok": False,
                    "violations": [f"keel chaos exited {completed.returncode} without a result"],
                }
            )
        )
    result = json.loads(out.read_text())
    result["machine"] = describe()
    out.write_text(json.dumps(result, indent=2))
    return out


def table(paths: list[Path]) -> str:
    rows = [json.loads(p.read_text()) for p in sorted(paths)]
    lines = [
        f"{'database':<9} {'seed':>4} {'load s':>6} {'faults':>6} {'offered':>7} "
        f"{'accepted':>8} {'violations':>10}  faults by kind"
    ]
    faults: Counter[str] = Counter()
    for r in rows:
        kinds: dict[str, int] = r.get("faults_by_kind", {})
        faults.update(kinds)
        lines.append(
            f"{r['database']:<9} {r['seed']:>4} {r['duration']:>6.0f} {sum(kinds.values()):>6} "
            f"{r.get('orders_offered', 0):>7} {r.get('orders_accepted', 0):>8} "
            f"{len(r['violations']):>10}  "
            + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
        )
    failed = sum(1 for r in rows if r["violations"])
    lines.append(
        f"{len(rows)} runs, {failed} with violations; faults: "
        + ", ".join(f"{k} {n}" for k, n in sorted(faults.items()))
    )
    machines = {json.dumps(r.get("machine", {}), sort_keys=True) for r in rows}
    lines += [f"machine: {m}" for m in sorted(machines)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1-5")
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--rate", type=float, default=10)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--table", action="store_true", help="only print the kept results")
    args = parser.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    if not args.table:
        for seed in seeds(args.seeds):
            print(f"== chaos seed {seed} on {args.database}", flush=True)
            run(seed, args.duration, args.rate, args.database)
    print(table(list(RESULTS.glob("chaos-*.json"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
