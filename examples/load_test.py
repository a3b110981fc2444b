"""A load test before touching a real gateway: ``telco-channels loadtest`` against the SMSC simulator,
which ``--gateway sim://`` starts in its own process (on the other core). The rate is a schedule:
latency is measured from each message's intended send time, so a stall shows as latency and drops.
"""

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def telco(*args: str) -> list[str]:
    found = shutil.which("telco-channels")
    return [found, *args] if found else [sys.executable, "-c", "from channels.cli import main; main()", *args]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "loadtest.json"
        gateway = "sim://?receipt_delay=0.05&outcomes=delivered=0.95,undeliverable=0.05"
        run = subprocess.run(
            telco("loadtest", "--gateway", gateway, "--rate", "1500/s", "--duration", "3s", "--ramp", "1s",
                  "--window", "64", "--json", str(out)),
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        print(run.stdout)
        assert run.returncode == 0, run.stderr
        result = json.loads(out.read_text())
    submit, receipt = result["submit_latency_ms"], result["receipt_latency_ms"]
    print(f"target {result['target_rate']:.0f}/s ({result['scheduled_rate']:.0f}/s on average with the ramp),"
          f" achieved {result['achieved_rate']:.0f}/s, "
          f"accepted {result['accepted']} of {result['scheduled']}, dropped {result['dropped']}")
    print(f"submit → response p50 {submit['p50']} ms, p99 {submit['p99']} ms; "
          f"submit → receipt p50 {receipt['p50']} ms")
    assert result["accepted"] + result["dropped"] + sum(result["errors"].values()) == result["scheduled"]


if __name__ == "__main__":
    main()
