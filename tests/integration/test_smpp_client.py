"""Our SmppClient against our SMSC simulator, over real TCP on 127.0.0.1 (issue 2)."""

from __future__ import annotations

import asyncio

import pytest

from channels import (
    AuthenticationError,
    ChannelKind,
    DeliveryReceipt,
    DeliveryState,
    Dispatcher,
    Message,
    RetrySettings,
    Sent,
    Text,
)
from channels.smpp.client import SmppClient
from channels.smpp.connection import State
from simulators.smsc import SmscScenario, SmscSimulator


def sms(to: str, body: str = "Spring offer: reply 88") -> Message:
    return Message(to=to, kind=ChannelKind.SMS, content=Text(body=body), campaign_id="c1")


async def test_bind_send_and_receipt_correlated() -> None:
    async with SmscSimulator() as smsc, SmppClient.from_url(smsc.url) as client:
        assert client.bound
        async with Dispatcher([client]) as dispatcher:
            msg = sms("8613800138000", "Hello 你好")
            outcome = await dispatcher.send(msg)
            assert isinstance(outcome, Sent)
            assert outcome.result.remote_ids == (smsc.recorder.records[0]["message_id"],)
            receipt = await dispatcher.next_event(5)
        assert isinstance(receipt, DeliveryReceipt)
        assert receipt.message_id == msg.id
        assert receipt.state is DeliveryState.DELIVERED
        record = smsc.recorder.records[0]
        assert record["text"] == "Hello 你好"
        assert record["data_coding"] == 8
        assert record["destination"] == "8613800138000"
        assert record["receipt_state"] == "delivered"


async def test_wrong_password_is_authentication_error() -> None:
    async with SmscSimulator(accounts={"test": "secret"}) as smsc:
        client = SmppClient.from_url(f"smpp://test:wrong@127.0.0.1:{smsc.port}")
        with pytest.raises(AuthenticationError, match="ESME_RINVPASWD"):
            await client.connect()
        await client.aclose()
        unknown = SmppClient.from_url(f"smpp://nobody:secret@127.0.0.1:{smsc.port}")
        with pytest.raises(AuthenticationError, match="ESME_RINVSYSID"):
            await unknown.connect()
        await unknown.aclose()


async def test_thousand_messages_window_64_all_acknowledged_and_correlated() -> None:
    outcomes = {DeliveryState.DELIVERED: 0.8, DeliveryState.UNDELIVERABLE: 0.15, DeliveryState.EXPIRED: 0.05}
    scenario = SmscScenario(seed=7, outcomes=outcomes, receipt_delay=0.01)
    async with SmscSimulator(scenario=scenario) as smsc:
        client = SmppClient.from_url(smsc.url + "?window=64")
        async with Dispatcher([client]) as dispatcher:
            messages = [sms(f"8613900{i:06d}") for i in range(1000)]
            results = await dispatcher.send_all(messages, concurrency=128)
            assert all(isinstance(r, Sent) for r in results)
            assert [r.message.id for r in results] == [m.id for m in messages]  # ordered
            seen: dict[str, DeliveryState] = {}
            while len(seen) < 1000:
                event = await dispatcher.next_event(10)
                assert isinstance(event, DeliveryReceipt)
                assert event.message_id is not None
                seen[event.message_id] = event.state
        assert set(seen) == {m.id for m in messages}
        expected = {r["message_id"]: r["receipt_state"] for r in smsc.recorder.records}
        by_remote = {r.result.remote_ids[0]: r.message.id for r in results if isinstance(r, Sent)}
        assert {by_remote[rid]: DeliveryState(s) for rid, s in expected.items()} == seen
        assert 700 < sum(1 for s in seen.values() if s is DeliveryState.DELIVERED) < 900
        assert dispatcher.tracker.store.get(messages[0].id) is None  # final: no state left behind


async def test_throttled_submits_are_answered_and_retried() -> None:
    scenario = SmscScenario(max_tps=200, receipts=False)
    async with SmscSimulator(scenario=scenario) as smsc:
        client = SmppClient.from_url(smsc.url + "?window=32")
        retry = RetrySettings(attempts=50, initial=0.02, maximum=0.2, jitter=0.02)
        async with Dispatcher([client], retry=retry) as dispatcher:
            results = await dispatcher.send_all([sms(f"86137{i:08d}") for i in range(60)], concurrency=32)
        assert all(isinstance(r, Sent) for r in results)
        assert smsc.throttled > 0  # the SMSC did refuse some with ESME_RTHROTTLED ...
        assert len(smsc.recorder) == 60  # ... and every message got through exactly once


async def test_enquire_link_keeps_idle_link_alive() -> None:
    async with SmscSimulator(scenario=SmscScenario(enquire_link_interval=0)) as smsc:
        client = SmppClient.from_url(smsc.url + "?enquire_link_interval=0.05")
        async with client:
            proto = client._proto
            assert proto is not None
            sent_before = proto.conn._seq
            await asyncio.sleep(0.3)
            assert proto.conn._seq >= sent_before + 3  # several enquire_links went out ...
            assert client.bound and client._proto is proto  # ... were answered: same link, still bound
            await client.send(sms("8613800000001"))


async def test_clean_unbind_on_close() -> None:
    async with SmscSimulator() as smsc:
        client = SmppClient.from_url(smsc.url)
        await client.connect()
        proto = client._proto
        assert proto is not None
        await client.send(sms("8613800000002"))
        await client.aclose()
        assert proto.conn.state is State.CLOSED
        await asyncio.sleep(0.05)
        assert smsc.stats()["sessions"] == 0  # the SMSC saw the unbind and dropped the session
