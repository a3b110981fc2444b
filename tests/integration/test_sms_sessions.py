"""SMPP sessions under trouble, over real sockets: our SmppClient against our SMSC simulator.

PROTOCOLS.md §10 session pitfalls, each with a test: a link dropped mid-window (unknown outcomes, never
resent), reconnect without unbind (ESME_RALYBND), binds refused for a while, a late response after the
timeout and an unanswered enquire_link, window and bounded pending maps, throttling that must slow
down without reordering or resending accepted parts (and keep the receipt map), parts counted against
TPS, permanent errors named, the bind pool and TX+RX pair mode, and a receiver that survives bad PDUs.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

from channels import (
    AuthenticationError,
    ChannelKind,
    DeliveryReceipt,
    DeliveryState,
    Dispatcher,
    Failed,
    InboundMessage,
    InvalidRecipient,
    Message,
    Outcome,
    OutcomeUnknown,
    Rejected,
    RetrySettings,
    SendRejected,
    Sent,
    Text,
)
from channels.smpp import pdu as codec
from channels.smpp import status as st
from channels.smpp.client import PartiallyAccepted, SmppClient
from channels.smpp.constants import CommandId, EsmClass
from channels.smpp.pdu import Pdu
from simulators.smsc import SmscScenario, SmscSimulator

NO_RETRY = RetrySettings(attempts=1)
LONG = "Long offer text for a loyal customer. " * 10  # 380 GSM characters: 3 parts


def sms(to: str, body: str = "Spring offer: reply 88") -> Message:
    return Message(to=to, kind=ChannelKind.SMS, content=Text(body=body), sender="10690001")


def numbers(count: int, prefix: str = "8613900") -> list[Message]:
    return [sms(f"{prefix}{i:06d}") for i in range(count)]


def unknown(outcome: Outcome) -> bool:
    return isinstance(outcome, Failed) and isinstance(outcome.error, OutcomeUnknown)


async def test_link_dropped_mid_window_unknown_never_resent_queued_sent_after_rebind() -> None:
    scenario = SmscScenario(drop_after=5, response_latency=0.05, receipts=False)
    async with SmscSimulator(scenario=scenario) as smsc:
        client = SmppClient.from_url(smsc.url + "?window=8&reconnect_initial=0.01")
        async with Dispatcher([client], retry=NO_RETRY) as dispatcher:
            messages = numbers(20)
            outcomes = await dispatcher.send_all(messages, concurrency=20)
    lost = [o.message.to for o in outcomes if unknown(o)]
    sent = [o.message.to for o in outcomes if isinstance(o, Sent)]
    assert len(lost) == 8 and len(sent) == 12  # the window's worth had no answer; the queued ones went
    recorded = Counter(r["destination"] for r in smsc.recorder.records)
    assert max(recorded.values()) == 1  # nothing was sent twice
    assert set(sent) <= set(recorded) and len(recorded) == 5 + 12  # 5 reached the SMSC before the drop
    assert client.links[0].binds == 2 and smsc.stats()["drops"] == 1


async def test_reconnect_without_unbind_meets_ralybnd_and_rebinds() -> None:
    # praekeltfoundation/vumi#624: the SMSC holds the dead session for a while and refuses the new bind
    scenario = SmscScenario(max_binds=1, stale_bind_for=0.3, receipts=False)
    async with SmscSimulator(scenario=scenario) as smsc:
        client = SmppClient.from_url(smsc.url + "?reconnect_initial=0.02&reconnect_max=0.1")
        async with client, Dispatcher([client]) as dispatcher:
            assert smsc.drop_sessions() == 1  # the network drops the link: no unbind
            await asyncio.sleep(0.05)
            assert not client.bound  # the client saw the link go (a send now would be written nowhere)
            started = time.monotonic()
            outcome = await dispatcher.send(sms("8613800000001"))
            waited = time.monotonic() - started
    assert isinstance(outcome, Sent)
    assert smsc.binds_refused >= 1 and smsc.binds == 2  # ESME_RALYBND, then the bind went through
    assert smsc.stats()["sessions"] == 0  # no socket left behind (linxGnu/gosmpp#159)
    assert waited >= 0.25


async def test_binds_refused_for_a_while_are_retried_bad_credentials_are_not() -> None:
    async with SmscSimulator(scenario=SmscScenario(refuse_binds_for=0.3)) as smsc:
        client = SmppClient.from_url(smsc.url + "?reconnect_initial=0.05&connect_attempts=8")
        async with client:
            assert client.bound and smsc.binds_refused >= 2
        refused = smsc.binds_refused
        bad = SmppClient.from_url(f"smpp://test:wrong@127.0.0.1:{smsc.port}?reconnect_initial=0.01")
        with pytest.raises(AuthenticationError, match="ESME_RINVPASWD"):
            await bad.connect()
        await bad.aclose()
        assert smsc.binds_refused == refused + 1  # one attempt: credentials are not retried


async def test_late_response_after_the_timeout_is_unknown_and_the_link_carries_on() -> None:
    # twitter-archive/cloudhopper-smpp#134 (resp on the wire after the timer), jsmpp#63 (no duplicate)
    scenario = SmscScenario(stall_after=2, stall_for=0.25, receipts=False)
    async with SmscSimulator(scenario=scenario) as smsc:
        client = SmppClient.from_url(smsc.url + "?window=1&response_timeout=0.15")
        async with Dispatcher([client], retry=NO_RETRY) as dispatcher:
            first, stalled, after = await dispatcher.send_all(numbers(3), concurrency=3)
            again = await dispatcher.send(sms("8613800000009"))
    assert isinstance(first, Sent) and unknown(stalled) and isinstance(again, Sent)
    assert isinstance(after, Sent)  # written when the timeout freed the only slot, answered after the stall
    assert client.links[0].binds == 1  # the late answer to the timed-out request did not break the link
    recorded = Counter(r["destination"] for r in smsc.recorder.records)
    assert recorded[stalled.message.to] == 1 and smsc.submits == 4  # never resent


async def test_unanswered_enquire_link_drops_the_link_and_rebinds() -> None:
    scenario = SmscScenario(stall_after=2, stall_for=1.0, receipts=False)
    async with SmscSimulator(scenario=scenario) as smsc:
        query = "?response_timeout=0.2&enquire_link_interval=0.1&reconnect_initial=0.02"
        client = SmppClient.from_url(smsc.url + query)
        async with Dispatcher([client], retry=NO_RETRY) as dispatcher:
            first = await dispatcher.send(sms("8613800000011"))
            (stalled,) = await dispatcher.send_all([sms("8613800000012")])
            await asyncio.sleep(0.4)  # enquire_link goes unanswered: the link is declared dead
            later = await dispatcher.send(sms("8613800000013"))
    assert isinstance(first, Sent) and unknown(stalled) and isinstance(later, Sent)
    assert client.links[0].binds == 2 and smsc.stalls == 1


async def test_window_is_respected_and_nothing_is_left_pending() -> None:
    # farhadi/node-smpp#122, #132; python-smpplib#233; cloudhopper-smpp#39
    scenario = SmscScenario(response_latency=0.02, receipt_delay=0.01)
    async with SmscSimulator(scenario=scenario) as smsc:
        client = SmppClient.from_url(smsc.url + "?window=4")
        async with Dispatcher([client]) as dispatcher:
            outcomes = await dispatcher.send_all(numbers(40), concurrency=20)
            receipts = [await dispatcher.next_event(5) for _ in range(40)]
            link = client.links[0]
            assert link.proto is not None and link.proto.conn.in_flight == 0 and link.load == 0
            assert len(dispatcher.tracker.store) == 0 and dispatcher.tracker.parked == 0  # type: ignore[arg-type]
    assert all(isinstance(o, Sent) for o in outcomes)
    assert all(isinstance(r, DeliveryReceipt) and r.final for r in receipts)
    assert smsc.max_outstanding == 4


async def test_throttle_retry_keeps_the_order() -> None:
    # jookies/jasmin#425: throttled messages requeued at the back came out of order
    async with SmscSimulator(scenario=SmscScenario(max_tps=100, receipts=False)) as smsc:
        client = SmppClient.from_url(smsc.url)
        async with Dispatcher([client], retry=NO_RETRY) as dispatcher:
            messages = numbers(50)
            outcomes = await dispatcher.send_all(messages, concurrency=1)
    assert all(isinstance(o, Sent) for o in outcomes)
    assert smsc.throttled > 0
    assert [r["destination"] for r in smsc.recorder.records] == [m.to for m in messages]


async def test_throttling_lowers_the_send_rate() -> None:
    async def run(query: str) -> tuple[int, int]:
        async with SmscSimulator(scenario=SmscScenario(max_tps=200, receipts=False)) as smsc:
            client = SmppClient.from_url(smsc.url + query)
            retry = RetrySettings(attempts=20, initial=0.01, maximum=0.05, jitter=0.01)
            async with Dispatcher([client], retry=retry) as dispatcher:
                outcomes = await dispatcher.send_all(numbers(120), concurrency=32)
            assert all(isinstance(o, Sent) for o in outcomes)
            assert len(smsc.recorder) == 120
            return smsc.throttled, client.links[0].rate.throttles if client.links[0].rate else 0

    fixed_throttled, _ = await run("?adaptive=0&transient_retries=0")
    adaptive_throttled, seen = await run("")
    assert seen == adaptive_throttled > 0
    assert adaptive_throttled * 4 < fixed_throttled  # measured ~10 vs ~150: slowing down beats retrying


async def test_throttled_part_is_resent_alone_and_the_receipts_still_fold() -> None:
    # jookies/jasmin#796: the receipt map must survive the retry; no accepted part is sent twice
    scenario = SmscScenario(error_every=2, error_status=st.ESME_RTHROTTLED, receipt_delay=0.01)
    async with SmscSimulator(scenario=scenario) as smsc:
        client = SmppClient.from_url(smsc.url)
        async with Dispatcher([client], retry=NO_RETRY) as dispatcher:
            outcome = await dispatcher.send(sms("8613800000021", LONG))
            receipt = await dispatcher.next_event(5)
    (record,) = smsc.recorder.records
    assert record["text"] == LONG and record["parts"] == 3
    assert isinstance(outcome, Sent) and list(outcome.result.remote_ids) == record["message_ids"]
    assert smsc.submits == 5 and client.links[0].requests == 5  # parts 1, 3 once; part 2 resent twice
    assert isinstance(receipt, DeliveryReceipt) and receipt.message_id == outcome.message.id
    assert receipt.state is DeliveryState.DELIVERED and len(receipt.detail["parts"]) == 3


async def test_parts_count_against_tps() -> None:
    # jookies/jasmin#925: throttling counted messages, not parts
    async with SmscSimulator(scenario=SmscScenario(max_tps=60, receipts=False)) as smsc:
        client = SmppClient.from_url(smsc.url + "?tps=40")
        async with client:
            started = time.monotonic()
            results = await asyncio.gather(*(client.send(sms(f"86138000001{i}", LONG)) for i in range(5)))
            elapsed = time.monotonic() - started
    assert [r.parts for r in results] == [3] * 5
    assert smsc.throttled == 0 and smsc.submits == 15
    assert elapsed >= 14 / 40


async def test_permanent_errors_are_rejections_naming_the_status() -> None:
    for status, cls, name in [
        (st.ESME_RINVDSTADR, InvalidRecipient, "ESME_RINVDSTADR"),
        (0x40A, SendRejected, "ESME_VENDOR_0x40a"),
    ]:
        scenario = SmscScenario(error_every=1, error_status=status, receipts=False)
        async with (
            SmscSimulator(scenario=scenario) as smsc,
            Dispatcher([SmppClient.from_url(smsc.url)]) as dispatcher,
        ):
            outcome = await dispatcher.send(sms("8613800000031"))
        assert isinstance(outcome, Rejected) and isinstance(outcome.error, cls)
        assert outcome.error.name == name and name in outcome.reason
        assert smsc.submits == 1  # permanent: never resent


async def test_a_long_message_refused_after_its_first_parts_is_reported_partially_accepted() -> None:
    scenario = SmscScenario(error_every=3, error_status=st.ESME_RINVDSTADR, receipts=False)
    async with (
        SmscSimulator(scenario=scenario) as smsc,
        Dispatcher([SmppClient.from_url(smsc.url)]) as dispatcher,
    ):
        outcome = await dispatcher.send(sms("8613800000032", LONG))
    assert isinstance(outcome, Rejected) and isinstance(outcome.error, PartiallyAccepted)
    assert set(outcome.error.accepted) == {1, 2} and set(outcome.error.failed) == {3}
    assert outcome.error.name == "ESME_RINVDSTADR"
    assert smsc.submits == 3  # the accepted parts were not resent


async def test_pool_of_binds_each_with_its_own_window() -> None:
    scenario = SmscScenario(response_latency=0.02, receipt_delay=0.01)
    async with SmscSimulator(scenario=scenario) as smsc:
        client = SmppClient.from_url(smsc.url + "?binds=3&window=2")
        async with client, Dispatcher([client]) as dispatcher:
            assert smsc.stats()["sessions"] == 3
            outcomes = await dispatcher.send_all(numbers(60), concurrency=30)
            receipts = [await dispatcher.next_event(5) for _ in range(60)]
    assert all(isinstance(o, Sent) for o in outcomes)
    assert {r.message_id for r in receipts if isinstance(r, DeliveryReceipt)} == {
        o.message.id for o in outcomes
    }
    per_link = [link.requests for link in client.links]
    assert sum(per_link) == 60 and min(per_link) >= 10  # the work was spread
    assert smsc.max_outstanding <= 2  # each bind kept its own window


async def test_tx_rx_pair_mode_receipts_and_replies_arrive_on_the_receiver() -> None:
    async with SmscSimulator(scenario=SmscScenario(receipt_delay=0.01)) as smsc:
        client = SmppClient.from_url(smsc.url + "?bind=tx&receivers=1")
        async with client, Dispatcher([client]) as dispatcher:
            modes = sorted(s.conn.mode.value for s in smsc._sessions if s.conn.mode is not None)
            assert modes == ["rx", "tx"]
            outcome = await dispatcher.send(sms("8613800000041"))
            receipt = await dispatcher.next_event(5)
            smsc.send_mo("8613800000041", "10690001", "88")
            reply = await dispatcher.next_event(5)
    assert isinstance(outcome, Sent) and isinstance(receipt, DeliveryReceipt)
    assert receipt.message_id == outcome.message.id
    assert isinstance(reply, InboundMessage) and reply.text == "88"
    assert client.links[1].requests == 0  # the receiver never submits


async def test_receiver_survives_bad_pdus_and_a_failing_hook() -> None:
    # python-smpplib/python-smpplib#72: one exception in the listener stopped all receiving
    async with SmscSimulator() as smsc:
        client = SmppClient.from_url(smsc.url)

        def hook(pdu: Pdu) -> bool:
            if pdu.get("source_addr") == "666":
                raise RuntimeError("a handler bug")
            return False

        client.deliver_hook = hook
        async with client, Dispatcher([client]) as dispatcher:
            (session,) = smsc._sessions
            assert session.proto.transport is not None
            overrun_tlv = codec.encode(codec.make(CommandId.DELIVER_SM, 0x7001, short_message=b"x"))
            overrun_tlv = overrun_tlv[:4] + overrun_tlv[4:] + b"\x04\x24\x00\x09ab"  # TLV length past the end
            overrun_tlv = (len(overrun_tlv)).to_bytes(4, "big") + overrun_tlv[4:]
            session.proto.transport.write(overrun_tlv)
            session.proto.transport.write(
                bytes.fromhex("00000010 00000111 00000000 00007002")
            )  # 5.0 broadcast
            smsc.deliver(
                codec.make(
                    CommandId.DELIVER_SM,
                    esm_class=EsmClass.SMSC_DELIVERY_RECEIPT,
                    short_message=b"stat:DELIVRD",
                )
            )
            smsc.deliver(codec.make(CommandId.DELIVER_SM, source_addr="666", short_message=b"boom"))
            smsc.deliver(
                codec.make(
                    CommandId.DELIVER_SM, source_addr="1", esm_class=0x40, short_message=b"\x09\x00\x03"
                )
            )
            smsc.send_mo("8613800000051", "10690001", "STOP")
            events = [await dispatcher.next_event(5) for _ in range(2)]
            outcome = await dispatcher.send(sms("8613800000051"))
    texts = [e.text for e in events if isinstance(e, InboundMessage)]
    assert texts == ["Ç@¥", "STOP"]  # the malformed UDH is shown as text, as a handset would
    assert isinstance(outcome, Sent) and client.links[0].binds == 1  # same link, still working


async def test_connect_can_be_retried_and_a_failed_context_leaves_nothing_bound() -> None:
    async with SmscSimulator(scenario=SmscScenario(max_binds=1)) as smsc:
        client = SmppClient.from_url(smsc.url + "?binds=2&connect_attempts=1")
        with pytest.raises(Exception, match="ESME_RALYBND"):
            async with client:
                pass  # the second bind is refused: the first is unbound again on the way out
        await asyncio.sleep(0.05)
        assert smsc.stats()["sessions"] == 0
        again = SmppClient.from_url(smsc.url + "?connect_attempts=1")
        async with again:
            assert again.bound
