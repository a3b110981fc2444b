"""bench/policies.py (issue 4's benchmark) in a small run, so it cannot rot: every store decides and
prints its rate. Nothing about speed: the figures are for BENCHMARKS.md."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_policy_bench_runs_on_memory_sqlite_and_redis() -> None:
    args = [sys.executable, "bench/policies.py", "--messages", "300", "--chunk", "100"]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    for store in ("memory", "sqlite", "redis"):
        line = next(line for line in done.stdout.splitlines() if line.startswith(store))
        rates = [int(r.replace(",", "")) for r in re.findall(r"([\d,]+)/s", line)]
        assert len(rates) == 2 and all(r > 0 for r in rates), line  # one by one, evaluate_many
    assert done.stdout.count("decisions: 600 Allow()") == 3  # every decision of every store allowed
    for shape in ("send_many: chunks of 32", "send: one message"):  # the Dispatcher's two shapes
        line = next(line for line in done.stdout.splitlines() if line.strip().startswith(shape))
        median, best = (float(f) for f in re.findall(r"(\d+\.\d+)", line))
        assert 0 < best <= median, line
