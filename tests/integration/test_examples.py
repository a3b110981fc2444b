"""Every example in examples/ runs, as a user would run it (a subprocess), and says what it did.

Each example checks its own result (exactly-once delivery, replies counted, drops accounted for)
and exits non-zero when that fails; the markers below check each one got to its summary.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

MARKERS = {
    "campaign_engine.py": ["sent 300, delivered 300"],
    "response_campaign.py": ["wave 1: 400 SMS offers sent", "replies, subscribe (full-width):", "WAP pushes"],
    "bulk_send_cli.py": ["spring.csv:12: msisdn", "report outcomes: {'sent': 498, 'invalid': 2}",
                         "second run: every row already done"],
    "load_test.py": ["accepted 3750 of 3750", "submit → response p50"],
    "redis_workers.py": ["1500 numbers reached, most often 1 time(s)", "worker 2: sent"],
}


def test_every_example_is_covered() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(MARKERS)


@pytest.mark.parametrize("name", sorted(MARKERS))
def test_example_runs(name: str) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    for marker in MARKERS[name]:
        assert marker in proc.stdout, f"{name}: {marker!r} not in\n{proc.stdout[-2000:]}"
