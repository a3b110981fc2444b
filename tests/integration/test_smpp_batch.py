"""SmppClient.send_batch, the bulk fast path: one write per loop turn, no future per message."""

from __future__ import annotations

import asyncio

import pytest

from channels import (
    ChannelKind,
    ConfigurationError,
    ContentRejected,
    Dispatcher,
    Message,
    OutcomeUnknown,
    SendResult,
    Sent,
    SmppClient,
    Text,
)
from simulators import SmscScenario, SmscSimulator


def sms(i: int, body: str = "Reply 88", to: str | None = None, sender: str | None = None) -> Message:
    return Message(to=to or f"+86139{i:08d}", kind=ChannelKind.SMS, content=Text(body=body), sender=sender)


async def test_batch_larger_than_the_window_is_all_accepted_in_order() -> None:
    async with (
        SmscSimulator(scenario=SmscScenario(receipts=False)) as smsc,
        SmppClient.from_url(smsc.url + "?window=4") as client,
    ):
        messages = [sms(i) for i in range(50)] + [sms(99, "long " * 80)]  # the last has 3 parts
        results = await client.send_batch(messages)
    assert all(isinstance(r, SendResult) for r in results)
    assert [r.message_id for r in results if isinstance(r, SendResult)] == [m.id for m in messages]
    assert smsc.max_outstanding <= 4  # never more than the window in flight
    records = smsc.recorder.records
    assert [r["destination"] for r in records] == [m.to.lstrip("+") for m in messages]
    assert records[-1]["parts"] == 3 and records[-1]["text"] == "long " * 80
    last = results[-1]
    assert isinstance(last, SendResult) and last.parts == 3 and len(set(last.remote_ids)) == 3


async def test_bad_messages_fail_alone_and_the_rest_go() -> None:
    async with (
        SmscSimulator(scenario=SmscScenario(receipts=False)) as smsc,
        SmppClient.from_url(smsc.url) as client,
    ):
        messages = [sms(1), sms(2, to="not-a-number"), sms(3, sender="Ωmega-sender"), sms(4)]
        results = await client.send_batch(messages)
    assert isinstance(results[0], SendResult) and isinstance(results[3], SendResult)
    assert isinstance(results[1], ConfigurationError) and "destination" in str(results[1])
    assert isinstance(results[2], ContentRejected) and "source_addr" in str(results[2])
    assert len(smsc.recorder) == 2


async def test_a_message_that_cannot_be_encoded_sends_none_of_its_parts() -> None:
    async with (
        SmscSimulator(scenario=SmscScenario(receipts=False)) as smsc,
        SmppClient.from_url(smsc.url) as client,
    ):
        long_bad = sms(5, "long " * 80, sender="Ωmega-sender")  # 3 parts, none encodable
        [batched] = await client.send_batch([long_bad])
        with pytest.raises(ContentRejected, match="source_addr"):
            await client.send(sms(6, sender="Ωmega-sender"))
        assert await client.send(sms(7))  # the link is still fine
    assert isinstance(batched, ContentRejected) and "source_addr" in str(batched)
    assert [r["destination"] for r in smsc.recorder.records] == ["8613900000007"]


async def test_link_dropped_mid_batch_reports_unknown_outcomes_and_never_resends() -> None:
    scenario = SmscScenario(receipts=False, drop_after=5)
    async with (
        SmscSimulator(scenario=scenario) as smsc,
        SmppClient.from_url(smsc.url + "?window=10") as client,
    ):
        results = await client.send_batch([sms(i) for i in range(10)])
    unknown = [r for r in results if isinstance(r, OutcomeUnknown)]
    accepted = [r for r in results if isinstance(r, SendResult)]
    assert unknown and len(unknown) + len(accepted) == 10
    assert smsc.submits <= 10  # nothing was silently sent a second time


async def test_dispatcher_bulk_path_uses_the_batch_and_correlates_receipts() -> None:
    async with (
        SmscSimulator(scenario=SmscScenario(receipt_delay=0.01)) as smsc,
        Dispatcher([SmppClient.from_url(smsc.url + "?window=32")]) as dispatcher,
    ):
        messages = [sms(i) for i in range(300)]
        outcomes = await dispatcher.send_all(messages, concurrency=64)
        assert all(isinstance(o, Sent) for o in outcomes)
        ids = set()
        while len(ids) < 300:
            event = await dispatcher.next_event(10)
            ids.add(getattr(event, "message_id", None))
    assert ids == {m.id for m in messages}


async def test_a_send_on_an_idle_link_is_written_in_its_own_loop_turn() -> None:
    # Nothing in flight: the submit_sm leaves at once, not one loop turn later (a lone send's
    # latency); a busy link still writes at the end of the turn, with the answers of its reads.
    async with (
        SmscSimulator(scenario=SmscScenario(receipts=False)) as smsc,
        SmppClient.from_url(smsc.url) as client,
    ):
        proto = client.links[0].proto
        assert proto is not None and proto.transport is not None
        writes: list[bytes] = []
        real_write = proto.transport.write

        def write(data: bytes | bytearray | memoryview) -> None:
            writes.append(bytes(data))
            real_write(data)

        proto.transport.write = write  # type: ignore[method-assign]
        task = asyncio.create_task(client.send_batch([sms(1)]))
        await asyncio.sleep(0)  # the task's first step runs up to waiting for its answer
        assert len(writes) == 1 and writes[0][4:8] == b"\x00\x00\x00\x04"  # one submit_sm, written
        [result] = await task
    assert isinstance(result, SendResult) and smsc.submits == 1
