"""``telco-channels simulate ivr``: started as a user would, answering a call from our adapter."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from channels import ChannelKind, DeliveryReceipt, Message
from channels.cli.main import cli
from channels.cli.sim_ivr import build_scenario
from channels.content import IvrScript, IvrStep
from channels.ivr import IvrClient

REACH = IvrScript(steps=(IvrStep(name="hello", result="reached"),))


async def test_simulate_ivr_serves_calls_and_records_them(tmp_path: Path) -> None:
    record = tmp_path / "calls.jsonl"
    code = "from channels.cli import main; main()"
    args = ["simulate", "ivr", "--port", "0", "--speed", "100", "--answer", "1", "--busy", "0"]
    args += ["--no-answer", "0", "--rejected", "0", "--failed", "0", "--record", str(record)]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, *args, stderr=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL
    )
    assert proc.stderr is not None
    try:
        async with asyncio.timeout(20):
            url = ""
            while not url:
                line = (await proc.stderr.readline()).decode()
                assert line, "simulator exited early"
                if line.startswith("IVR gateway listening: "):
                    url = line.split(": ", 1)[1].strip()
            async with IvrClient.from_url(url) as client:
                msg = Message(to="8613800000001", kind=ChannelKind.IVR, content=REACH)
                await client.send(msg)
                async for event in client.events():
                    assert isinstance(event, DeliveryReceipt)
                    assert (event.message_id, event.detail["status"]) == (msg.id, "completed")
                    break
            proc.send_signal(signal.SIGTERM)
            rest = (await proc.stderr.read()).decode()
            assert await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert "IVR gateway stopped" in rest and "'originated': 1" in rest
    (line,) = record.read_text().splitlines()
    assert json.loads(line)["channel_id"] == msg.id


def test_options_build_the_scenario() -> None:
    s = build_scenario(
        seed=3, channels=12, answer=0.5, busy=0.5, no_answer=0, rejected=0, failed=0, machine=0.2,
        ring_time="1,4", digits="1=0.5,1+2=0.25,none=0.25", digit_delay="0.5,2", prompt_seconds=2.0,
        hangup_mid_prompt=0.0,
    )  # fmt: skip
    assert (s.seed, s.max_channels, s.ring_time, s.digit_delay, s.machine) == (
        3,
        12,
        (1.0, 4.0),
        (0.5, 2.0),
        0.2,
    )
    assert dict(s.digits) == {"1": 0.5, "1,2": 0.25, "": 0.25}
    with pytest.raises(click.BadParameter, match="MIN,MAX"):
        build_scenario(
            seed=0, channels=1, answer=1, busy=0, no_answer=0, rejected=0, failed=0, machine=0,
            ring_time="fast", digits="1=1", digit_delay="1,2", prompt_seconds=1, hangup_mid_prompt=0,
        )  # fmt: skip


def test_bad_option_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["simulate", "ivr", "--port", "0", "--ring-time", "9,1"])
    assert result.exit_code == 2 and "ring_time" in result.output
