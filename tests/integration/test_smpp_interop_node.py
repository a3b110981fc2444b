"""Our SmppClient against an SMSC we did not write: node-smpp (npm ``smpp`` 0.5.1) driven by
tests/integration/peers/node_smsc.js, over TCP on 127.0.0.1 (issue 2). The peer reports every PDU it
sees as a JSON line, so the test checks both sides: bind, 100 submits pipelined in a window of 10 and
all acknowledged with the peer's ids, the peer's receipts parsed and correlated, enquire_link both
ways, and a clean unbind. The ``node_smpp`` fixture (tests/conftest.py) installs the package with npm
and fails, never skips, when it cannot."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from channels import AuthenticationError, ChannelKind, DeliveryReceipt, DeliveryState, Message, Text
from channels.smpp.client import SmppClient
from channels.smpp.config import SmppConfig

SCRIPT = Path(__file__).parent / "peers" / "node_smsc.js"
WAIT = 5.0


class NodeSmsc:
    """The node-smpp SMSC child process and the events it printed."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.port = 0
        self.events: list[dict[str, Any]] = []
        self._changed = asyncio.Condition()
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), 10)
        if not line:
            stderr = await self.proc.stderr.read() if self.proc.stderr else b""
            pytest.fail(f"node_smsc.js did not start: {stderr.decode(errors='replace')[-2000:]}")
        first = json.loads(line)
        assert first["event"] == "listening", first
        self.port = int(first["port"])
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            async with self._changed:
                self.events.append(json.loads(line))
                self._changed.notify_all()

    def of(self, event: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] == event]

    async def wait_for(self, event: str, count: int = 1) -> list[dict[str, Any]]:
        """The first ``count`` events named ``event``, waiting up to WAIT seconds for them."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(self.of(event)) >= count), WAIT)
        return self.of(event)[:count]

    async def stop(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()  # the script exits when its stdin closes
        try:
            await asyncio.wait_for(self.proc.wait(), WAIT)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader


@pytest.fixture
async def node_smsc(node_smpp: Path) -> AsyncIterator[NodeSmsc]:
    node = shutil.which("node")
    assert node is not None  # node_smpp failed the test otherwise
    proc = await asyncio.create_subprocess_exec(
        node, str(SCRIPT), "ours", "pw-1",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "NODE_PATH": str(node_smpp)},
    )  # fmt: skip
    peer = NodeSmsc(proc)
    try:
        await peer.start()
        yield peer
    finally:
        await peer.stop()
    assert not peer.of("error"), peer.of("error")
    assert not peer.of("unknown"), peer.of("unknown")


def config(peer: NodeSmsc, **overrides: Any) -> SmppConfig:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": peer.port,
        "system_id": "ours",
        "password": "pw-1",
        "window": 10,
        "response_timeout": WAIT,
        "enquire_link_interval": 0.3,
        "connect_timeout": WAIT,
        "default_sender": "ACME",
        "name": "node-smpp",
    }
    return SmppConfig(**{**values, **overrides})


def sms(i: int) -> Message:
    body = f"Offer {i}: reply STOP to end" if i % 2 else f"Привет {i}"  # GSM 7-bit and UCS-2 alternately
    return Message(to=f"4477009{i:05d}", kind=ChannelKind.SMS, content=Text(body=body), campaign_id="interop")


async def receipts(client: SmppClient, count: int) -> list[DeliveryReceipt]:
    got: list[DeliveryReceipt] = []
    async with asyncio.timeout(WAIT):
        async for event in client.events():
            assert isinstance(event, DeliveryReceipt), event
            got.append(event)
            if len(got) == count:
                break
    return got


async def test_our_client_against_node_smpp(node_smsc: NodeSmsc) -> None:
    peer = node_smsc
    client = SmppClient(config(peer))
    async with client:
        (bound,) = await peer.wait_for("bound")
        assert (bound["command"], bound["system_id"], bound["version"]) == ("bind_transceiver", "ours", 0x34)
        (pong,) = await peer.wait_for("enquire_link_resp")  # the peer's enquire_link, answered by us
        assert pong["status"] == 0

        messages = [sms(i) for i in range(100)]
        results = await asyncio.wait_for(asyncio.gather(*(client.send(m) for m in messages)), 10)
        submits = await peer.wait_for("submit_sm", 100)
        by_destination = {s["destination"]: s for s in submits}
        assert len(by_destination) == 100
        for message, result in zip(messages, results, strict=True):
            seen = by_destination[message.to]
            assert result.message_id == message.id and result.parts == 1
            assert result.remote_ids == (seen["id"],)  # the peer's id, to the right message
            assert seen["text"] == message.content.body  # type: ignore[union-attr]
            assert seen["data_coding"] == (0 if "Offer" in seen["text"] else 8)
            assert seen["source"] == "ACME"
        assert len({s["sequence"] for s in submits}) == 100
        batches = [b["size"] for b in peer.of("batch")]
        assert sum(batches) == 100
        assert max(batches) == 10  # pipelined up to the window, never past it

        got = await receipts(client, 100)
        assert {r.remote_id for r in got} == {s["id"] for s in submits}
        assert all(r.state is DeliveryState.DELIVERED and r.gateway == "node-smpp" for r in got)
        answered = await peer.wait_for("deliver_sm_resp", 100)
        assert all(a["status"] == 0 for a in answered)

        await peer.wait_for("enquire_link")  # our keepalive after 0.3 s idle, answered by the peer
        assert client.bound

    await peer.wait_for("unbind")
    await peer.wait_for("close")
    assert not client.bound
    order = [e["event"] for e in peer.events]
    assert order.index("unbind") > max(i for i, e in enumerate(order) if e == "deliver_sm_resp")


async def test_node_smpp_rejects_a_wrong_password(node_smsc: NodeSmsc) -> None:
    client = SmppClient(config(node_smsc, password="wrong"), connect_attempts=1)
    with pytest.raises(AuthenticationError, match="ESME_RINVPASWD"):
        await client.connect()
    await client.aclose()
    (rejected,) = await node_smsc.wait_for("bind_rejected")
    assert rejected["system_id"] == "ours"
    assert not node_smsc.of("submit_sm")
