"""``telco-channels simulate smsc`` with this issue's flags, as a user runs it: a process, our client
through the Dispatcher against it (decimal receipt ids sent before the response, every recipient
replying), Ctrl-C, and the JSONL record."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

from channels import (
    ChannelKind,
    DeliveryReceipt,
    DeliveryState,
    Dispatcher,
    InboundMessage,
    Message,
    Sent,
    Text,
)
from channels.smpp.client import SmppClient


async def test_cli_simulator_with_receipt_variants_and_replies(tmp_path: Path) -> None:
    record = tmp_path / "smsc.jsonl"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from channels.cli import main; main()",
        "simulate",
        "smsc",
        "--port", "0",
        "--receipt-ids", "dec",
        "--receipt-first",
        "--receipt-style", "upper,err=4",
        "--vendor-tlv", "0x1400=0102",
        "--reply-rate", "1",
        "--replies", "８８=1",
        "--reply-delay", "0.01",
        "--record", str(record),
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    try:
        url = ""
        while not url:
            line = (await asyncio.wait_for(proc.stderr.readline(), 20)).decode()
            assert line, "simulator exited before listening"
            if "SMSC listening:" in line:
                url = line.split("listening:", 1)[1].strip()
        client = SmppClient.from_url(url + "?id_profile=resp-hex-dlr-dec")
        async with Dispatcher([client]) as dispatcher:
            message = Message(
                to="8613800138000", kind=ChannelKind.SMS, content=Text(body="Reply 88"), sender="10690001"
            )
            outcome = await dispatcher.send(message)
            events = [await dispatcher.next_event(10) for _ in range(2)]
    finally:
        proc.send_signal(signal.SIGINT)
        rest = await asyncio.wait_for(proc.stderr.read(), 20)
        await asyncio.wait_for(proc.wait(), 20)
    assert isinstance(outcome, Sent)
    receipt = next(e for e in events if isinstance(e, DeliveryReceipt))
    reply = next(e for e in events if isinstance(e, InboundMessage))
    assert receipt.message_id == message.id and receipt.state is DeliveryState.DELIVERED
    assert receipt.remote_id == str(int(outcome.result.remote_ids[0], 16))  # decimal vs the hex response
    assert (reply.text, reply.keyword, reply.sender) == ("８８", "88", "8613800138000")
    assert b"SMSC stopped" in rest
    (line,) = record.read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["text"] == "Reply 88"
