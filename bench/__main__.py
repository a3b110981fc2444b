"""``python -m bench``: every figure of issue 10, side by side, in one table (see BENCHMARKS.md).

Run ``bench/setup.sh`` first (``bench/run.sh`` does both). ``--smoke`` is the CI mode: one round of
every figure at a few percent of the full sizes, servers shared within a group, no profiles: it proves
the harness and every peer script still run and produce numbers, and says nothing about speed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from bench.figures import client_group, http_group, latency_group, memory_group, server_group
from bench.harness import RESULTS
from bench.runner import GroupResult, note, run_group
from bench.smpp_load import PATHS
from bench.table import load_lines, machine_lines, profile_lines, ratio_rows, result_rows, snapshot

GROUPS = ("clients", "servers", "latency", "http", "memory")
SMOKE_SCALE = 0.05


def half_max_rate(results: list[GroupResult], fallback: float) -> float:
    """Half of our client's median rate on the first path (figure 5 runs at that arrival rate)."""
    for result in results:
        m = result.measured.get(f"ours/{next(iter(PATHS))}")
        if m is not None and m.ok():
            return statistics.median(r.rate for r in m.ok()) / 2
    return fallback


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="CI mode: one small round of everything")
    parser.add_argument("--reps", type=int, default=5, help="rounds per group (medians over these)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every run's message count")
    parser.add_argument("--only", nargs="+", choices=GROUPS, default=list(GROUPS))
    parser.add_argument("--profile", action="store_true", help="one extra py-spy run of our client/SMSC/MM7")
    parser.add_argument("--top", type=int, default=15, help="functions per profile list")
    parser.add_argument("--node-modules", help="a node_modules holding smpp 0.5.1 (default bench/.peers)")
    parser.add_argument("--json", type=Path, default=RESULTS / "latest.json", help="raw results file")
    args = parser.parse_args(argv)
    reps, scale, fresh = (1, SMOKE_SCALE, False) if args.smoke else (args.reps, args.scale, True)
    command = "python -m bench " + " ".join(sys.argv[1:] if argv is None else argv)
    before = snapshot()
    note(f"bench: {reps} round(s), scale {scale}, load {before[0]:.2f}, reference {before[1]:.1f} µs")
    results: list[GroupResult] = []
    for name in args.only:
        if name == "clients":
            group = client_group(args.node_modules)
        elif name == "servers":
            group = server_group(args.node_modules)
        elif name == "latency":
            group = latency_group(half_max_rate(results, 500.0))
        elif name == "http":
            group = http_group()
        else:
            group = memory_group()
        rounds = 1 if name == "memory" else reps
        note(f"bench: group {name}, {rounds} round(s)")
        results.append(run_group(group, rounds, scale, fresh=fresh, profile=args.profile and not args.smoke))
    after = snapshot()
    lines = [
        "## Results",
        "",
        *machine_lines(command),
        *load_lines(before, after),
        "",
        *result_rows(results),
        "",
        *ratio_rows(results),
        "",
        *profile_lines(results, args.top),
    ]
    print("\n".join(lines))
    _save(args.json, results)
    failed = [m.contender.key for r in results for m in r.measured.values() if m.errors]
    if failed:
        note(f"bench: runs failed: {', '.join(failed)}")
    return 1 if failed else 0


def _save(path: Path, results: list[GroupResult]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = {
        r.group.name: {
            key: {
                "runs": [run.result | {"server_cpu": run.server_cpu} if run else None for run in m.runs],
                "errors": m.errors,
                "missing": m.contender.missing,
            }
            for key, m in r.measured.items()
        }
        for r in results
    }
    path.write_text(json.dumps(raw, indent=1))


if __name__ == "__main__":
    sys.exit(main())
