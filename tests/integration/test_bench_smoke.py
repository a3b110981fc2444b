"""The benchmark harness (bench/, issue 10) in its CI smoke mode: one small round of every figure, each
load and server in its own process on 127.0.0.1, so no script of it can rot unnoticed. It asserts that
the run finished and that every contender produced numbers; nothing about speed (the full run and
BENCHMARKS.md are for that). node-smpp comes from the ``node_smpp`` fixture (installed once per
session, fails without node/npm); aiosmpplib only runs where ``bench/setup.sh`` installed it."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ALWAYS = {
    "clients": {"ours/send_many", "ours/send_many/no-policies", "node-client", "smpplib"}
    | {"ceiling-a", "ceiling-b"},
    "servers": {"our-smsc", "node-server"},
    "latency": {"latency", "latency-gc", "latency-stream"},
    "http": {"mm7", "pap"},
    "memory": {"memory"},
}


def test_smoke_run_measures_every_figure(node_smpp: Path, tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    args = [sys.executable, "-m", "bench", "--smoke", "--node-modules", str(node_smpp), "--json", str(out)]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=110)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "## Results" in done.stdout and "| 1 | our client" in done.stdout
    raw = json.loads(out.read_text())
    for group, keys in ALWAYS.items():
        for key in keys:
            entry = raw[group][key]
            assert entry["missing"] is None and not entry["errors"], (key, entry)
            [run] = entry["runs"]
            assert run is not None, key
            numbers = [v for k, v in run.items() if k not in ("server_cpu",) and isinstance(v, int | float)]
            assert numbers and all(math.isfinite(v) and v >= 0 for v in numbers), (key, run)
            if group in ("clients", "servers", "http"):
                assert run["seconds"] > 0 and run["messages"] > 0, (key, run)
    rates = {k: raw["clients"][k]["runs"][0] for k in ("ours/send_many", "node-client", "smpplib")}
    for key, run in rates.items():  # every accepted message's receipt was correlated
        assert run["sent"] == run["messages"] and run["receipts"] == run["messages"], (key, run)
    memory = raw["memory"]["memory"]["runs"][0]
    assert memory["in_flight_bytes"] > 0 and memory["receipt_bytes"] > 0
    for key in ALWAYS["latency"]:
        latency = raw["latency"][key]["runs"][0]
        assert 0 < latency["p50_ms"] <= latency["p99_ms"] <= latency["max_ms"], key
