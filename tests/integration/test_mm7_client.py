"""Mm7Client against the MMSC simulator over real HTTP on 127.0.0.1, directly and through the Dispatcher.

Simulated time stands still (``time_scale=0``) and moves only by ``sim.advance``, so hours of MMSC
storage pass instantly and no test sleeps to wait for a report.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from channels import (
    AuthenticationError,
    Channel,
    ChannelKind,
    ContentRejected,
    DeliveryReceipt,
    DeliveryState,
    Dispatcher,
    InboundMessage,
    InvalidRecipient,
    MediaPart,
    Message,
    Mms,
    OutcomeUnknown,
    Rejected,
    RemoteTemporaryError,
    RemoteThrottled,
    RetrySettings,
    SendRejected,
    Sent,
    Slide,
    TransportError,
)
from channels.mm7 import Mm7Client
from channels.mm7.messages import Fault, decode
from simulators.mmsc import MmscSimulator
from simulators.mmsc_model import MmscScenario

pytestmark = pytest.mark.timeout(30)
HOUR = 3600.0
FAST = MmscScenario(report_delay=(1, 2))


@asynccontextmanager
async def gateway(
    scenario: MmscScenario = FAST, *, profile: str | None = None, client_kw: dict[str, Any] | None = None,
    **sim_kw: Any,
) -> AsyncIterator[tuple[MmscSimulator, Mm7Client]]:
    async with MmscSimulator(scenario=scenario, profile=profile, time_scale=0, **sim_kw) as sim:
        url = sim.url + "&report_url=http://127.0.0.1:0/vasp&sender=54321"
        async with Mm7Client.from_url(url, **(client_kw or {})) as client:
            assert client.report_url is not None
            sim.register_vasp(client.report_url)
            yield sim, client


def mms_message(n: int = 1, **kw: Any) -> Message:
    content = kw.pop("content", None) or Mms(subject="Spring sale", slides=(Slide(text=f"20% off #{n}"),))
    return Message(to=f"86138001380{n:02d}", kind=ChannelKind.MMS, content=content, id=f"msg-{n}", **kw)


async def final_receipt(d: Dispatcher) -> DeliveryReceipt:
    while True:
        event = await d.next_event(timeout=5)
        if isinstance(event, DeliveryReceipt) and event.final:
            return event


async def test_dispatcher_sends_mms_and_gets_correlated_receipt() -> None:
    async with gateway() as (sim, client), Dispatcher([client]) as d:
        assert isinstance(client, Channel) and client.kind is ChannelKind.MMS
        outcome = await d.send(mms_message(1))
        assert isinstance(outcome, Sent)
        (remote_id,) = outcome.result.remote_ids
        assert sim.pending == 1
        await sim.advance(10)
        receipt = await final_receipt(d)
        assert (receipt.message_id, receipt.remote_id) == ("msg-1", remote_id)
        assert receipt.state is DeliveryState.DELIVERED
        assert receipt.channel is ChannelKind.MMS and receipt.gateway == "mm7"
        (record,) = sim.recorder.records
        assert record["message_id"] == remote_id and record["to"] == ["8613800138001"]
        assert record["subject"] == "Spring sale" and record["text"] == "20% off #1"
        assert record["from"] == "54321" and record["service_code"] == "svc-01"


@pytest.mark.parametrize("profile", ["REL-5-MM7-1-0", "REL-6-MM7-1-0", "REL-6-MM7-1-4"])
async def test_every_profile_end_to_end(profile: str) -> None:
    async with gateway(profile=profile) as (sim, client), Dispatcher([client]) as d:
        assert client.config.profile.release == profile
        outcomes = await d.send_all([mms_message(n) for n in range(1, 6)], concurrency=4)
        assert all(isinstance(o, Sent) for o in outcomes)
        await sim.advance(10)
        receipts = [await final_receipt(d) for _ in range(5)]
        assert sorted(r.message_id or "" for r in receipts) == [f"msg-{n}" for n in range(1, 6)]
        assert {r["release"] for r in sim.recorder.records} == {profile}
        assert len(sim.reports) == 5 and all(r["posted"] for r in sim.reports)


async def test_chinese_subject_and_text_survive_byte_exact() -> None:
    text = "新年快乐！\n恭喜发财\r\n第三行"
    gb_text = "春节祝福".encode("gb2312")
    mms = Mms(subject="春节快乐 🎉", slides=(Slide(text=text),),
              parts=(MediaPart(content_type="text/plain; charset=gb2312", data=gb_text),))
    async with gateway(profile="cmcc") as (sim, client):
        await client.send(mms_message(1, content=mms))
        (record,) = sim.recorder.records
        assert record["subject"] == "春节快乐 🎉"
        assert record["text"] == text + "\n春节祝福"
        sizes = {p["content_id"]: p["size"] for p in record["parts"]}
        assert sizes["text1"] == len(text.encode()) and sizes["part1"] == len(gb_text)
        # and back: a subscriber's Chinese MO reaches the VASP byte for byte
        assert await sim.deliver("8613800138000", "退订 谢谢", to="54321", subject="回复：春节")
        event = await anext(client.events())
        assert isinstance(event, InboundMessage)
        assert event.text == "退订 谢谢" and event.detail["subject"] == "回复：春节"
        assert event.detail["media"][0].data == "退订 谢谢".encode()


async def test_mo_and_scenario_replies_reach_the_dispatcher() -> None:
    scenario = MmscScenario(report_delay=(1, 1), reply_share=1.0, reply_delay=(5, 5), reply_texts=("ＴＤ",))
    async with gateway(scenario) as (sim, client), Dispatcher([client]) as d:
        await d.send(mms_message(1))
        await sim.advance(60)
        events = [await d.next_event(timeout=5) for _ in range(2)]
        receipt, reply = sorted(events, key=lambda e: isinstance(e, InboundMessage))
        assert isinstance(receipt, DeliveryReceipt) and receipt.state is DeliveryState.DELIVERED
        assert isinstance(reply, InboundMessage)
        assert (reply.sender, reply.recipient) == ("8613800138001", "54321")
        assert (reply.keyword, reply.opt_out) == ("td", True)  # full-width ＴＤ normalised, an opt-out
        assert reply.detail["subject"] == "Re: Spring sale"


async def test_deferred_report_then_final_delivery() -> None:
    async with gateway(MmscScenario(outcomes={"Deferred": 1}, report_delay=(5, 5))) as (sim, client), \
            Dispatcher([client]) as d:
        await d.send(mms_message(1))
        await sim.advance(6)
        first = await d.next_event(timeout=5)
        assert isinstance(first, DeliveryReceipt) and first.state is DeliveryState.ACCEPTED
        assert first.message_id == "msg-1"
        await sim.advance(6)
        assert (await final_receipt(d)).state is DeliveryState.DELIVERED


@pytest.mark.parametrize(
    ("renotify", "state", "text"),
    [(None, DeliveryState.EXPIRED, "notification expired"),
     (25.0, DeliveryState.DELIVERED, "re-notification")],
)
async def test_storage_expiry_and_renotification(
    renotify: float | None, state: DeliveryState, text: str
) -> None:
    scenario = MmscScenario(report_delay=(1, 1), offline_share=1.0, offline_hours=(24.5, 24.5),
                            renotify_after_hours=renotify)
    async with gateway(scenario) as (sim, client), Dispatcher([client]) as d:
        await d.send(mms_message(1))
        await sim.advance(24 * HOUR)
        assert sim.pending == 1  # nothing reported yet: the MM waits in storage
        await sim.advance(25 * HOUR)
        receipt = await final_receipt(d)
        assert receipt.state is state and text in receipt.detail["status_text"]


@pytest.mark.parametrize(
    ("code", "cls"),
    [(2003, InvalidRecipient), (2004, ContentRejected), (3001, RemoteTemporaryError), (4006, RemoteThrottled),
     (4005, SendRejected)],
)
async def test_every_error_class(code: int, cls: type[Exception]) -> None:
    async with gateway(MmscScenario(errors={code: 1.0})) as (sim, client):
        with pytest.raises(SendRejected) as info:
            await client.send(mms_message(1))
        assert type(info.value) is cls and info.value.code == code
        assert info.value.retriable is (code // 1000 == 3 or code == 4006)
        assert sim.counters[f"status_{code}"] == 1 and sim.recorder.records == []


async def test_dispatcher_retries_server_errors_then_rejects() -> None:
    retry = RetrySettings(attempts=3, initial=0.01, maximum=0.02, jitter=0.0)
    async with gateway(MmscScenario(errors={3000: 1.0})) as (sim, client), \
            Dispatcher([client], retry=retry) as d:
        outcome = await d.send(mms_message(1))
        assert isinstance(outcome, Rejected) and isinstance(outcome.error, RemoteTemporaryError)
        assert sim.counters["status_3000"] == 3
    async with gateway(MmscScenario(errors={2002: 1.0})) as (sim, client), \
            Dispatcher([client], retry=retry) as d:
        outcome = await d.send(mms_message(1))
        assert isinstance(outcome, Rejected) and isinstance(outcome.error, InvalidRecipient)
        assert sim.counters["status_2002"] == 1  # client errors are not resent


async def test_authentication_failures() -> None:
    async with gateway(password="right", client_kw={"password": "wrong"}) as (sim, client):
        with pytest.raises(AuthenticationError, match="401"):
            await client.send(mms_message(1))
        assert sim.counters["unauthorised"] == 1
    async with gateway(MmscScenario(vaspids=frozenset({"someone-else"}))) as (sim, client):
        with pytest.raises(AuthenticationError, match="4001"):
            await client.send(mms_message(1))


async def test_oversize_is_refused_before_sending() -> None:
    big = Mms(slides=(Slide(image=MediaPart(content_type="image/jpeg", data=b"\xff" * 120_000)),))
    async with gateway(profile="REL-5-MM7-1-0") as (sim, client):
        with pytest.raises(ContentRejected, match="exceeds the limit of 102400 bytes"):
            await client.send(mms_message(1, content=big))
        assert sim.counters["requests"] == 0
    async with gateway(MmscScenario(max_size=50_000)) as (sim, client):  # the MMSC's own limit: 2004
        with pytest.raises(ContentRejected) as info:
            await client.send(mms_message(1, content=big))
        assert info.value.code == 2004 and sim.counters["requests"] == 1


async def test_no_answer_in_time_is_outcome_unknown() -> None:
    async with gateway(MmscScenario(latency=(1.0, 1.0)), client_kw={"timeout": 0.2}) as (sim, client), \
            Dispatcher([client]) as d:
        with pytest.raises(OutcomeUnknown):
            await d.send(mms_message(1))  # never retried automatically
        assert sim.counters["requests"] == 1


async def test_unreachable_mmsc_is_transport_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with Mm7Client.from_url(f"mm7+http://127.0.0.1:{port}/mm7") as client:
        with pytest.raises(TransportError) as info:
            await client.send(mms_message(1))
        assert info.value.retriable


async def test_receiver_answers_malformed_posts_with_vasp_error() -> None:
    async with gateway() as (_sim, client), aiohttp.ClientSession() as http:
        assert client.report_url is not None
        async with http.post(client.report_url, data=b"<nope", headers={"Content-Type": "text/xml"}) as resp:
            assert resp.status == 500
            fault = decode(await resp.read()).doc
        assert isinstance(fault, Fault) and fault.detail == "VASPErrorRsp" and fault.status.code == 2007


async def test_reports_wait_for_the_vasp_and_are_retried() -> None:
    async with MmscSimulator(scenario=FAST, time_scale=0, report_retry_after=60) as sim:
        url = sim.url + "&report_url=http://127.0.0.1:0/vasp"
        async with Mm7Client.from_url(url) as client, Dispatcher([client]) as d:
            await d.send(mms_message(1))
            await sim.advance(10)  # no VASP URL known yet: the post fails and is rescheduled
            assert [r["posted"] for r in sim.reports] == [False] and sim.pending == 1
            assert client.report_url is not None
            sim.register_vasp(client.report_url)
            await sim.advance(60)
            assert (await final_receipt(d)).state is DeliveryState.DELIVERED
            assert [r["posted"] for r in sim.reports] == [False, True]


async def test_injected_session_record_file_and_linked_reply(tmp_path: Any) -> None:
    record = tmp_path / "mmsc.jsonl"
    async with MmscSimulator(scenario=FAST, time_scale=0, record_path=record) as sim, \
            aiohttp.ClientSession() as session:
        url = sim.url + "&report_url=http://127.0.0.1:0/vasp&sender=54321"
        async with Mm7Client.from_url(url, session=session) as client:
            assert client.report_url is not None
            sim.register_vasp(client.report_url)
            assert await sim.deliver("8613800138000", "88", to="54321", linked_id="L-42")
            mo = await anext(client.events())
            assert isinstance(mo, InboundMessage) and mo.detail["linked_id"] == "L-42"
            linked = mo.detail["linked_id"]
            reply = Mms(subject="Thanks", slides=(Slide(text="Subscribed."),), linked_id=linked)
            await client.send(Message(to=mo.sender, kind=ChannelKind.MMS, content=reply))
        assert not session.closed  # an injected session belongs to the caller
    lines = record.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    assert '"linked_id": "L-42"' in lines[0] and '"text": "Subscribed."' in lines[0]
