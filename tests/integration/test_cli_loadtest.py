"""``telco-channels loadtest`` against the SMSC simulator: in its own process (sim://), and over a
gateway URL with several binds; a gateway too slow for the schedule shows up as latency and drops,
not as a quietly lower rate."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from channels.cli.main import cli
from simulators.smsc import SmscSimulator
from tests.integration.test_cli_send import serving


def loadtest(tmp_path: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / "lt.json"
    command = [sys.executable, "-c", "from channels.cli import main; main()", "loadtest", "--json", str(out)]
    proc = subprocess.run([*command, *args], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "target rate" in proc.stdout and "submit latency" in proc.stdout
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def test_sim_gateway_runs_the_simulator_in_another_process_and_meets_a_modest_rate(tmp_path: Path) -> None:
    r = loadtest(tmp_path, "--gateway", "sim://?receipt_delay=0.02&outcomes=delivered=0.9,expired=0.1",
                 "--rate", "400/s", "--duration", "2s", "--ramp", "0.5s")  # fmt: skip
    assert r["scheduled"] == 700 and r["started"] == 700 and r["accepted"] == 700
    assert r["dropped"] == 0 and r["errors"] == {}
    assert 300 <= r["accepted_rate"] <= 450
    assert sum(r["receipts"].values()) == 700 and set(r["receipts"]) == {"delivered", "expired"}
    lat = r["submit_latency_ms"]
    assert lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p99.9"] <= lat["max"]
    assert r["receipt_latency_ms"]["p50"] >= 20  # the simulator holds receipts 20 ms


def test_a_slow_gateway_shows_as_latency_and_drops_measured_from_the_schedule(tmp_path: Path) -> None:
    # 4 in flight at 50 ms each: 80/s at most, against 400/s scheduled
    r = loadtest(tmp_path, "--gateway", "sim://?latency=0.05", "--rate", "400/s", "--duration", "1.5s",
                 "--window", "4", "--max-lag", "0.3s", "--receipt-wait", "0s")  # fmt: skip
    assert r["dropped"] > 200
    assert r["accepted"] + r["dropped"] == r["scheduled"] == 600
    assert r["accepted_rate"] < 150
    assert r["submit_latency_ms"]["p90"] > 200  # queued behind the window, counted from the intended time


def test_several_binds_over_a_gateway_url(tmp_path: Path) -> None:
    with serving(lambda: SmscSimulator()) as smsc:
        args = ["loadtest", "--gateway", smsc.url, "--rate", "300/s", "--duration", "1s",
                "--connections", "3", "--json", str(tmp_path / "lt.json")]  # fmt: skip
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        assert smsc.stats()["binds"] == 3
    r = json.loads((tmp_path / "lt.json").read_text())
    assert r["accepted"] == 300 and sum(r["receipts"].values()) == 300


def test_sim_gateway_is_for_sms(tmp_path: Path) -> None:
    args = ["loadtest", "--gateway", "sim://", "--channel", "mms", "--duration", "1s"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1 and "--channel sms" in result.output
