"""Our client and SMSC simulator on uvloop's event loop (issue 10: uvloop is what many production
asyncio services run). uvloop's transports are not ``asyncio.Transport`` subclasses: a type check in
``connection_made`` once left the transport unset and the bind unsent, so nothing ever bound."""

from __future__ import annotations

import uvloop

from channels import ChannelKind, DeliveryReceipt, DeliveryState, Dispatcher, Message, Sent, Text
from channels.smpp.client import SmppClient
from simulators.smsc import SmscSimulator


async def _campaign(n: int) -> tuple[int, set[str]]:
    async with (
        SmscSimulator() as smsc,
        SmppClient.from_url(f"{smsc.url}?window=16") as client,
        Dispatcher([client]) as dispatcher,
    ):
        messages = [
            Message(to=f"86138{i:08d}", kind=ChannelKind.SMS, content=Text(body=f"offer {i}"))
            for i in range(n)
        ]
        sent = sum([isinstance(o, Sent) async for o in dispatcher.send_many(messages)])
        delivered: set[str] = set()
        while len(delivered) < n:
            event = await dispatcher.next_event(10)
            if isinstance(event, DeliveryReceipt) and event.state is DeliveryState.DELIVERED:
                assert event.message_id is not None
                delivered.add(event.message_id)
        assert delivered == {m.id for m in messages}
        return sent, delivered


def test_client_and_simulator_run_on_uvloop() -> None:
    sent, delivered = uvloop.run(_campaign(200))
    assert sent == 200 and len(delivered) == 200
