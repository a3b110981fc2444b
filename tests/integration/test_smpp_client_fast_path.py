"""The client's fast path (channels.smpp.fastpath) against the general path: the same traffic, taken
both ways, gives the same outcomes, the same correlated receipts and replies, and the same messages
on the SMSC; and the fast path does take the common frames."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from channels import (
    ChannelKind,
    DeliveryReceipt,
    DeliveryState,
    Dispatcher,
    InboundMessage,
    Message,
    RetrySettings,
    Text,
)
from channels.smpp import fastpath, link
from channels.smpp.client import SmppClient
from simulators.smsc import SmscScenario, SmscSimulator

SCENARIO = SmscScenario(
    seed=7,
    receipt_delay=0.0,
    outcomes={DeliveryState.DELIVERED: 0.7, DeliveryState.UNDELIVERABLE: 0.2, DeliveryState.EXPIRED: 0.1},
    error_every=9,  # ESME_RSYSERR: an error status takes the general path
    reply_rate=0.2,
    reply_delay=0.0,
    replies={"88": 1.0, "ＴＤ": 1.0},
)


def _messages() -> list[Message]:
    out = []
    for i in range(120):
        body = "long offer " * 30 if i % 10 == 3 else f"offer {i}: reply 88"  # some in 3 parts
        out.append(Message(to=f"86138{i:08d}", kind=ChannelKind.SMS, content=Text(body=body), id=f"m{i:03d}"))
    return out


PLAIN = SmscScenario(seed=7, receipt_delay=0.0)


async def _run(
    monkeypatch: pytest.MonkeyPatch, fast: bool, scenario: SmscScenario = SCENARIO
) -> tuple[Any, ...]:
    taken: Counter[int] = Counter()

    class Counting(fastpath.FastPath):
        def on_frame(self, frame: bytes, now: float) -> bool:
            took = fast and super().on_frame(frame, now)
            if took:
                taken[int.from_bytes(frame[4:8], "big")] += 1
            return took

    monkeypatch.setattr(link, "FastPath", Counting)
    messages = _messages()
    async with (
        SmscSimulator(scenario=scenario) as smsc,
        SmppClient.from_url(f"{smsc.url}?window=8") as client,
        Dispatcher([client], retry=RetrySettings(attempts=1)) as dispatcher,
    ):
        outcomes = {o.message.id: type(o).__name__ async for o in dispatcher.send_many(messages)}
        sent = sum(kind == "Sent" for kind in outcomes.values())
        receipts: dict[str, tuple[str, str | None]] = {}
        replies: list[tuple[str, str, bool]] = []
        while len(receipts) < sent or len(replies) < (18 if scenario.reply_rate else 0):
            event = await dispatcher.next_event(10)
            if isinstance(event, DeliveryReceipt):
                assert event.message_id is not None and event.message_id not in receipts
                receipts[event.message_id] = (event.state.value, event.error_code)
            elif isinstance(event, InboundMessage):
                replies.append((event.sender, event.keyword, event.opt_out))
        by_destination = {r["destination"]: r for r in smsc.recorder.records}
        await asyncio.sleep(0.05)  # our last deliver_sm_resp reaches the SMSC
        # Every deliver_sm the SMSC sent (receipts and replies) was answered.
        assert [session.conn.in_flight for session in smsc._sessions] == [0]
    # Every accepted message got exactly one final receipt, correlated to it, with the state the
    # SMSC recorded for it (the worst part's, for a long one) and the receipt's err.
    sent_ids = {mid for mid, kind in outcomes.items() if kind == "Sent"}
    assert set(receipts) == sent_ids
    for m in _messages():
        if m.id in sent_ids:
            assert receipts[m.id][0] == by_destination[m.to]["receipt_state"], m.id
    # Which message draws which outcome depends on the submit order, which timing may change:
    # compare the rest as multisets.
    records = sorted((r["destination"], r["text"], r["parts"]) for r in by_destination.values())
    return Counter(outcomes.values()), len(receipts), sorted(replies), records, taken, outcomes


async def test_fast_and_general_paths_give_the_same_results(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = await _run(monkeypatch, fast=True)
    general = await _run(monkeypatch, fast=False)
    assert fast[:4] == general[:4]
    kinds, receipts, replies, records, taken, outcomes = fast
    assert kinds["Sent"] == receipts > 90 and len(records) == kinds["Sent"]
    assert {keyword for _, keyword, _ in replies} == {"88", "td"} and any(o for *_, o in replies)
    # It took accepted parts' responses and receipts, nothing else (error answers, replies and the
    # frames after them in the same read went the general way), and nothing without it.
    parts = sum(3 if "long" in m.content.body else 1 for m in _messages() if outcomes[m.id] == "Sent")  # type: ignore[union-attr]
    assert set(taken) == {0x80000004, 0x00000005}
    assert 0 < taken[0x80000004] <= parts and 0 < taken[0x00000005] <= parts
    assert general[4] == Counter()


async def test_plain_traffic_takes_the_fast_path_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = await _run(monkeypatch, fast=True, scenario=PLAIN)
    general = await _run(monkeypatch, fast=False, scenario=PLAIN)
    assert fast[:4] == general[:4]
    parts = sum(3 if "long" in m.content.body else 1 for m in _messages())  # type: ignore[union-attr]
    assert fast[4] == Counter({0x80000004: parts, 0x00000005: parts})


async def test_a_failing_receipt_handler_on_the_fast_path_never_kills_the_link() -> None:
    """The fast path's guard (as SmppLink.deliver's for the general path): a receipt consumer that
    raises is logged; the receipt is still answered and the receipts after it still come."""
    seen: list[str] = []

    def flaky(pending: Any) -> None:
        seen.append(pending.remote_id)
        if len(seen) == 1:
            raise RuntimeError("consumer bug")

    async with (
        SmscSimulator(scenario=PLAIN) as smsc,
        SmppClient.from_url(f"{smsc.url}?window=8") as client,
    ):
        client.subscribe(lambda event: None, flaky)
        one_part = [m for i, m in enumerate(_messages()) if i % 10 != 3][:5]
        results = [await client.send(m) for m in one_part]
        for _ in range(200):
            if len(seen) == len(results):
                break
            await asyncio.sleep(0.01)
        assert sorted(seen) == sorted(r.remote_ids[0] for r in results)
        assert not client.pool.pick().proto.closed  # the same link, still bound
        await asyncio.sleep(0.05)  # our last deliver_sm_resp reaches the SMSC
        assert [session.conn.in_flight for session in smsc._sessions] == [0]
