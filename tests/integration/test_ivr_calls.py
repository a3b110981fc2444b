"""IvrClient ↔ IvrSimulator over real sockets on 127.0.0.1: one scripted callee per number."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from channels import ChannelKind, DeliveryReceipt, DeliveryState, InboundMessage, Message
from channels.content import IvrScript, IvrStep, Prompt
from channels.errors import (
    AuthenticationError,
    ChannelClosed,
    ContentRejected,
    InvalidRecipient,
    OutcomeUnknown,
    SendRejected,
)
from channels.ivr import IvrClient
from simulators.ivr import IvrSimulator
from simulators.ivr_model import ANSWER, BUSY, NO_ANSWER, Callee, IvrScenario

OFFER = IvrScript(
    steps=(
        IvrStep(
            name="offer", prompts=(Prompt(sound="offer"),), branches={"1": "yes", "2": "no"}, timeout=0.5
        ),
        IvrStep(name="yes", prompts=(Prompt(sound="thanks"),), result="accepted"),
        IvrStep(name="no", prompts=(Prompt(tts="Goodbye"),), result="declined"),
    ),
    ring_timeout=5.0,
)

CALLEES = {
    "100": Callee(outcome=ANSWER, ring_time=1.0, digits=("1",), digit_delay=1.0),
    "200": Callee(outcome=BUSY, cause=17),
    "300": Callee(outcome=NO_ANSWER, cause=19),
    "400": Callee(outcome=ANSWER, ring_time=1.0, hangup_in_prompt=1.0),
    # a long prompt, a digit 4 s into it and another one at the next prompt heard
    "500": Callee(outcome=ANSWER, ring_time=1.0, digits=("1", "1"), digit_delay=4.0),
    "600": Callee(outcome=ANSWER, ring_time=1.0, hangup_after=4.0),
    "700": Callee(outcome=ANSWER, ring_time=1.0, hangup_after=500.0),
    "900": Callee(outcome=BUSY, cause=17, setup_time=2.0),
}
SPEED = 20.0


@pytest.fixture
async def sim() -> AsyncIterator[IvrSimulator]:
    scenario = IvrScenario(seed=1, callees=CALLEES, prompt_seconds=3.0, media_seconds={"sound:long": 12.0})
    async with IvrSimulator(scenario=scenario, speed=SPEED) as s:
        yield s


@pytest.fixture
async def client(sim: IvrSimulator) -> AsyncIterator[IvrClient]:
    async with IvrClient.from_url(sim.url, reconnect_initial=0.02, reconnect_max=0.1) as c:
        yield c


def call(to: str, script: IvrScript = OFFER, **kw: Any) -> Message:
    return Message(to=to, kind=ChannelKind.IVR, content=script, **kw)


async def outcomes(
    client: IvrClient, ids: set[str], timeout: float = 10.0
) -> tuple[dict[str, DeliveryReceipt], list[InboundMessage]]:
    receipts: dict[str, DeliveryReceipt] = {}
    replies: list[InboundMessage] = []
    async with asyncio.timeout(timeout):
        async for event in client.events():
            if isinstance(event, DeliveryReceipt):
                assert event.message_id is not None and event.message_id not in receipts
                receipts[event.message_id] = event
            else:
                replies.append(event)
            if ids <= receipts.keys():
                break
    return receipts, replies


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll the simulator's state (a test helper; timing itself is never asserted this way)."""
    for _ in range(int(timeout / 0.01)):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise TimeoutError("condition not reached")


async def test_answered_and_pressed_one(sim: IvrSimulator, client: IvrClient) -> None:
    msg = call("+100", campaign_id="camp-7", sender="4000")
    result = await client.send(msg)
    assert result.remote_ids == (msg.id,) and result.channel is ChannelKind.IVR
    receipts, replies = await outcomes(client, {msg.id})
    r = receipts[msg.id]
    assert (r.state, r.remote_id, r.error_code, r.gateway) == (DeliveryState.DELIVERED, msg.id, "16", "ivr")
    assert {k: r.detail[k] for k in ("status", "answered", "digits", "result", "answered_by", "cause")} == {
        "status": "completed",
        "answered": True,
        "digits": "1",
        "result": "accepted",
        "answered_by": "human",
        "cause": 16,
    }
    assert r.detail["duration"] > 0  # simulated seconds, from the gateway's timestamps
    (reply,) = replies
    assert (reply.text, reply.in_reply_to, reply.sender, reply.recipient) == ("1", msg.id, "+100", "4000")
    (rec,) = sim.recorder.find(channel_id=msg.id)
    assert (rec["digits"], rec["prompts"], rec["hangup_by"], rec["args"]) == (
        "1",
        ["sound:offer", "sound:thanks"],
        "app",
        ["camp-7"],
    )
    assert (rec["caller_id"], rec["endpoint"]) == ("4000", "PJSIP/100@sim")


@pytest.mark.parametrize(
    ("number", "state", "status", "cause"),
    [("200", DeliveryState.UNDELIVERABLE, "busy", 17), ("300", DeliveryState.EXPIRED, "no-answer", 19)],
)
async def test_busy_and_no_answer(
    sim: IvrSimulator, client: IvrClient, number: str, state: DeliveryState, status: str, cause: int
) -> None:
    msg = call(number)
    await client.send(msg)
    receipts, replies = await outcomes(client, {msg.id})
    r = receipts[msg.id]
    assert (r.state, r.detail["status"], r.detail["cause"], r.detail["answered"]) == (
        state,
        status,
        cause,
        False,
    )
    assert replies == []
    assert sim.recorder.find(channel_id=msg.id)[0]["prompts"] == []


async def test_callee_hangs_up_mid_prompt(sim: IvrSimulator, client: IvrClient) -> None:
    msg = call("400")
    await client.send(msg)
    receipts, _ = await outcomes(client, {msg.id})
    r = receipts[msg.id]
    assert (r.state, r.detail["status"], r.detail["result"], r.detail["digits"]) == (
        DeliveryState.DELIVERED,
        "completed",
        None,
        "",
    )
    (rec,) = sim.recorder.find(channel_id=msg.id)
    assert (rec["hangup_by"], rec["prompts"]) == ("callee", ["sound:offer"])


LONG = IvrScript(
    steps=(
        IvrStep(name="offer", prompts=(Prompt(sound="long"),), branches={"1": "yes"}, timeout=1.0),
        IvrStep(name="yes", result="accepted"),
    )
)


async def test_websocket_dropped_mid_prompt_is_resynchronised(sim: IvrSimulator, client: IvrClient) -> None:
    msg = call("500", LONG)
    await client.send(msg)
    await until(lambda: msg.id in sim.calls and sim.calls[msg.id].playing is not None)
    # the 12 s prompt is playing; the callee's "1" at 4 s falls into the gap and is lost
    await sim.drop_events(refuse_for=6.0 / SPEED)
    receipts, replies = await outcomes(client, {msg.id})
    r = receipts[msg.id]
    assert client.reconnects == 1
    # resync found the channel up with its prompt's end possibly lost: the prompt is played again
    # and the callee's second "1" is heard
    assert (r.detail["status"], r.detail["digits"], r.detail["result"]) == ("completed", "1", "accepted")
    assert [m.text for m in replies] == ["1"]
    (rec,) = sim.recorder.find(channel_id=msg.id)
    assert rec["prompts"] == ["sound:long", "sound:long"] and rec["digits"] == "11"


async def test_websocket_dropped_and_call_ended_in_the_gap(sim: IvrSimulator, client: IvrClient) -> None:
    msg = call("600", LONG)
    await client.send(msg)
    await until(lambda: msg.id in sim.calls and sim.calls[msg.id].in_stasis)
    await sim.drop_events(refuse_for=8.0 / SPEED)  # the callee hangs up 4 s after answering
    receipts, _ = await outcomes(client, {msg.id})
    r = receipts[msg.id]
    assert (r.detail["status"], r.detail["observed"], r.detail["reason"]) == ("completed", False, "lost")
    assert sim.recorder.find(channel_id=msg.id)[0]["hangup_by"] == "callee"


async def test_close_gives_every_call_in_progress_an_outcome(sim: IvrSimulator) -> None:
    client = IvrClient.from_url(sim.url)
    await client.connect()
    up, ringing = call("700", LONG), call("300")
    for m in (up, ringing):
        await client.send(m)
    await until(lambda: up.id in sim.calls and sim.calls[up.id].playing is not None)
    await client.aclose()
    events = [e async for e in client.events()]
    states = {
        e.message_id: (e.detail["status"], e.detail["reason"])
        for e in events
        if isinstance(e, DeliveryReceipt)
    }
    assert states == {up.id: ("completed", "closed"), ringing.id: ("canceled", "closed")}
    await until(lambda: not sim.calls)  # and the gateway's channels were hung up
    assert {r["hangup_by"] for r in sim.recorder} == {"app"}
    with pytest.raises(ChannelClosed):
        await client.send(call("100"))


async def test_refusals(sim: IvrSimulator, client: IvrClient) -> None:
    with pytest.raises(InvalidRecipient, match=r"Message\.to"):
        await client.send(call("12ab"))
    with pytest.raises(ContentRejected, match=r"IvrScript\.steps"):
        await client.send(call("100", IvrScript(steps=())))
    msg = call("700", LONG)
    await client.send(msg)
    with pytest.raises(SendRejected, match="already in progress"):
        await client.send(msg)
    async with IvrClient.from_url(sim.url, endpoint="Bad{number}") as bad:
        with pytest.raises(SendRejected, match="HTTP 400") as info:
            await bad.send(call("100"))
        assert info.value.code == 400


async def test_wrong_password_is_an_authentication_error(sim: IvrSimulator) -> None:
    client = IvrClient.from_url(sim.url, password="wrong")
    try:
        async with asyncio.timeout(3):
            with pytest.raises(AuthenticationError):
                await client.send(call("100"))
    finally:
        await client.aclose()


async def test_answering_machine_runs_the_on_machine_step() -> None:
    script = IvrScript(
        steps=(
            IvrStep(name="offer", prompts=(Prompt(sound="offer"),), branches={"1": "yes"}, timeout=0.5),
            IvrStep(name="yes", result="accepted"),
            IvrStep(name="vm", prompts=(Prompt(sound="voicemail"),), result="voicemail"),
        ),
        on_machine="vm",
    )
    scenario = IvrScenario(
        callees={"800": Callee(outcome=ANSWER, ring_time=1.0, machine=True, digits=("1",))}
    )
    async with IvrSimulator(scenario=scenario, speed=SPEED) as sim, IvrClient.from_url(sim.url) as client:
        msg = call("800", script)
        await client.send(msg)
        receipts, replies = await outcomes(client, {msg.id})
    r = receipts[msg.id]
    assert (r.detail["answered_by"], r.detail["result"], r.detail["digits"]) == (
        "machine_start",
        "voicemail",
        "",
    )
    assert replies == [] and sim.recorder.records[0]["prompts"] == ["sound:voicemail"]


async def test_gateway_gone_mid_call_still_gives_every_call_an_outcome() -> None:
    scenario = IvrScenario(callees=CALLEES, media_seconds={"sound:long": 1000.0})
    sim = IvrSimulator(scenario=scenario, speed=SPEED)
    await sim.start()
    client = IvrClient.from_url(sim.url, events_grace=0.5, hangup_grace=0.3, answer_grace=0.3)
    try:
        await client.connect()
        up, ringing = call("700", LONG), call("300", IvrScript(steps=LONG.steps, ring_timeout=300.0))
        for m in (up, ringing):
            await client.send(m)
        await until(lambda: up.id in sim.calls and sim.calls[up.id].playing is not None)
        await sim.aclose()  # the gateway dies: no events, no REST, no reconnect
        receipts, _ = await outcomes(client, {up.id, ringing.id}, timeout=10)
    finally:
        await client.aclose()
    assert (receipts[up.id].detail["status"], receipts[up.id].detail["reason"]) == (
        "completed",
        "events-lost",
    )
    assert receipts[ringing.id].detail["status"] == "canceled"
    assert {r.detail["observed"] for r in receipts.values()} == {False}


async def test_an_internal_error_still_reports_the_call(
    sim: IvrSimulator, client: IvrClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: object, event: object, now: float) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr("channels.ivr.session.CallSession.handle_event", broken)
    msg = call("700", LONG)
    await client.send(msg)
    receipts, _ = await outcomes(client, {msg.id})
    assert receipts[msg.id].detail["reason"] == "internal-error"
    await until(lambda: not sim.calls)  # and the call was hung up at the gateway


async def test_unanswered_originate_is_adopted_when_the_call_exists(sim: IvrSimulator) -> None:
    sim.originate_latency = 0.5
    async with IvrClient.from_url(sim.url, request_timeout=0.2) as client:
        msg = call("100")
        result = await client.send(msg)  # timed out, but GET /channels/{id} found the call
        assert result.remote_ids == (msg.id,)
        receipts, _ = await outcomes(client, {msg.id})
        assert receipts[msg.id].detail["status"] == "completed"
        # busy after 100 ms, while the events WebSocket is down; the originate answer never comes:
        # no event, no channel left to find, so the client cannot know and says so
        pending = asyncio.create_task(client.send(call("900")))
        await until(lambda: sim.originated == 2)
        await sim.drop_events(refuse_for=1.0)
        with pytest.raises(OutcomeUnknown):
            await pending
        assert sim.recorder.records[-1]["outcome"] == "busy"
