"""UssdChannel against the USSD gateway simulator over real SMPP sockets on 127.0.0.1 (issue 8)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from channels import (
    ChannelKind,
    ContentRejected,
    DeliveryReceipt,
    DeliveryState,
    Dispatcher,
    Event,
    InboundMessage,
    Message,
    Rejected,
    Sent,
    Text,
    UssdMenu,
    UssdScreen,
)
from channels.smpp.client import SmppClient
from channels.ussd import SubscriberBusy, UssdChannel, UssdRequest
from simulators.ussd import UssdGatewaySimulator, UssdScenario

MENU = UssdMenu(
    screens=(
        UssdScreen(
            name="main",
            text="1. Subscribe 10 yuan/month\n2. Details\n0. Exit",
            options={"1": "plan", "2": "details", "0": "=exit"},
        ),
        UssdScreen(name="plan", text="1. Monthly\n2. Yearly", options={"1": "confirm", "2": "confirm"}),
        UssdScreen(
            name="confirm", text="1. Confirm\n2. Cancel", options={"1": "=subscribed", "2": "=cancel"}
        ),
        UssdScreen(name="details", text="10 yuan per month. Dial *123# to join.", result="details"),
    ),
    end_text="Thank you",
)
A = "8613800138000"
B = "8613800138001"


def ussd(to: str, menu: UssdMenu = MENU, sender: str = "*123#") -> Message:
    return Message(to=to, kind=ChannelKind.USSD, content=menu, sender=sender, campaign_id="c8")


async def until_receipt(source: Any, timeout: float = 5.0) -> tuple[list[InboundMessage], DeliveryReceipt]:
    """Events from a Dispatcher (next_event) or a channel's events() up to the first receipt."""
    inbound: list[InboundMessage] = []
    while True:
        event: Event = await source.next_event(timeout)
        if isinstance(event, DeliveryReceipt):
            return inbound, event
        inbound.append(event)


class Events:
    """``next_event(timeout)`` over a channel's events(), like the Dispatcher's."""

    def __init__(self, channel: UssdChannel) -> None:
        self._it = channel.events().__aiter__()

    async def next_event(self, timeout: float) -> Event:
        return await asyncio.wait_for(self._it.__anext__(), timeout)


async def test_three_level_menu_completed_through_the_dispatcher() -> None:
    scenario = UssdScenario(scripts={A: ["1", "2", "1"]}, answer_delay=(0.01, 0.02))
    async with UssdGatewaySimulator(scenario=scenario) as gw, Dispatcher([UssdChannel.from_url(gw.url)]) as d:
        msg = ussd(A)
        outcome = await d.send(msg)
        assert isinstance(outcome, Sent) and outcome.result.channel is ChannelKind.USSD
        answers, receipt = await until_receipt(d)
    assert [a.text for a in answers] == ["1", "2", "1"]
    assert all(a.in_reply_to == msg.id and a.sender == A and a.recipient == "*123#" for a in answers)
    assert [a.detail["screen"] for a in answers] == ["main", "plan", "confirm"]
    assert receipt.message_id == msg.id and receipt.state is DeliveryState.DELIVERED
    assert receipt.remote_id == outcome.result.remote_ids[0]
    detail = receipt.detail
    assert detail["outcome"] == "completed" and detail["choice"] == "1" and detail["result"] == "subscribed"
    assert detail["path"] == ("main", "plan", "confirm") and detail["initiated_by"] == "network"
    (record,) = gw.recorder.records
    assert record["msisdn"] == A and record["outcome"] == "completed" and record["ended_by"] == "application"
    assert record["screens"] == [s.text for s in MENU.screens[:3]] + ["Thank you"]
    assert record["answers"] == ["1", "2", "1"]
    assert [s["op"] for s in record["steps"]] == [2, 18, 2, 18, 2, 18, 17]
    assert record["service"] == "*123#"


async def test_subscriber_abort() -> None:
    scenario = UssdScenario(scripts={A: ["1", "!abort"]}, answer_delay=(0.01, 0.01))
    async with UssdGatewaySimulator(scenario=scenario) as gw, UssdChannel.from_url(gw.url) as ch:
        msg = ussd(A)
        await ch.send(msg)
        answers, receipt = await until_receipt(Events(ch))
    assert [a.text for a in answers] == ["1"]
    assert receipt.state is DeliveryState.UNDELIVERABLE and receipt.message_id == msg.id
    assert receipt.detail["outcome"] == "aborted" and receipt.detail["path"] == ("main", "plan")
    assert gw.recorder.records[0]["outcome"] == "aborted"
    assert gw.recorder.records[0]["ended_by"] == "handset"


async def test_per_screen_timeout_releases_the_dialogue() -> None:
    scenario = UssdScenario(scripts={A: ["1", "!timeout"]}, answer_delay=(0.01, 0.01))
    async with (
        UssdGatewaySimulator(scenario=scenario) as gw,
        UssdChannel.from_url(gw.url + "&screen_timeout=0.3") as ch,
    ):
        started = time.monotonic()
        await ch.send(ussd(A))
        _, receipt = await until_receipt(Events(ch))
        elapsed = time.monotonic() - started
        await gw.wait_dialogues(1, 5)  # the release reached the gateway
    assert receipt.state is DeliveryState.EXPIRED and receipt.detail["outcome"] == "timeout"
    assert receipt.detail["reason"] == "no answer to screen 'plan'"
    assert 0.3 <= elapsed < 5.0
    (record,) = gw.recorder.records
    assert record["outcome"] == "timeout" and record["ended_by"] == "application"
    assert record["steps"][-1]["op"] == 17 and record["steps"][-1]["text"] == ""


async def test_second_push_is_refused_while_a_session_is_open() -> None:
    scenario = UssdScenario(answer_delay=(0.3, 0.3), scripts={A: ["0"]})
    async with UssdGatewaySimulator(scenario=scenario) as gw, Dispatcher([UssdChannel.from_url(gw.url)]) as d:
        first = ussd(A)
        assert isinstance(await d.send(first), Sent)
        second = await d.send(ussd(A, UssdMenu.notification("Second push")))
        assert isinstance(second, Rejected) and isinstance(second.error, SubscriberBusy)
        _, receipt = await until_receipt(d)
        assert receipt.message_id == first.id
        assert isinstance(await d.send(ussd(A, UssdMenu.notification("Later"))), Sent)
        _, later = await until_receipt(d)
        assert later.detail["outcome"] == "notified"
    assert gw.collisions == 0
    assert [r["outcome"] for r in gw.recorder.records] == ["completed", "notified"]


async def test_second_push_is_queued_never_interleaved() -> None:
    scenario = UssdScenario(answer_delay=(0.05, 0.05), scripts={A: ["1", "1", "2"]})
    async with (
        UssdGatewaySimulator(scenario=scenario) as gw,
        UssdChannel.from_url(gw.url + "&on_busy=queue") as ch,
    ):
        events = Events(ch)
        first, second = ussd(A), ussd(A, UssdMenu.notification("Welcome to the monthly plan"))
        results = await asyncio.gather(ch.send(first), ch.send(second))
        assert [r.message_id for r in results] == [first.id, second.id]
        receipts: list[DeliveryReceipt] = []
        while len(receipts) < 2:
            event = await events.next_event(5)
            if isinstance(event, DeliveryReceipt):
                receipts.append(event)
    assert [r.message_id for r in receipts] == [first.id, second.id]
    assert [r.detail["result"] for r in receipts] == ["cancel", "notice"]
    assert gw.collisions == 0
    one, two = gw.recorder.records
    assert one["ended_at"] <= two["started_at"]  # the second dialogue began after the first ended


async def test_queue_timeout_gives_up() -> None:
    scenario = UssdScenario(scripts={A: ["!timeout"]})
    async with (
        UssdGatewaySimulator(scenario=scenario) as gw,
        UssdChannel.from_url(gw.url + "&on_busy=queue&queue_timeout=0.1") as ch,
    ):
        await ch.send(ussd(A))
        with pytest.raises(SubscriberBusy, match=r"still in a USSD session after 0\.1s"):
            await ch.send(ussd(A))


async def test_user_initiated_session_on_a_service_code() -> None:
    seen: list[UssdRequest] = []

    async def handler(request: UssdRequest) -> UssdMenu:
        seen.append(request)
        await asyncio.sleep(0)
        return UssdMenu(
            screens=(
                UssdScreen(name="top", text="1. Balance\n2. Bundles", options={"1": "bal", "2": "=bundles"}),
                UssdScreen(name="bal", text=f"Balance for {request.msisdn[-4:]}: 12.50", result="balance"),
            )
        )

    scenario = UssdScenario(scripts={B: ["1"]}, answer_delay=(0.01, 0.01))
    async with UssdGatewaySimulator(scenario=scenario) as gw, UssdChannel.from_url(gw.url) as ch:
        ch.on_service_code("*123#", handler)
        events = Events(ch)
        transcript = await gw.dial(B, "*123*7#", timeout=5)
        inbound, receipt = await until_receipt(events)
    assert transcript["outcome"] == "completed" and transcript["initiated_by"] == "user"
    assert transcript["screens"] == ["1. Balance\n2. Bundles", "Balance for 8001: 12.50"]
    assert [s["op"] for s in transcript["steps"]] == [1, 2, 18, 17]
    (request,) = seen
    assert (request.msisdn, request.service_code, request.parameters) == (B, "*123#", ("7",))
    begin, answer = inbound
    assert begin.detail["event"] == "begin" and begin.text == "*123*7#" and begin.recipient == "*123#"
    assert answer.text == "1" and answer.in_reply_to == request.session_id == begin.in_reply_to
    assert receipt.message_id == request.session_id and receipt.state is DeliveryState.DELIVERED
    assert receipt.detail["initiated_by"] == "user" and receipt.detail["service_code"] == "*123#"
    assert receipt.detail["result"] == "balance"


async def test_unknown_service_code_is_released() -> None:
    async with UssdGatewaySimulator() as gw, UssdChannel.from_url(gw.url) as ch:
        ch.on_service_code("*100#", UssdMenu.notification("Balance: 1.00"))
        transcript = await gw.dial(A, "*555#", timeout=5)
        inbound, receipt = await until_receipt(Events(ch))
    assert transcript["outcome"] == "released"
    assert inbound[0].detail["service_code"] is None
    assert receipt.state is DeliveryState.UNDELIVERABLE and receipt.detail["outcome"] == "failed"


async def test_a_failing_handler_releases_the_dialogue() -> None:
    def handler(request: UssdRequest) -> UssdMenu:
        return UssdMenu.notification("x" * 200)  # too long for USSD

    async with UssdGatewaySimulator() as gw, UssdChannel.from_url(gw.url) as ch:
        ch.on_service_code("*100#", handler)
        transcript = await gw.dial(A, "*100#", timeout=5)
        _, receipt = await until_receipt(Events(ch))
    assert transcript["outcome"] == "released" and transcript["steps"][-1]["text"] == ""
    assert receipt.detail["outcome"] == "failed"
    assert "handler failed" in receipt.detail["reason"] and "200 GSM-7" in receipt.detail["reason"]


async def test_chinese_menu_in_ucs2_and_the_limit_checked_before_sending() -> None:
    menu = UssdMenu(
        screens=(
            UssdScreen(
                name="main", text="1. 订阅 每月10元\n2. 详情\n0. 退出", options={"1": "=订阅", "0": "=退"}
            ),
        ),
        end_text="谢谢",
    )
    scenario = UssdScenario(scripts={A: ["1"]}, answer_delay=(0.01, 0.01))
    async with UssdGatewaySimulator(scenario=scenario) as gw, UssdChannel.from_url(gw.url) as ch:
        msg = ussd(A, menu)
        await ch.send(msg)
        _, receipt = await until_receipt(Events(ch))
        too_long = UssdMenu.notification("订" * 81)
        with pytest.raises(ContentRejected, match="81 UCS-2 characters; USSD allows 80"):
            await ch.send(ussd(B, too_long))
    assert receipt.detail["result"] == "订阅"
    (record,) = gw.recorder.records
    assert record["screens"] == ["1. 订阅 每月10元\n2. 详情\n0. 退出", "谢谢"]
    assert {s["data_coding"] for s in record["steps"] if s["dir"] == "mt"} == {8}
    assert gw.submits == 2  # the over-long screen never left the client


async def test_gateway_refuses_an_over_long_screen_too() -> None:
    from channels.smpp import pdu as codec
    from channels.smpp.constants import CommandId, Tag

    async with UssdGatewaySimulator() as gw, SmppClient.from_url(gw.smpp_url) as sc:
        pdu = codec.make(
            CommandId.SUBMIT_SM,
            tlvs={Tag.USSD_SERVICE_OP: b"\x02", Tag.ITS_SESSION_INFO: b"\x01\x00"},
            service_type="USSD",
            destination_addr=A,
            short_message=b"x" * 183,
        )
        with pytest.raises(ContentRejected, match="ESME_RINVMSGLEN"):
            await sc.request(pdu)
    assert gw.recorder.records == []


async def test_notification_is_confirmed() -> None:
    async with UssdGatewaySimulator() as gw, UssdChannel.from_url(gw.url) as ch:
        msg = ussd(A, UssdMenu.notification("Your bonus: 100 MB"))
        await ch.send(msg)
        inbound, receipt = await until_receipt(Events(ch))
    assert inbound == []
    assert receipt.state is DeliveryState.DELIVERED and receipt.detail["outcome"] == "notified"
    assert [s["op"] for s in gw.recorder.records[0]["steps"]] == [3, 19]


@pytest.mark.parametrize("profile", ["6d", "mica"])
async def test_vendor_profiles(profile: str) -> None:
    scenario = UssdScenario(profile=profile, scripts={A: ["2"], B: ["0"]}, answer_delay=(0.01, 0.01))
    async with UssdGatewaySimulator(scenario=scenario) as gw, UssdChannel.from_url(gw.url) as ch:
        assert ch.profile.name == profile
        events = Events(ch)
        await ch.send(ussd(A))
        _, receipt = await until_receipt(events)
        ch.on_service_code("*123#", MENU)
        transcript = await gw.dial(B, "*123#", timeout=5)
        _, user_receipt = await until_receipt(events)
    assert receipt.detail["result"] == "details" and receipt.state is DeliveryState.DELIVERED
    assert gw.recorder.records[0]["steps"][0]["op"] == 0x02
    assert gw.recorder.records[0]["steps"][-1]["op"] == 0x17  # the vendor's "17"
    assert transcript["outcome"] == "completed" and transcript["answers"] == ["0"]
    assert user_receipt.detail["initiated_by"] == "user" and user_receipt.detail["result"] == "exit"


async def test_shared_bind_carries_sms_and_ussd() -> None:
    scenario = UssdScenario(scripts={A: ["0"]}, answer_delay=(0.01, 0.01))
    async with UssdGatewaySimulator(scenario=scenario) as gw:
        client = SmppClient.from_url(gw.smpp_url)
        async with client, UssdChannel(client, name="ussd") as ch:
            sms_events = Events(ch)
            await ch.send(ussd(A))
            _, receipt = await until_receipt(sms_events)
            assert receipt.detail["result"] == "exit"
            sms = await client.send(Message(to=B, kind=ChannelKind.SMS, content=Text(body="hello")))
            sms_receipt = await asyncio.wait_for(client.events().__anext__(), 5)
            assert isinstance(sms_receipt, DeliveryReceipt) and sms_receipt.remote_id == sms.remote_ids[0]
        assert client.deliver_hook is None  # handed back


async def test_close_releases_open_sessions() -> None:
    scenario = UssdScenario(scripts={A: ["!timeout"]})
    async with UssdGatewaySimulator(scenario=scenario) as gw:
        ch = UssdChannel.from_url(gw.url)
        await ch.connect()
        await ch.send(ussd(A))
        events = Events(ch)
        await ch.aclose()
        _, receipt = await until_receipt(events)
        await gw.wait_dialogues(1, 5)
    assert receipt.state is DeliveryState.UNKNOWN and receipt.detail["outcome"] == "closed"
    assert gw.recorder.records[0]["outcome"] == "timeout"  # released by the application


async def test_thousand_concurrent_sessions_with_correct_transcripts() -> None:
    scenario = UssdScenario(
        seed=8, answer_delay=(0.0, 0.05), choices={"1": 0.6, "2": 0.3, "0": 0.1}, abort_rate=0.05
    )
    numbers = [f"86139{i:08d}" for i in range(1000)]
    async with (
        UssdGatewaySimulator(scenario=scenario) as gw,
        Dispatcher([UssdChannel.from_url(gw.url + "&window=64")]) as d,
    ):
        started = time.perf_counter()
        outcomes = await d.send_all([ussd(n) for n in numbers], concurrency=1000)
        assert all(isinstance(o, Sent) for o in outcomes)
        by_id = {o.message.id: o.message.to for o in outcomes}
        receipts: dict[str, DeliveryReceipt] = {}
        answers: dict[str, list[str]] = {}
        while len(receipts) < 1000:
            event = await d.next_event(10)
            if isinstance(event, DeliveryReceipt):
                assert event.message_id is not None
                receipts[by_id[event.message_id]] = event
            else:
                answers.setdefault(event.sender, []).append(event.text)
        rate = 1000 / (time.perf_counter() - started)
    print(f"\n1000 concurrent USSD sessions: {rate:.0f} sessions/s")
    records = {r["msisdn"]: r for r in gw.recorder.records}
    assert set(records) == set(numbers) == set(receipts) and gw.collisions == 0
    screens = {s.name: s.text for s in MENU.screens}
    for number in numbers:
        receipt, record = receipts[number], records[number]
        assert list(receipt.detail["answers"]) == record["answers"] == answers.get(number, [])
        assert record["outcome"] == receipt.detail["outcome"]
        shown = [screens[name] for name in receipt.detail["path"]]
        if receipt.detail["outcome"] == "completed" and receipt.detail["result"] != "details":
            shown.append("Thank you")
        assert record["screens"] == shown
    outcomes_seen = [r.detail["outcome"] for r in receipts.values()]
    counts = {o: outcomes_seen.count(o) for o in ("completed", "aborted")}
    assert counts["completed"] + counts["aborted"] == 1000 and 50 < counts["aborted"] < 250
