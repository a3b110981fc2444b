"""A response-driven campaign, as operators ran them: an SMS offer ("reply 88 to subscribe"), replies
counted leniently (full-width "８８", stray spaces and case all count, as the 2009 pilot learned the
hard way), opt-out replies honoured at once, then a second wave by WAP push to those who did not
answer. Everything runs against the embedded SMSC and PPG simulators, whose subscribers reply.
"""

import asyncio
import logging
from collections import Counter

import structlog

from channels import (
    Channel,
    ChannelKind,
    DeliveryReceipt,
    Dispatcher,
    InboundMessage,
    KeywordMatcher,
    Message,
    Rejected,
    Sent,
    Text,
    WapPush,
)
from channels.smpp.client import SmppClient
from channels.wap.client import PapClient
from simulators.ppg import PpgSimulator
from simulators.smsc import SmscScenario, SmscSimulator
from throttle import OptOutPolicy, default_pipeline

SUBSCRIBERS = [f"86138{i:08d}" for i in range(400)]
OFFER = "10 GB for 10 yuan a month: reply 88 to subscribe, TD to stop these messages."
REPLIES = {"88": 0.45, "８８": 0.25, " 88 ": 0.1, "88 yes please": 0.05, "TD": 0.1, "what?": 0.05}


async def collect_replies(
    dispatcher: Dispatcher, optout: OptOutPolicy, responders: set[str], quiet: float
) -> Counter[str]:
    """Read events until none has come for ``quiet`` seconds; count replies by meaning."""
    subscribe, seen = KeywordMatcher(["88"]), Counter[str]()
    while True:
        try:
            event = await dispatcher.next_event(timeout=quiet)
        except TimeoutError:
            return seen
        if isinstance(event, InboundMessage):
            if await optout.observe(event):
                seen["opt-out"] += 1
            elif subscribe.match(event.text):
                seen["subscribe"] += 1
                seen["subscribe (full-width)"] += not event.text.isascii()
                responders.add(event.sender)
            else:
                seen["other"] += 1
        elif isinstance(event, DeliveryReceipt) and event.final:
            seen[f"receipt {event.state.value}"] += 1


async def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    smsc_scenario = SmscScenario(seed=2009, reply_rate=0.3, replies=REPLIES, reply_delay=0.2)
    pipeline = default_pipeline()  # validate, opt-out, dedup (memory store)
    optout = pipeline.stage(OptOutPolicy)
    responders: set[str] = set()
    async with SmscSimulator(scenario=smsc_scenario) as smsc, PpgSimulator() as ppg:
        sms = SmppClient.from_url(smsc.url + "?window=32")
        wap = PapClient.from_url(ppg.url + "?notify=127.0.0.1:0")  # result notifications as receipts
        channels: list[Channel] = [sms, wap]
        async with Dispatcher(channels, policies=[pipeline]) as dispatcher:
            wave1 = [Message(to=n, kind=ChannelKind.SMS, content=Text(body=OFFER), sender="10086",
                             campaign_id="offer-1", id=f"offer-1-{n}") for n in SUBSCRIBERS]
            sent1 = [o async for o in dispatcher.send_many(wave1)]
            seen = await collect_replies(dispatcher, optout, responders, quiet=1.0)
            silent = [n for n in SUBSCRIBERS if n not in responders]
            push = WapPush(href="http://wap.example.cn/offer/10gb", text="Last chance: 10 GB for 10 yuan")
            wave2 = [Message(to=n, kind=ChannelKind.WAP_PUSH, content=push, campaign_id="offer-1-push",
                             id=f"offer-1-push-{n}") for n in silent]
            sent2 = [o async for o in dispatcher.send_many(wave2)]
            await collect_replies(dispatcher, optout, responders, quiet=0.5)
    opted_out = sum(isinstance(o, Rejected) and o.reason.startswith("opted_out") for o in sent2)
    print(f"wave 1: {sum(isinstance(o, Sent) for o in sent1)} SMS offers sent")
    for what in ("subscribe", "subscribe (full-width)", "opt-out", "other"):
        print(f"  replies, {what}: {seen[what]}")
    print(f"  subscribers: {len(responders)} ({len(responders) / len(SUBSCRIBERS):.1%})")
    print(f"wave 2: {sum(isinstance(o, Sent) for o in sent2)} WAP pushes to non-responders, "
          f"{opted_out} not sent (opted out)")
    print(f"PPG received {len(ppg.recorder)} pushes")
    assert len(ppg.recorder) == sum(isinstance(o, Sent) for o in sent2)
    assert opted_out == seen["opt-out"] > 0 and seen["subscribe (full-width)"] > 0


asyncio.run(main())
