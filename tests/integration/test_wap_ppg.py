"""PapClient against the PPG simulator and against a Kannel-shaped PPG, over real sockets on loopback."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from channels.content import WapPush, WapPushKind
from channels.dispatch import Dispatcher, RetrySettings
from channels.errors import (
    AuthenticationError,
    ContentRejected,
    InvalidRecipient,
    SendRejected,
    TransportError,
)
from channels.message import ChannelKind, Message
from channels.results import DeliveryReceipt, DeliveryState, Rejected, Sent
from channels.wap import pap
from channels.wap.client import PapClient
from simulators.ppg import PpgScenario, PpgSimulator

FIXTURES = Path(__file__).parent.parent / "fixtures" / "wap"
PUSH = WapPush(href="http://example.com/promo", text="Weekend offer", si_id="promo-1", action="signal-medium")
NO_RETRY = RetrySettings(attempts=1)


def push_message(to: str = "+8613800000000", content: WapPush = PUSH, id: str = "m-1") -> Message:
    return Message(to=to, kind=ChannelKind.WAP_PUSH, content=content, id=id)


@pytest.fixture
async def ppg() -> AsyncIterator[PpgSimulator]:
    async with PpgSimulator(username="pi", password="s3cret") as sim:
        yield sim


async def test_push_through_dispatcher_with_notification_receipt(ppg: PpgSimulator) -> None:
    client = PapClient.from_url(ppg.url + "?notify=127.0.0.1:0")
    async with Dispatcher([client], retry=NO_RETRY) as dispatcher:
        outcome = await dispatcher.send(push_message())
        assert isinstance(outcome, Sent)
        assert outcome.result.remote_ids == ("m-1@telco-channels",)
        receipt = await dispatcher.next_event(timeout=5)
    assert isinstance(receipt, DeliveryReceipt)
    assert (receipt.message_id, receipt.state, receipt.channel) == (
        "m-1",
        DeliveryState.DELIVERED,
        "wap_push",
    )
    [record] = ppg.recorder.records
    assert record["msisdn"] == "+8613800000000"
    assert (record["href"], record["text"], record["si_id"]) == (PUSH.href, PUSH.text, PUSH.si_id)
    assert record["content_type"] == "text/vnd.wap.si" and record["code"] == 1001
    assert record["address"] == "WAPPUSH=+8613800000000/TYPE=PLMN@127.0.0.1"
    assert ppg.stats()["notified"] == 1


async def test_undeliverable_notification_and_query_credentials() -> None:
    scenario = PpgScenario(outcomes={DeliveryState.UNDELIVERABLE: 1.0})
    async with PpgSimulator(scenario=scenario, username="pi", password="pw") as sim:
        url = f"pap+http://127.0.0.1:{sim.port}/pap?auth=query&notify=127.0.0.1:0&format=wbxml"
        async with PapClient.from_url(url, username="pi", password="pw") as client:
            sl = WapPush(href="https://www.example.net/app.jad", kind=WapPushKind.SL, action="execute-high")
            await client.send(push_message(content=sl, id="m-2"))
            receipt = await asyncio.wait_for(anext(aiter(client.events())), 5)
    assert isinstance(receipt, DeliveryReceipt)
    assert (receipt.remote_id, receipt.state, receipt.error_code) == (
        "m-2@telco-channels",
        DeliveryState.UNDELIVERABLE,
        "4000",
    )
    [record] = sim.recorder.records
    assert (record["content_type"], record["kind"], record["href"]) == (
        "application/vnd.wap.slc",
        "sl",
        sl.href,
    )


async def test_chinese_text_survives_pap(ppg: PpgSimulator) -> None:
    push = WapPush(href="http://example.cn/活动", text="周末优惠：点击领取 & <更多>")
    async with PapClient.from_url(ppg.url) as client:
        await client.send(push_message(content=push))
    assert ppg.recorder.records[0]["text"] == push.text
    assert ppg.recorder.records[0]["href"] == push.href


async def test_refusals_map_to_errors(ppg: PpgSimulator) -> None:
    async with PapClient.from_url(ppg.url) as client:
        await client.send(push_message(id="dup"))
        with pytest.raises(SendRejected) as info:
            await client.send(push_message(id="dup"))
        assert (info.value.code, info.value.name) == ("2007", "duplicate-push-id")
        with pytest.raises(InvalidRecipient):
            await client.send(push_message(to="not-a-number"))
        confirmed = PapClient.from_url(ppg.url + "?delivery_method=confirmed")
        async with confirmed:
            with pytest.raises(SendRejected) as info:
                await confirmed.send(push_message(id="c-1"))
        assert info.value.code == "3007"
    async with PapClient.from_url(ppg.url.replace("s3cret", "wrong")) as bad:
        with pytest.raises(AuthenticationError):
            await bad.send(push_message(id="auth"))
    assert [r["code"] for r in ppg.recorder.records] == [1001, 2007, 3007]


async def test_scenario_errors_through_dispatcher() -> None:
    scenario = PpgScenario(error_share=1.0, error_code=3006)
    async with PpgSimulator(scenario=scenario) as sim:
        dispatcher = Dispatcher([PapClient.from_url(sim.url)], retry=NO_RETRY)
        async with dispatcher:
            outcome = await dispatcher.send(push_message())
    assert isinstance(outcome, Rejected)
    assert isinstance(outcome.error, ContentRejected) and outcome.error.code == "3006"


Handler = Callable[[web.Request], Awaitable[web.Response]]


async def serve(handler: Handler) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_post("/wappush", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"pap+http://u:p@127.0.0.1:{runner.addresses[0][1]}/wappush"


async def test_kannel_shaped_ppg_202_with_result_in_xml() -> None:
    seen: list[pap.PushBody] = []
    template = (FIXTURES / "kannel_push_response.xml").read_bytes()

    async def kannel(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != "Basic dTpw":
            return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm=vm"wappush"'})
        body = pap.parse_push_body(request.headers["Content-Type"], await request.read())
        seen.append(body)
        message = pap.parse(body.control)
        assert isinstance(message, pap.PushMessage)
        if message.addresses[0].startswith("WAPPUSH=+999"):
            bad = b'<?xml version="1.0"?><pap><badmessage-response code="2000" desc="Bad"/></pap>'
            return web.Response(status=202, body=bad)
        answer = template.replace(b"push-0001@pi.example.com", message.push_id.encode())
        return web.Response(status=202, body=answer, content_type="application/xml")

    runner, url = await serve(kannel)
    try:
        async with PapClient.from_url(url, application_id="x-wap-application:wml.ua") as client:
            result = await client.send(push_message())
            assert result.remote_ids == ("m-1@telco-channels",)
            with pytest.raises(ContentRejected, match="2000"):
                await client.send(push_message(to="+999", id="m-9"))
        async with PapClient.from_url(url.replace("u:p@", "u:x@")) as wrong:
            with pytest.raises(AuthenticationError):
                await wrong.send(push_message(id="m-3"))
    finally:
        await runner.cleanup()
    assert seen[0].content_type == "text/vnd.wap.si"
    assert seen[0].content_headers == {"X-Wap-Application-Id": "x-wap-application:wml.ua"}
    control = pap.parse(seen[0].control)
    assert isinstance(control, pap.PushMessage)
    assert control.qos == pap.QualityOfService()  # priority medium, unconfirmed, GSM, SMS


async def test_unreachable_ppg_is_a_transport_error() -> None:
    async def never(request: web.Request) -> web.Response:
        raise AssertionError("not reached")

    runner, url = await serve(never)
    await runner.cleanup()  # nothing listens on that port any more
    async with PapClient.from_url(url, timeout=2) as client:
        with pytest.raises(TransportError) as info:
            await client.send(push_message())
    assert info.value.retriable


async def test_malformed_requests_get_pap_errors_not_crashes(ppg: PpgSimulator) -> None:
    url = f"http://127.0.0.1:{ppg.port}/pap"
    auth = {"Authorization": "Basic " + base64.b64encode(b"pi:s3cret").decode()}
    push_body, multipart = pap.build_push_body(b"<pap><push-message", b"<si/>", "text/vnd.wap.si")
    cases = [
        ({"Content-Type": "application/xml"}, b"<pap/>", 2000),
        ({"Content-Type": multipart}, push_body, 2000),
        ({"Content-Type": 'multipart/related; boundary="x"'}, b"\x00\xff garbage", 2000),
    ]
    async with aiohttp.ClientSession() as session:
        for headers, body, code in cases:
            async with session.post(url, data=body, headers={**headers, **auth}) as response:
                assert response.status == 202
                answer = pap.parse(await response.read())
            assert isinstance(answer, pap.BadMessageResponse) and answer.code == code
        async with session.post(url, data=b"", headers={"Content-Type": multipart}) as response:
            assert response.status == 401
            assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
        control = pap.render(pap.PushMessage(push_id="p@x", addresses=("WAPPUSH=+1555/TYPE=PLMN@h",)))
        body, multipart = pap.build_push_body(control, b"<si><indication", "text/vnd.wap.si")
        async with session.post(url, data=body, headers={"Content-Type": multipart, **auth}) as response:
            answer = pap.parse(await response.read())
        assert isinstance(answer, pap.PushResponse) and answer.code == 3006
    assert ppg.stats()["refused"] == 4


async def test_notification_listener_answers_bad_posts_with_400() -> None:
    async with PapClient.from_url("pap+http://127.0.0.1:9/pap?notify=127.0.0.1:0") as client:
        assert client.notify_url is not None
        async with aiohttp.ClientSession() as session:
            async with session.post(client.notify_url, data=b"<pap><push-response/></pap>") as response:
                assert response.status == 400
                answer = pap.parse(await response.read())
            assert isinstance(answer, pap.BadMessageResponse)
            note = pap.ResultNotification(push_id="z@x", address="", code=1000, message_state="delivered")
            async with session.post(client.notify_url, data=pap.render(note)) as response:
                reply = pap.parse(await response.read())
        assert isinstance(reply, pap.ResultNotificationResponse) and reply.code == 1000
        receipt = await asyncio.wait_for(anext(aiter(client.events())), 5)
    assert isinstance(receipt, DeliveryReceipt) and receipt.remote_id == "z@x"
