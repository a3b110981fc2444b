"""WAP push end to end over real sockets: PapClient → PPG simulator → SMSC simulator, and direct mode
(WapSmppChannel → SMSC simulator), through the Dispatcher with receipts. The handset's view is decoded
from the submit_sm PDUs the SMSC received (UDH ports → WSP → WBXML → SI/SL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from channels.content import WapPush, WapPushKind
from channels.dispatch import Dispatcher, RetrySettings
from channels.message import ChannelKind, Message
from channels.results import DeliveryReceipt, DeliveryState, Sent
from channels.smpp.constants import Tag
from channels.smpp.pdu import Pdu
from channels.wap.client import PapClient
from channels.wap.direct import WapSmppChannel
from channels.wap.push import decode_datagram, handset_view
from channels.wap.wdp import Reassembler, parse_user_data
from simulators.ppg import PpgSimulator
from simulators.smsc import SmscScenario, SmscSimulator

FIXTURES = Path(__file__).parent.parent / "fixtures" / "wap"
PROMO = WapPush(
    href="http://example.com/promo", text="Weekend offer", si_id="promo-1", action="signal-medium"
)
LONG = WapPush(
    href="https://example.org/statements/2024/01/index.html",
    text=("Your monthly statement is ready. " * 5).strip(),
    si_id="stmt-1",
)
NO_RETRY = RetrySettings(attempts=1)


class CapturingSmsc(SmscSimulator):
    """Our SMSC simulator, keeping each submit_sm it recorded so the test can decode the bytes."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pdus: list[Pdu] = []

    def _record(self, session: Any, pdu: Pdu, message_id: str, state: DeliveryState) -> None:
        self.pdus.append(pdu)
        super()._record(session, pdu, message_id, state)

    def handset(self) -> list[dict[str, Any]]:
        """What each destination's handset shows, in arrival order."""
        reassembler, shown = Reassembler(), []
        for pdu in self.pdus:
            data = parse_user_data(pdu.get("short_message"))
            assert data.is_wap_push
            whole = reassembler.feed(pdu.get("destination_addr"), data, datetime.now(UTC))
            if whole is not None:
                shown.append({"to": pdu.get("destination_addr"), **handset_view(whole)["wap"]})
        return shown


def load_hex(name: str) -> bytes:
    lines = (FIXTURES / name).read_text().splitlines()
    return bytes.fromhex(" ".join(line for line in lines if not line.startswith("#")))


def wap(to: str, content: WapPush, id: str) -> Message:
    return Message(to=to, kind=ChannelKind.WAP_PUSH, content=content, id=id)


@pytest.fixture
async def smsc() -> AsyncIterator[CapturingSmsc]:
    async with CapturingSmsc(scenario=SmscScenario(receipt_delay=0.01)) as sim:
        yield sim


async def test_pap_client_to_ppg_to_smsc(smsc: CapturingSmsc) -> None:
    async with PpgSimulator(smsc=smsc.url) as ppg:
        client = PapClient.from_url(ppg.url + "?notify=127.0.0.1:0")
        async with Dispatcher([client], retry=NO_RETRY) as dispatcher:
            outcome = await dispatcher.send(wap("+15551234567", PROMO, "promo-msg"))
            assert isinstance(outcome, Sent)
            receipt = await dispatcher.next_event(timeout=5)
    assert isinstance(receipt, DeliveryReceipt)
    assert (receipt.message_id, receipt.state) == ("promo-msg", DeliveryState.DELIVERED)
    [pdu] = smsc.pdus
    assert (pdu.get("source_addr"), pdu.get("destination_addr")) == ("1234", "15551234567")
    assert (pdu.get("esm_class"), pdu.get("data_coding")) == (0x40, 0x04)
    assert pdu.get("short_message") == load_hex("kannel_si_promo_sm.hex")  # byte for byte as Kannel
    [shown] = smsc.handset()
    assert (shown["href"], shown["text"], shown["si_id"]) == (PROMO.href, PROMO.text, PROMO.si_id)
    [record] = smsc.recorder.records
    assert (record["destination"], record["data_coding"], record["parts"]) == ("15551234567", 4, 1)
    assert ppg.stats() == {"accepted": 1, "refused": 0, "forwarded": 1, "notified": 1}


async def test_long_si_two_segments_via_ppg(smsc: CapturingSmsc) -> None:
    async with PpgSimulator(smsc=smsc.url) as ppg:
        client = PapClient.from_url(ppg.url + "?notify=127.0.0.1:0")
        async with client:
            await client.send(wap("8613800000000", LONG, "long-1"))
            receipt = await anext(aiter(client.events()))
    assert isinstance(receipt, DeliveryReceipt) and receipt.state is DeliveryState.DELIVERED
    first, second = smsc.pdus
    assert first.get("short_message")[:9] == bytes.fromhex("0b 05 04 0b 84 23 f0 00 03")
    assert (
        first.get("short_message")[10:12] == b"\x02\x01" and second.get("short_message")[10:12] == b"\x02\x02"
    )
    assert len(first.get("short_message")) == 140
    assert first.tlvs == {Tag.MORE_MESSAGES_TO_SEND: b"\x01"} and second.tlvs == {}
    [shown] = smsc.handset()
    assert (shown["to"], shown["href"], shown["text"]) == ("8613800000000", LONG.href, LONG.text)
    [record] = smsc.recorder.records
    assert record["parts"] == 2


async def test_undeliverable_sms_becomes_an_undeliverable_notification() -> None:
    scenario = SmscScenario(receipt_delay=0.01, outcomes={DeliveryState.UNDELIVERABLE: 1.0})
    async with SmscSimulator(scenario=scenario) as smsc, PpgSimulator(smsc=smsc.url) as ppg:
        client = PapClient.from_url(ppg.url + "?notify=127.0.0.1:0")
        async with client:
            await client.send(wap("15551234567", PROMO, "lost-1"))
            receipt = await anext(aiter(client.events()))
    assert isinstance(receipt, DeliveryReceipt)
    assert (receipt.state, receipt.detail["message_state"]) == (DeliveryState.UNDELIVERABLE, "undeliverable")


async def test_direct_mode_through_dispatcher(smsc: CapturingSmsc) -> None:
    url = smsc.url.replace("smpp://", "wap+smpp://") + "?esm_class=0x43&default_sender=ACME"
    channel = WapSmppChannel.from_url(url)
    sl = WapPush(href="http://example.com/app.jad", kind=WapPushKind.SL, action="execute-low")
    async with Dispatcher([channel], retry=NO_RETRY) as dispatcher:
        long_sent = await dispatcher.send(wap("15551234567", LONG, "d-long"))
        sl_sent = await dispatcher.send(wap("15551234567", sl, "d-sl"))
        receipts = [await dispatcher.next_event(timeout=5) for _ in range(2)]
    assert isinstance(long_sent, Sent) and long_sent.result.parts == 2
    assert isinstance(sl_sent, Sent) and sl_sent.result.parts == 1
    by_id = {r.message_id: r for r in receipts if isinstance(r, DeliveryReceipt)}
    assert {k: v.state for k, v in by_id.items()} == {
        "d-long": DeliveryState.DELIVERED,
        "d-sl": DeliveryState.DELIVERED,
    }
    assert by_id["d-long"].channel == ChannelKind.WAP_PUSH and len(by_id["d-long"].detail["parts"]) == 2
    assert {(p.get("esm_class"), p.get("data_coding"), p.get("source_addr")) for p in smsc.pdus} == {
        (0x43, 0x04, "ACME")
    }
    shown = smsc.handset()
    assert [s["kind"] for s in shown] == ["si", "sl"]
    assert (shown[0]["text"], shown[1]["href"], shown[1]["action"]) == (LONG.text, sl.href, "execute-low")
    # The WSP TID increments per push, as Kannel's does.
    tids = [decode_datagram(parse_user_data(p.get("short_message")).payload).tid for p in smsc.pdus[2:]]
    assert tids == [1]
