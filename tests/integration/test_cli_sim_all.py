"""``telco-channels simulate all``: five simulators in one process, URLs on stdout, a scenario file,
records per simulator, and sends through them; Ctrl-C stops them all cleanly."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from channels.cli.main import cli
from channels.cli.sim_all import load_scenarios
from channels.results import DeliveryState

SCENARIO = """
[smsc]
outcomes = { expired = 1.0 }
receipt_delay = 0.01
[ivr]
ring_time = [0.05, 0.1]
answer = 1.0
busy = 0
no_answer = 0
rejected = 0
failed = 0
[ussd]
answer_delay = [0.01, 0.02]
"""


def test_scenario_tables_are_checked_and_converted(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO)
    scenarios = load_scenarios(path, seed=7)
    assert scenarios["smsc"].outcomes == {DeliveryState.EXPIRED: 1.0} and scenarios["smsc"].seed == 7
    assert scenarios["ivr"].ring_time == (0.05, 0.1)
    path.write_text("[smsc]\nspeed = 3\n")
    with pytest.raises(click.BadParameter, match=r"\[smsc\] has no setting \['speed'\]"):
        load_scenarios(path, 0)
    path.write_text("[smtp]\n")
    with pytest.raises(click.BadParameter, match="unknown table"):
        load_scenarios(path, 0)
    path.write_text("[ivr]\nanswer = -1\n")
    with pytest.raises(click.BadParameter, match=r"\[ivr\]"):
        load_scenarios(path, 0)


def test_all_five_run_together_and_record_what_they_received(tmp_path: Path) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text(SCENARIO)
    records = tmp_path / "records"
    proc = subprocess.Popen(
        [sys.executable, "-c", "from channels.cli import main; main()", "simulate", "all", "--base-port", "0",
         "--scenario", str(scenario), "--record-dir", str(records), "--ppg-to-smsc"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        urls = dict(proc.stdout.readline().split() for _ in range(5))
        assert set(urls) == {"smsc", "mmsc", "ppg", "ivr", "ussd"}
        assert urls["smsc"].startswith("smpp://") and urls["ussd"].startswith("ussd+smpp://")
        targets = tmp_path / "t.txt"
        targets.write_text("+8613800000001\n+8613800000002\n")
        runs = {
            "sms": ["--wait-receipts", "5s"],
            "wap_push": ["--href", "http://wap.example.cn/offer"],
            "ussd": [],
            "ivr": [],
        }
        for channel, extra in runs.items():
            gateway = urls["ppg" if channel == "wap_push" else channel if channel != "sms" else "smsc"]
            result = CliRunner().invoke(cli, [
                "send", str(targets), "--channel", channel, "--gateway", gateway, "--template", "Hello",
                "--job", str(tmp_path / f"{channel}.sqlite"), "--report", str(tmp_path / f"{channel}.jsonl"),
                *extra])  # fmt: skip
            assert result.exit_code == 0, (channel, result.output)
        sms = [json.loads(x) for x in (tmp_path / "sms.jsonl").read_text().splitlines()]
        assert {r["receipt"] for r in sms} == {"expired"}  # the scenario file's outcome
        time.sleep(1.0)
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "smsc stopped" in err and "ussd stopped" in err
    smsc = [json.loads(x) for x in (records / "smsc.jsonl").read_text().splitlines()]
    assert sum(r["text"] == "Hello" for r in smsc) == 2  # the SMS; the pushes arrive as binary SMS too
    assert len(smsc) >= 4
    assert len((records / "ppg.jsonl").read_text().splitlines()) == 2
    assert len((records / "ussd.jsonl").read_text().splitlines()) == 2
