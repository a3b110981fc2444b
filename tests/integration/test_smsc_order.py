"""What the SMSC simulator writes, in what order, seen from a raw socket (no client in between)."""

from __future__ import annotations

import asyncio
import struct

import pytest

from channels.smpp import pdu as codec
from channels.smpp.constants import CommandId
from simulators import SmscScenario, SmscSimulator


async def read_pdu(reader: asyncio.StreamReader) -> codec.Pdu:
    head = await reader.readexactly(16)
    (length,) = struct.unpack(">I", head[:4])
    return codec.decode(head + await reader.readexactly(length - 16))


@pytest.mark.parametrize("latency", [0.0, 0.002, 0.02])
async def test_a_receipt_due_with_its_response_follows_it(latency: float) -> None:
    # receipt_delay counts from the submit_sm_resp: with 0, the receipt comes right behind the
    # response, never before it, whatever the response's own latency.
    scenario = SmscScenario(response_latency=latency, receipt_delay=0.0)
    async with SmscSimulator(scenario=scenario) as smsc:
        port = int(smsc.url.rsplit(":", 1)[1].split("?")[0])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        bind = codec.make(
            CommandId.BIND_TRANSCEIVER, sequence=1, system_id="test", password="secret", interface_version=52
        )
        writer.write(codec.encode(bind))
        assert (await read_pdu(reader)).command_id == CommandId.BIND_TRANSCEIVER_RESP
        for i in range(5):
            submit = codec.make(
                CommandId.SUBMIT_SM,
                sequence=10 + i,
                source_addr="10086",
                destination_addr=f"8613800000{i}",
                short_message=b"hi",
                registered_delivery=1,
            )
            writer.write(codec.encode(submit))
        seen = []
        for _ in range(10):
            pdu = await asyncio.wait_for(read_pdu(reader), 5)
            seen.append(pdu.sequence if pdu.command_id == CommandId.SUBMIT_SM_RESP else "receipt")
        writer.close()
    for i in range(5):
        assert seen.index(10 + i) < [k for k, s in enumerate(seen) if s == "receipt"][i]
