"""Library use inside a campaign engine: one Dispatcher, the default policy pipeline, a bulk send,
receipts correlated to our message ids. Runs against the embedded SMSC simulator."""

import asyncio

from channels import ChannelKind, DeliveryReceipt, Dispatcher, Message, Sent, Text
from channels.smpp.client import SmppClient
from simulators.smsc import SmscSimulator
from throttle import RateLimit, default_pipeline


async def main() -> None:
    async with SmscSimulator() as smsc, Dispatcher(
        [SmppClient.from_url(smsc.url + "?window=32")], policies=[default_pipeline(limits=[RateLimit(1000)])]
    ) as dispatcher:
        bills = (Message(to=f"86138{i:08d}", kind=ChannelKind.SMS, content=Text(body="Your bill is ready."),
                         campaign_id="bills-2026-01", id=f"bills-2026-01-{i}") for i in range(300))
        sent = sum([isinstance(o, Sent) async for o in dispatcher.send_many(bills)])
        receipts = [await dispatcher.next_event(timeout=10) for _ in range(sent)]
        delivered = sum(isinstance(r, DeliveryReceipt) and r.state == "delivered" for r in receipts)
    print(f"sent {sent}, delivered {delivered}")


asyncio.run(main())
