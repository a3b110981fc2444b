"""Receipts over real sockets: our SmppClient against our SMSC simulator, through the Dispatcher.

Each PROTOCOLS.md §10 receipt pitfall has a test here: ids that differ between submit_sm_resp and
receipt, receipt text variants (and UCS-2 receipt text), vendor TLVs, receipt before response, ACCEPTD
before the final state, failure-only registered_delivery, multipart receipts, receipts not taken for MO;
plus receipt_timeout and a restart that keeps correlating (SQLite store).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from channels import (
    ChannelKind,
    DeliveryReceipt,
    DeliveryState,
    Dispatcher,
    Event,
    InboundMessage,
    Message,
    ReceiptTracker,
    Sent,
    Text,
)
from channels.receipt_stores import SqliteReceiptStore
from channels.smpp import pdu as codec
from channels.smpp.client import SmppClient
from channels.smpp.constants import CommandId, EsmClass, Tag
from channels.smpp.dlr import ReceiptStyle
from simulators.smsc import IdStyle, ReceiptForm, SmscScenario, SmscSimulator

D, U, X = DeliveryState.DELIVERED, DeliveryState.UNDELIVERABLE, DeliveryState.EXPIRED


def sms(to: str, body: str = "Spring offer: reply 88") -> Message:
    return Message(to=to, kind=ChannelKind.SMS, content=Text(body=body), sender="10690001")


async def events(dispatcher: Dispatcher, count: int, timeout: float = 5.0) -> list[Event]:
    return [await dispatcher.next_event(timeout) for _ in range(count)]


async def nothing_more(dispatcher: Dispatcher, seconds: float = 0.2) -> None:
    with pytest.raises(TimeoutError):
        await dispatcher.next_event(seconds)


async def send_and_collect(
    scenario: SmscScenario, query: str = "", count: int = 3, body: str = "Spring offer: reply 88"
) -> tuple[list[Sent], list[DeliveryReceipt], SmscSimulator]:
    async with SmscSimulator(scenario=scenario) as smsc:
        client = SmppClient.from_url(smsc.url + query)
        async with Dispatcher([client]) as dispatcher:
            sent = [await dispatcher.send(sms(f"861380013{i:04d}", body)) for i in range(count)]
            got = await events(dispatcher, count)
            await nothing_more(dispatcher, 0.1)
    assert all(isinstance(s, Sent) for s in sent)
    assert all(isinstance(e, DeliveryReceipt) for e in got)
    return sent, got, smsc  # type: ignore[return-value]


ID_CASES = [
    # (submit_sm_resp id form, receipt id form, gateway id profile): PROTOCOLS.md §3.4
    (IdStyle(width=8), IdStyle(), "caseless"),  # 00B8BE19 vs B8BE19 (jookies/jasmin#1129)
    (IdStyle(lower=True), IdStyle(), "caseless"),  # 0e999f21 vs E999F21 (#643)
    (IdStyle(), IdStyle(base=10), "resp-hex-dlr-dec"),  # Nexmo: resp hex, DLR decimal
    (IdStyle(base=10), IdStyle(lower=True), "resp-dec-dlr-hex"),
    (IdStyle(width=10, lower=True), IdStyle(base=10, width=12), "auto"),
]


@pytest.mark.parametrize(("resp_ids", "receipt_ids", "profile"), ID_CASES)
async def test_receipt_ids_in_another_spelling_correlate(
    resp_ids: IdStyle, receipt_ids: IdStyle, profile: str
) -> None:
    scenario = SmscScenario(response_ids=resp_ids, receipt_ids=receipt_ids, receipt_delay=0.01)
    sent, got, _ = await send_and_collect(scenario, f"?id_profile={profile}")
    by_id = {s.message.id: s for s in sent}
    assert {r.message_id for r in got} == set(by_id)
    for receipt in got:
        resp_id = by_id[receipt.message_id or ""].result.remote_ids[0]
        assert receipt.remote_id != resp_id  # the two spellings really differ on the wire
        assert receipt.state is D


async def test_without_the_right_profile_a_decimal_receipt_is_parked_not_misfiled() -> None:
    scenario = SmscScenario(receipt_ids=IdStyle(base=10), receipt_delay=0.01)
    async with SmscSimulator(scenario=scenario) as smsc:
        client = SmppClient.from_url(smsc.url)  # default profile: caseless, no hex/decimal twin
        async with Dispatcher([client]) as dispatcher:
            await dispatcher.send(sms("8613800130001"))
            await nothing_more(dispatcher, 0.3)
            assert dispatcher.tracker.parked == 1  # held for a late submit_sm_resp, not dropped


TEXT_VARIANTS = [
    pytest.param(SmscScenario(receipt_date_digits=12), id="12-digit-dates"),
    pytest.param(
        SmscScenario(receipt_date_digits=14, receipt_style=ReceiptStyle(err_digits=4)), id="14-digit-err4"
    ),
    pytest.param(
        SmscScenario(receipt_style=ReceiptStyle(omit=frozenset({"sub", "dlvrd", "text"}))),
        id="missing-fields",
    ),
    pytest.param(
        SmscScenario(receipt_style=ReceiptStyle(upper_keys=True, lower_stat=True, text_key="Text")),
        id="any-case",
    ),
    pytest.param(
        SmscScenario(receipt_style=ReceiptStyle(extra=(("operator", "46000"),))), id="vendor-fields"
    ),
    pytest.param(SmscScenario(receipt_form=ReceiptForm.TEXT, receipt_date_digits=12), id="text-only"),
    pytest.param(SmscScenario(receipt_form=ReceiptForm.TLV), id="tlv-only"),
    pytest.param(SmscScenario(receipt_data_coding=8), id="ucs2-receipt-text"),  # farhadi/node-smpp#68
    pytest.param(
        SmscScenario(receipt_vendor_tlvs={0x1400: b"\x00\x01", 0x2001: b"x" * 40, 0x3177: b""}),
        id="vendor-tlvs",
    ),  # python-smpplib#2, #188; jookies/jasmin#938
]


@pytest.mark.parametrize("variant", TEXT_VARIANTS)
async def test_receipt_variants_are_read_and_correlated(variant: SmscScenario) -> None:
    outcomes = {D: 1.0, U: 1.0, X: 1.0}
    scenario = SmscScenario(
        seed=3,
        outcomes=outcomes,
        receipt_delay=0.01,
        receipt_date_digits=variant.receipt_date_digits,
        receipt_style=variant.receipt_style,
        receipt_form=variant.receipt_form,
        receipt_data_coding=variant.receipt_data_coding,
        receipt_vendor_tlvs=variant.receipt_vendor_tlvs,
    )
    sent, got, smsc = await send_and_collect(scenario, count=6)
    expected = {
        s.message.id: DeliveryState(r["receipt_state"])
        for s, r in zip(sent, smsc.recorder.records, strict=True)
    }
    assert {r.message_id: r.state for r in got} == expected
    assert len(set(expected.values())) > 1  # the mix really was mixed
    failed = [r for r in got if r.state is not D]
    assert all(r.error_code not in (None, "000") for r in failed)


async def test_receipt_before_its_submit_response_is_held_and_matched() -> None:
    scenario = SmscScenario(receipt_first=True, response_latency=0.05)  # elibom/mokai#15
    sent, got, _ = await send_and_collect(scenario)
    assert sorted(r.message_id or "" for r in got) == sorted(s.message.id for s in sent)
    assert all(r.state is D for r in got)


async def test_acceptd_before_the_final_state_is_not_final_by_default() -> None:
    scenario = SmscScenario(acceptd_first=True, receipt_delay=0.05)  # jookies/jasmin#885
    async with (
        SmscSimulator(scenario=scenario) as smsc,
        Dispatcher([SmppClient.from_url(smsc.url)]) as dispatcher,
    ):
        outcome = await dispatcher.send(sms("8613800130002"))
        first, second = await events(dispatcher, 2)
        await nothing_more(dispatcher, 0.1)
    assert (
        isinstance(outcome, Sent)
        and isinstance(first, DeliveryReceipt)
        and isinstance(second, DeliveryReceipt)
    )
    assert (first.state, first.final, first.message_id) == (DeliveryState.ACCEPTED, False, outcome.message.id)
    assert (second.state, second.final, second.message_id) == (D, True, outcome.message.id)


async def test_acceptd_is_final_where_the_profile_says_so() -> None:
    scenario = SmscScenario(acceptd_first=True, receipt_delay=0.05)
    async with SmscSimulator(scenario=scenario) as smsc:
        client = SmppClient.from_url(smsc.url + "?acceptd_state=delivered")
        async with Dispatcher([client]) as dispatcher:
            await dispatcher.send(sms("8613800130003"))
            (only,) = await events(dispatcher, 1)
            await nothing_more(dispatcher, 0.15)  # the later DELIVRD does not report a second time
    assert isinstance(only, DeliveryReceipt) and only.state is D and only.detail["message_state"] == 6


async def test_failure_only_receipts_and_silence_means_delivered() -> None:
    scenario = SmscScenario(seed=11, outcomes={D: 1.0, U: 1.0}, receipt_delay=0.01)  # jookies/jasmin#183
    tracker = ReceiptTracker(receipt_timeout=timedelta(seconds=0.4))
    async with SmscSimulator(scenario=scenario) as smsc:
        client = SmppClient.from_url(smsc.url + "?registered_delivery=2")
        async with Dispatcher([client], tracker=tracker, expiry_check=0.05) as dispatcher:
            sent = await dispatcher.send_all([sms(f"86138001{i:05d}") for i in range(8)])
            got = await events(dispatcher, 8)
    truth = {
        s.message.id: DeliveryState(r["receipt_state"])
        for s, r in zip(sent, smsc.recorder.records, strict=True)
    }
    assert all(r["esm_class"] == 0 for r in smsc.recorder.records)
    assert smsc.receipts_sent == sum(1 for s in truth.values() if s is U)  # only failures were reported
    assert {r.message_id: r.state for r in got if isinstance(r, DeliveryReceipt)} == truth
    silent = [r for r in got if isinstance(r, DeliveryReceipt) and r.state is D]
    assert silent and all(r.detail["reason"] == "receipt_timeout" for r in silent)


async def test_multipart_message_gets_one_final_receipt_worst_part_wins() -> None:
    scenario = SmscScenario(seed=5, outcomes={D: 3.0, U: 1.0}, receipt_delay=0.01)  # jookies/jasmin#1136
    body = "Long offer text for a loyal customer. " * 10  # 380 GSM characters: 3 parts
    sent, got, smsc = await send_and_collect(scenario, count=8, body=body)
    records = smsc.recorder.records
    assert all(r["parts"] == 3 and r["text"] == body for r in records)
    assert all(len(s.result.remote_ids) == 3 for s in sent)
    expected = {s.message.id: DeliveryState(r["receipt_state"]) for s, r in zip(sent, records, strict=True)}
    assert {r.message_id: r.state for r in got} == expected
    assert any(U.value in r["receipt_states"] and D.value in r["receipt_states"] for r in records)
    assert all(len(r.detail["parts"]) == 3 for r in got)


@pytest.mark.parametrize("timeout_state", [X, DeliveryState.UNKNOWN])
async def test_no_receipt_by_the_deadline_is_reported_once(timeout_state: DeliveryState) -> None:
    tracker = ReceiptTracker(receipt_timeout=timedelta(seconds=0.2), timeout_state=timeout_state)
    async with (
        SmscSimulator(scenario=SmscScenario(receipts=False)) as smsc,
        Dispatcher([SmppClient.from_url(smsc.url)], tracker=tracker, expiry_check=0.05) as dispatcher,
    ):
        sent = await dispatcher.send_all([sms("8613800130004"), sms("8613800130005")])
        got = await events(dispatcher, 2)
        await nothing_more(dispatcher, 0.3)
    assert all(isinstance(r, DeliveryReceipt) and r.state is timeout_state for r in got)
    assert {r.message_id for r in got if isinstance(r, DeliveryReceipt)} == {s.message.id for s in sent}


async def test_a_restarted_process_still_correlates(tmp_path: Path) -> None:
    db = tmp_path / "receipts.db"
    scenario = SmscScenario(receipt_delay=0.3, receipt_ids=IdStyle(base=10))
    url_query = "?id_profile=resp-hex-dlr-dec"
    async with SmscSimulator(scenario=scenario) as smsc:
        with SqliteReceiptStore(db) as store:
            async with Dispatcher(
                [SmppClient.from_url(smsc.url + url_query)], tracker=ReceiptTracker(store=store)
            ) as first:
                outcome = await first.send(sms("8613800130006"))
        # the first process is gone (unbound) before its receipt: the SMSC keeps it for the next bind
        await asyncio.sleep(0.35)
        with SqliteReceiptStore(db) as store:
            async with Dispatcher(
                [SmppClient.from_url(smsc.url + url_query)], tracker=ReceiptTracker(store=store)
            ) as second:
                await second.channel(ChannelKind.SMS).connect()  # type: ignore[attr-defined]
                (receipt,) = await events(second, 1)
    assert isinstance(outcome, Sent)
    assert (
        isinstance(receipt, DeliveryReceipt)
        and receipt.message_id == outcome.message.id
        and receipt.state is D
    )


async def test_receipts_are_never_taken_for_subscriber_replies() -> None:
    scenario = SmscScenario(receipt_delay=0.01)
    async with (
        SmscSimulator(scenario=scenario) as smsc,
        Dispatcher([SmppClient.from_url(smsc.url)]) as dispatcher,
    ):
        sent = await dispatcher.send(sms("8613800130007"))
        (receipt,) = await events(dispatcher, 1)
        lookalike = (
            "id:1A2B sub:001 dlvrd:001 submit date:2511231540 done date:2511231541 stat:DELIVRD err:000"
        )
        smsc.send_mo("8613800130007", "10690001", lookalike)  # a subscriber typing a receipt (esm 0)
        intermediate = codec.make(
            CommandId.DELIVER_SM,
            source_addr="8613800130007",
            destination_addr="10690001",
            esm_class=EsmClass.INTERMEDIATE_NOTIFICATION,
            tlvs={Tag.RECEIPTED_MESSAGE_ID: b"ZZZ\x00", Tag.MESSAGE_STATE: b"\x01"},
        )
        smsc.deliver(intermediate)
        (reply,) = await events(dispatcher, 1)
        await nothing_more(dispatcher, 0.1)
        assert dispatcher.tracker.parked == 1  # the intermediate notification went the receipt way
    assert (
        isinstance(sent, Sent)
        and isinstance(receipt, DeliveryReceipt)
        and receipt.message_id == sent.message.id
    )
    assert isinstance(reply, InboundMessage) and reply.text == lookalike  # farhadi/node-smpp#140


async def test_a_receipt_right_behind_its_response_finds_its_message_tracked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The SMSC writes each receipt right after its submit_sm_resp, while the rest of the chunk is
    # still unanswered: the message is tracked as its response is read (BatchChannel.on_accepted),
    # so no receipt waits parked for its chunk, and every one is correlated.
    parked: list[object] = []
    real_park = ReceiptTracker._park
    monkeypatch.setattr(ReceiptTracker, "_park", lambda self, *a: parked.append(a) or real_park(self, *a))
    messages = [sms(f"86139{i:08d}") for i in range(200)]
    async with (
        SmscSimulator(scenario=SmscScenario(receipt_delay=0.0)) as smsc,
        Dispatcher([SmppClient.from_url(smsc.url + "?window=64")]) as dispatcher,
    ):
        outcomes = [o async for o in dispatcher.send_many(messages, concurrency=64)]
        got = await events(dispatcher, len(messages))
    assert all(isinstance(o, Sent) for o in outcomes)
    assert sorted(r.message_id or "" for r in got if isinstance(r, DeliveryReceipt)) == sorted(
        m.id for m in messages
    )
    assert parked == []
