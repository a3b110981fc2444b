"""``telco-channels simulate ussd`` as a user runs it: a process, a session against it, Ctrl-C."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from channels import ChannelKind, DeliveryReceipt, DeliveryState, Message, UssdMenu, UssdScreen
from channels.cli.sim_ussd import command, parse_choices, parse_delay
from channels.cli.simulate import simulate
from channels.ussd import UssdChannel


def test_registered_and_options_parsed() -> None:
    assert simulate.get_command(click.Context(simulate), "ussd") is command
    assert parse_choices("1=0.7, 2=0.2,0") == {"1": 0.7, "2": 0.2, "0": 1.0}
    assert parse_delay("0.5") == (0.5, 0.5) and parse_delay("0.2-1.5") == (0.2, 1.5)
    with pytest.raises(click.BadParameter, match="KEY=WEIGHT"):
        parse_choices("1=lots")
    result = CliRunner().invoke(command, ["--answer-delay", "2-1"])
    assert result.exit_code == 2 and "answer_delay" in result.output


async def test_cli_simulator_serves_a_session(tmp_path: Path) -> None:
    record = tmp_path / "ussd.jsonl"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from channels.cli import main; main()",
        "simulate",
        "ussd",
        "--port",
        "0",
        "--answer-delay",
        "0.01",
        "--choices",
        "1=1",
        "--record",
        str(record),
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    try:
        url = ""
        while not url:
            line = (await asyncio.wait_for(proc.stderr.readline(), 20)).decode()
            assert line, "simulator exited before listening"
            if "USSD gateway listening:" in line:
                url = line.split("listening:", 1)[1].strip()
        menu = UssdMenu(
            screens=(UssdScreen(name="m", text="1. Yes\n2. No", options={"1": "=yes", "2": "=no"}),)
        )
        async with UssdChannel.from_url(url) as channel:
            await channel.send(Message(to="8613800138000", kind=ChannelKind.USSD, content=menu))
            events = channel.events()
            receipt = None
            while receipt is None:
                event = await asyncio.wait_for(events.__anext__(), 10)
                receipt = event if isinstance(event, DeliveryReceipt) else None
        assert receipt.state is DeliveryState.DELIVERED and receipt.detail["result"] == "yes"
    finally:
        proc.send_signal(signal.SIGINT)
        rest = await asyncio.wait_for(proc.stderr.read(), 20)
        await asyncio.wait_for(proc.wait(), 20)
    assert b"USSD gateway stopped" in rest
    (line,) = record.read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["answers"] == ["1"]
