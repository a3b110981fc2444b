"""Outbound calls through ``channels.Dispatcher``: outcomes as correlated receipts, digits as replies."""

from __future__ import annotations

from collections import Counter

from channels import (
    ChannelKind,
    DeliveryReceipt,
    DeliveryState,
    Dispatcher,
    InboundMessage,
    Message,
    Rejected,
    Sent,
)
from channels.content import IvrScript, IvrStep, Prompt
from channels.ivr import IvrClient
from simulators.ivr import IvrSimulator
from simulators.ivr_model import ANSWER, BUSY, Callee, IvrScenario

OFFER = IvrScript(
    steps=(
        IvrStep(name="offer", prompts=(Prompt(sound="offer"),), branches={"1": "yes"}, timeout=0.5),
        IvrStep(name="yes", prompts=(Prompt(sound="thanks"),), result="accepted"),
    )
)
CALLEES = {
    "8613800000001": Callee(outcome=ANSWER, ring_time=1.0, digits=("1",), digit_delay=1.0),
    "8613800000002": Callee(outcome=BUSY, cause=17),
}


async def test_call_outcome_and_digits_come_back_through_the_dispatcher() -> None:
    scenario = IvrScenario(seed=1, callees=CALLEES)
    async with (
        IvrSimulator(scenario=scenario, speed=20.0) as sim,
        Dispatcher([IvrClient.from_url(sim.url)]) as dispatcher,
    ):
        msg = Message(to="+8613800000001", kind=ChannelKind.IVR, content=OFFER, campaign_id="rbt")
        sent = await dispatcher.send(msg)
        assert isinstance(sent, Sent) and sent.result.remote_ids == (msg.id,)
        reply = await dispatcher.next_event(5)
        assert isinstance(reply, InboundMessage)
        assert (reply.text, reply.keyword, reply.in_reply_to, reply.channel) == (
            "1",
            "1",
            msg.id,
            ChannelKind.IVR,
        )
        receipt = await dispatcher.next_event(5)
        assert isinstance(receipt, DeliveryReceipt)
        assert (receipt.message_id, receipt.state, receipt.gateway) == (
            msg.id,
            DeliveryState.DELIVERED,
            "ivr",
        )
        assert (receipt.detail["status"], receipt.detail["digits"]) == ("completed", "1")
        assert dispatcher.tracker.store.get(msg.id) is None  # final: no longer tracked

        busy = Message(to="8613800000002", kind=ChannelKind.IVR, content=OFFER)
        assert isinstance(await dispatcher.send(busy), Sent)
        receipt = await dispatcher.next_event(5)
        assert isinstance(receipt, DeliveryReceipt)
        assert (receipt.message_id, receipt.state, receipt.detail["status"]) == (
            busy.id,
            DeliveryState.UNDELIVERABLE,
            "busy",
        )


async def test_send_many_and_a_gateway_refusal() -> None:
    async with IvrSimulator(scenario=IvrScenario(seed=9, max_channels=10), speed=500.0) as sim:
        client = IvrClient.from_url(sim.url, endpoint="Bad{number}")
        async with Dispatcher([client]) as dispatcher:
            refused = await dispatcher.send(Message(to="8613800000009", kind=ChannelKind.IVR, content=OFFER))
            assert isinstance(refused, Rejected) and "HTTP 400" in refused.reason

        async with Dispatcher([IvrClient.from_url(sim.url)]) as dispatcher:
            messages = [Message(to=f"86139{i:08d}", kind=ChannelKind.IVR, content=OFFER) for i in range(40)]
            outcomes = [o async for o in dispatcher.send_many(messages, concurrency=40)]
            assert all(isinstance(o, Sent) for o in outcomes)
            finals: dict[str, DeliveryReceipt] = {}
            while len(finals) < 40:
                event = await dispatcher.next_event(10)
                if isinstance(event, DeliveryReceipt):
                    assert event.message_id is not None and event.message_id not in finals
                    finals[event.message_id] = event
            assert set(finals) == {m.id for m in messages}
            assert Counter(r.detail["status"] for r in finals.values())["completed"] > 5
