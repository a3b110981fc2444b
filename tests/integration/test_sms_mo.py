"""Subscriber replies (MO) over real sockets: the SMSC simulator sends deliver_sm, our SmppClient turns
them into InboundMessage through the Dispatcher. Concatenated MO in every method, every data_coding
(including GSM labelled dcs 1 and parts cut inside an escape or a surrogate pair by the sender), opt-out
keywords matched full-width, and the simulator's seeded share of recipients replying."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from channels import (
    ChannelKind,
    Dispatcher,
    InboundMessage,
    Message,
    Sent,
    Text,
)
from channels.content import TextEncoding
from channels.smpp import pdu as codec
from channels.smpp.client import SmppClient
from channels.smpp.concat import ConcatMethod, build_udh
from channels.smpp.constants import CommandId, EsmClass, Iei
from channels.smpp.pdu import Pdu
from simulators.smsc import SmscScenario, SmscSimulator
from simulators.smsc_mo import ReplyPlan, mo_pdus

SHORT_CODE = "10690001"
HANDSET = "8613800138000"


def deliver(short_message: bytes, data_coding: int, *, udh: bytes = b"") -> Pdu:
    return codec.make(
        CommandId.DELIVER_SM,
        source_addr=HANDSET,
        destination_addr=SHORT_CODE,
        esm_class=EsmClass.UDHI if udh else 0,
        data_coding=data_coding,
        short_message=udh + short_message,
    )


def concat(ref: int, total: int, seq: int) -> bytes:
    return build_udh([(Iei.CONCAT_8, bytes((ref, total, seq)))])


async def replies_to(
    pdus: Sequence[Pdu] = (), texts: Sequence[str] = (), query: str = ""
) -> list[InboundMessage]:
    """Deliver ``pdus`` (one message) and ``texts`` (send_mo) to a bound client; the InboundMessages."""
    async with SmscSimulator() as smsc, Dispatcher([SmppClient.from_url(smsc.url + query)]) as dispatcher:
        await dispatcher.channel(ChannelKind.SMS).connect()  # type: ignore[attr-defined]
        for pdu in pdus:
            smsc.deliver(pdu)
        for text in texts:
            smsc.send_mo(HANDSET, SHORT_CODE, text)
        count = len(texts) + (1 if pdus else 0)
        out = [await dispatcher.next_event(5) for _ in range(count)]
    assert all(isinstance(e, InboundMessage) for e in out)
    return out  # type: ignore[return-value]


@pytest.mark.parametrize("method", list(ConcatMethod))
async def test_concatenated_reply_is_reassembled_in_every_method(method: ConcatMethod) -> None:
    text = "退订请回复TD。" + "感谢您参与本次活动，" * 15  # 158 UCS-2 units: 3 parts
    async with SmscSimulator() as smsc, Dispatcher([SmppClient.from_url(smsc.url)]) as dispatcher:
        await dispatcher.channel(ChannelKind.SMS).connect()  # type: ignore[attr-defined]
        pdus = smsc.send_mo(HANDSET, SHORT_CODE, text, method=method)
        reply = await dispatcher.next_event(5)
    assert isinstance(reply, InboundMessage)
    assert (reply.text, reply.sender, reply.recipient) == (text, HANDSET, SHORT_CODE)
    assert reply.detail["parts"] == len(pdus) == (1 if method is ConcatMethod.PAYLOAD else 3)
    assert reply.detail["data_coding"] == 8


@pytest.mark.parametrize(
    ("short_message", "data_coding", "text"),
    [
        (b"\x1b\x6510 \x00home", 0, "€10 @home"),  # GSM 03.38: escape pair, and @ is 0x00
        (b"\x1b\x6510 \x00home", 1, "€10 @home"),  # GSM septets labelled IA5 (node-smpp default)
        (b"Hello from node", 1, "Hello from node"),  # real IA5
        ("café".encode("latin-1"), 3, "café"),
        ("退订".encode("utf-16-be"), 8, "退订"),
        ("😀 ok".encode("utf-16-be"), 8, "😀 ok"),
    ],
)
async def test_reply_text_is_decoded_by_data_coding(
    short_message: bytes, data_coding: int, text: str
) -> None:
    (reply,) = await replies_to([deliver(short_message, data_coding)])
    assert reply.text == text and reply.detail["data_coding"] == data_coding


async def test_parts_cut_inside_an_escape_or_a_surrogate_pair_by_the_sender_are_joined() -> None:
    # opentelecoms-org/jsmpp#141, futomi/node-sms-pdu#4: other senders do cut pairs; reassembly is bytewise
    gsm = [deliver(b"Price: \x1b", 0, udh=concat(7, 2, 1)), deliver(b"\x65 5", 0, udh=concat(7, 2, 2))]
    emoji = "😀".encode("utf-16-be")
    ucs2 = [
        deliver("ok ".encode("utf-16-be") + emoji[:2], 8, udh=concat(8, 2, 1)),
        deliver(emoji[2:] + " !".encode("utf-16-be"), 8, udh=concat(8, 2, 2)),
    ]
    async with SmscSimulator() as smsc, Dispatcher([SmppClient.from_url(smsc.url)]) as dispatcher:
        await dispatcher.channel(ChannelKind.SMS).connect()  # type: ignore[attr-defined]
        for pdu in [gsm[1], ucs2[0], gsm[0], ucs2[1]]:  # interleaved and out of order
            smsc.deliver(pdu)
        first, second = [await dispatcher.next_event(5) for _ in range(2)]
    assert isinstance(first, InboundMessage) and isinstance(second, InboundMessage)
    assert first.text == "Price: € 5" and second.text == "ok 😀 !"


OPT_OUT = [
    ("STOP", True, "stop"),
    ("ｓｔｏｐ", True, "stop"),  # full-width
    (" Stop! ", True, "stop"),
    ("TD", True, "td"),
    ("ＴＤ", True, "td"),
    ("退订", True, "退订"),
    ("88", False, "88"),
    ("８８", False, "88"),
    ("88 yes please", False, "88 yes please"),
]


async def test_opt_out_keywords_are_recognised_through_the_dispatcher() -> None:
    replies = await replies_to(texts=[t for t, _, _ in OPT_OUT])
    assert [(r.opt_out, r.keyword) for r in replies] == [(o, k) for _, o, k in OPT_OUT]


async def test_opt_out_keywords_are_configurable_per_gateway() -> None:
    replies = await replies_to(
        texts=["UNSUB", "ｕｎｓｕｂ", "STOP"], query="?opt_out_keywords=unsub,取消订阅"
    )
    assert [r.opt_out for r in replies] == [True, True, False]


async def test_a_share_of_recipients_reply_after_a_delay() -> None:
    replies = {"88": 1.0, "８８": 1.0}
    scenario = SmscScenario(seed=21, receipts=False, reply_rate=0.3, replies=replies, reply_delay=0.05)
    recipients = [f"86139{i:08d}" for i in range(40)]
    plan = ReplyPlan(21, 0.3, replies)
    expected = {r: t for r in recipients if (t := plan.reply_for(r)) is not None}
    assert 4 <= len(expected) <= 20 and set(expected.values()) == {"88", "８８"}
    async with (
        SmscSimulator(scenario=scenario) as smsc,
        Dispatcher([SmppClient.from_url(smsc.url)]) as dispatcher,
    ):
        messages = [
            Message(to=r, kind=ChannelKind.SMS, content=Text(body="Reply 88 to win"), sender=SHORT_CODE)
            for r in recipients
        ]
        outcomes = await dispatcher.send_all(messages, concurrency=8)
        got = [await dispatcher.next_event(5) for _ in expected]
        with pytest.raises(TimeoutError):
            await dispatcher.next_event(0.2)  # each replier once, nobody else
    assert all(isinstance(o, Sent) for o in outcomes)
    assert all(isinstance(e, InboundMessage) for e in got)
    assert {e.sender: e.text for e in got if isinstance(e, InboundMessage)} == expected
    assert {(e.recipient, e.keyword) for e in got if isinstance(e, InboundMessage)} == {(SHORT_CODE, "88")}
    assert len(smsc.mo) == len(expected)


async def test_a_long_reply_arrives_whole() -> None:
    long_reply = "Yes please, send me the details about the spring offer for my family. " * 3
    scenario = SmscScenario(receipts=False, reply_rate=1.0, replies={long_reply: 1}, reply_delay=0.01)
    async with (
        SmscSimulator(scenario=scenario) as smsc,
        Dispatcher([SmppClient.from_url(smsc.url)]) as dispatcher,
    ):
        await dispatcher.send(
            Message(to=HANDSET, kind=ChannelKind.SMS, content=Text(body="Offer"), sender=SHORT_CODE)
        )
        reply = await dispatcher.next_event(5)
    assert isinstance(reply, InboundMessage) and reply.text == long_reply and reply.detail["parts"] == 2
    assert smsc.mo == [{"source": HANDSET, "destination": SHORT_CODE, "text": long_reply, "parts": 2}]


async def test_a_reply_can_be_forced_to_ucs2() -> None:
    (reply,) = await replies_to(mo_pdus(HANDSET, SHORT_CODE, "plain", encoding=TextEncoding.UCS2))
    assert reply.text == "plain" and reply.detail["data_coding"] == 8
