"""The SMSC simulator's fast path (simulators.smsc_fast) against its general path: the same reads, fed
to a simulator with and without the connection's frame hook, must write the same octets, records,
counters and query_sm states, in every receipt variant, while the fast run really takes the plain
frames and leaves the rest (parts, TLVs, UDH, data_sm, malformed bodies, error statuses, other
commands) to the general path. Plus the two connection primitives the fast path stands on."""

from __future__ import annotations

import asyncio
import struct
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from channels.results import DeliveryState
from channels.smpp import pdu as codec
from channels.smpp.connection import Role, SessionConfig, SmppConnection, State
from channels.smpp.constants import CommandId, Tag
from channels.smpp.dlr import ReceiptStyle
from simulators import SmscScenario, SmscSimulator
from simulators.smsc_scenario import IdStyle, ReceiptForm

C = CommandId
H = struct.Struct(">IIII")
FIXED = datetime(2025, 11, 23, 15, 40, 7, 123456, tzinfo=UTC).timestamp()
D, U, X = DeliveryState.DELIVERED, DeliveryState.UNDELIVERABLE, DeliveryState.EXPIRED


class Wire(asyncio.Transport):
    """Collects what the simulator writes."""

    def __init__(self) -> None:
        super().__init__()
        self.out = bytearray()
        self.written = bytearray()

    def write(self, data: Any) -> None:
        self.out += data
        self.written += data

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass

    def is_closing(self) -> bool:
        return False

    def take(self) -> bytes:
        data = bytes(self.out)
        self.out.clear()
        return data


def frame(command_id: int, seq: int, tlvs: dict[int, bytes] | None = None, **params: Any) -> bytes:
    return codec.encode(codec.make(command_id, seq, tlvs=tlvs, **params))


def submit(seq: int, destination: str, text: bytes, **params: Any) -> bytes:
    fields: dict[str, Any] = {
        "source_addr_ton": 1,
        "source_addr_npi": 1,
        "source_addr": "12345",
        "dest_addr_ton": 1,
        "dest_addr_npi": 1,
        "destination_addr": destination,
        "registered_delivery": 1,
        "short_message": text,
    }
    tlvs = params.pop("tlvs", None)
    return frame(C.SUBMIT_SM, seq, tlvs, **{**fields, **params})


def plain_read(seq: int) -> list[bytes]:
    """Submits the fast path takes: one part, no TLVs, no UDH; receipts asked for or not."""
    return [
        submit(seq, "8613800000000", b"hi"),
        submit(
            seq + 1, "447700900123", "价格 ok offer".encode("utf-16-be"), data_coding=8, source_addr="ACME"
        ),
        submit(seq + 2, "8613800000001", b"no receipt", registered_delivery=0),
        submit(seq + 3, "8613800000002", b"failure only", registered_delivery=2),
        submit(seq + 4, "8613800000003", "café très".encode("latin-1"), data_coding=3, service_type="CMT"),
        submit(seq + 5, "8613800000004", b"x" * 160, validity_period="000001000000000R", esm_class=0x03),
        submit(seq + 6, "8613800000005", b"", registered_delivery=0x11),
        submit(seq + 7, "8613800000006", b"@$\x1b\x14{} gsm escapes"),
    ]


def other_read(seq: int) -> list[bytes]:
    """Frames the fast path leaves to the general path."""
    sar = {Tag.SAR_MSG_REF_NUM: b"\x00\x09", Tag.SAR_TOTAL_SEGMENTS: b"\x02"}
    bad = bytearray(submit(seq + 8, "8613800000009", b"short"))
    bad[-6] = 200  # sm_length past the end of the PDU: ESME_RINVMSGLEN from the general path
    return [
        submit(seq, "8613800000010", b"\x05\x00\x03\x07\x02\x01part one ", esm_class=0x40),
        submit(seq + 1, "8613800000010", b"\x05\x00\x03\x07\x02\x02part two", esm_class=0x40),
        submit(seq + 2, "8613800000011", b"sar one ", tlvs={**sar, Tag.SAR_SEGMENT_SEQNUM: b"\x01"}),
        submit(seq + 3, "8613800000011", b"sar two", tlvs={**sar, Tag.SAR_SEGMENT_SEQNUM: b"\x02"}),
        submit(seq + 4, "8613800000012", b"", tlvs={Tag.MESSAGE_PAYLOAD: b"payload " * 40}),
        frame(C.DATA_SM, seq + 5, {Tag.MESSAGE_PAYLOAD: b"data"}, destination_addr="8613800000013"),
        frame(C.QUERY_SM, seq + 6, message_id="E999F21", source_addr="12345"),
        H.pack(16, C.SUBMIT_SM, 0x45, seq + 7),  # a submit_sm with a command_status and no body
        bytes(bad),
        submit(seq + 9, "8613800000014", b"after the general frames: general too"),
    ]


async def run(
    scenario: SmscScenario,
    reads: list[list[bytes]],
    *,
    fast: bool,
    wait: float = 0.0,
    drop: bool = False,
    after: float = 0.0,
) -> dict[str, Any]:
    """Bind as transceiver, feed ``reads`` one after another (``wait`` seconds apart), each followed
    by the deliver_sm_resps for the receipts of the previous one; returns what came out. ``drop``:
    the connection is lost right after the last read; ``after``: seconds to wait at the end."""
    async with SmscSimulator(accounts={"bench": "secret"}, scenario=scenario) as smsc:
        smsc.clock.time = lambda: FIXED
        proto = smsc._new_session()
        (session,) = smsc._sessions
        taken: Counter[int] = Counter()  # frames the fast path handled, by command_id
        hook = session.conn.frame_hook
        assert hook is not None

        def counting(raw: bytes, now: float) -> bool:
            handled = hook(raw, now)
            if handled:
                taken[H.unpack_from(raw)[1]] += 1
            return handled

        session.conn.frame_hook = counting if fast else None
        wire = Wire()
        proto.connection_made(wire)
        bind = frame(C.BIND_TRANSCEIVER, 1, system_id="bench", password="secret", interface_version=0x34)
        proto.data_received(bind)
        answers = b""
        for read in [*reads, []]:
            proto.data_received(answers + b"".join(read))
            await settle(session, wait)
            answers = b"".join(deliver_sm_resps(wire.take()))
        if drop:
            proto.connection_lost(None)
        else:
            proto.data_received(answers)
        await settle(session, after)
        (account,) = smsc.accounts.values()
        return {
            "backlog": [codec.encode(pdu) for pdu in account.backlog],
            "written": bytes(wire.written),
            "records": smsc.recorder.records,
            "stats": smsc.stats(),
            "messages": smsc.messages,
            "taken": taken,
            "in_flight": session.conn.in_flight,
        }


async def settle(session: Any, seconds: float) -> None:
    """Wait ``seconds``, and then (if any) until no receipt is left in the session's queue of due
    calls: a loaded machine may run the timer late."""
    await asyncio.sleep(seconds)
    for _ in range(400 if seconds else 0):
        if not session._due:
            break
        await asyncio.sleep(0.005)
    await asyncio.sleep(0)


def deliver_sm_resps(data: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos < len(data):
        length, command_id, _, seq = H.unpack_from(data, pos)
        if command_id == C.DELIVER_SM:
            out.append(H.pack(17, C.DELIVER_SM_RESP, 0, seq) + b"\x00")
        pos += length
    return out


SCENARIOS = [
    SmscScenario(receipt_delay=0.0),
    SmscScenario(receipt_delay=0.0, seed=7, outcomes={D: 0.6, U: 0.2, X: 0.2}),
    SmscScenario(receipt_delay=0.0, receipt_form=ReceiptForm.TLV),
    SmscScenario(receipt_delay=0.0, receipt_form=ReceiptForm.TEXT, hex_ids=False),
    SmscScenario(
        receipt_delay=0.0,
        receipt_data_coding=8,  # UCS-2: the longer texts go in message_payload
        receipt_date_digits=14,
        receipt_style=ReceiptStyle(upper_keys=True, lower_stat=True, extra=(("operator", "46000"),)),
    ),
    SmscScenario(
        receipt_delay=0.0,
        receipt_style=ReceiptStyle(omit=frozenset({"sub", "dlvrd", "text"}), text_key="Text"),
        response_ids=IdStyle(width=10, lower=True),
        receipt_ids=IdStyle(base=10, width=12),
    ),
    SmscScenario(
        receipt_delay=0.0, receipt_vendor_tlvs={0x1400: b"\x01\x02", Tag.RECEIPTED_MESSAGE_ID: b"v\x00"}
    ),
    # no id in the text (the preview is the shape's only marker), a "%" among its octets
    SmscScenario(
        receipt_delay=0.0, receipt_style=ReceiptStyle(omit=frozenset({"id"}), extra=(("share", "50%"),))
    ),
    SmscScenario(
        receipt_delay=0.0, receipt_data_coding=8, receipt_style=ReceiptStyle(omit=frozenset({"text"}))
    ),
    SmscScenario(receipts=False),
    SmscScenario(receipt_delay=0.0, error_every=3, error_status=0x58),
    SmscScenario(receipt_delay=0.0, max_tps=5),  # most of each read throttled
]


@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_fast_and_general_paths_write_the_same(scenario: SmscScenario) -> None:
    reads = [plain_read(10), other_read(100), plain_read(200), plain_read(300)]
    fast = await run(scenario, reads, fast=True)
    general = await run(scenario, reads, fast=False)
    assert fast["written"] == general["written"]
    assert fast["records"] == general["records"]
    assert fast["stats"] == general["stats"]
    assert fast["messages"] == general["messages"]
    # read 2: two two-part messages, message_payload, data_sm, the bodiless submit, the last one
    refusing = scenario.error_every or scenario.max_tps
    assert len(fast["records"]) == 3 * 8 + 6 if not refusing else 0 < len(fast["records"]) < 3 * 8
    assert (fast["stats"]["throttled"] > fast["stats"]["submits"] // 2) is bool(scenario.max_tps)
    assert not general["taken"]
    # every plain submit of reads 1, 3 and 4; none of read 2, whose first frame is a UDH part
    assert fast["taken"][C.SUBMIT_SM] == 3 * 8
    # every deliver_sm_resp that leads a read (all of them but those after read 2's query_sm)
    assert fast["taken"][C.DELIVER_SM_RESP] > (
        fast["stats"]["receipts_sent"] // 2 if scenario.receipts else -1
    )
    assert fast["in_flight"] == general["in_flight"] == 0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=hs.integers(0, 7),
    edits=hs.lists(hs.tuples(hs.integers(16, 200), hs.integers(0, 255)), max_size=3),
    cut=hs.integers(-8, 4),
)
def test_damaged_submits_are_read_alike_both_ways(which: int, edits: list[tuple[int, int]], cut: int) -> None:
    """Plain submits with octets overwritten (NULs moved into or out of the C-Octet strings, esm_class
    with UDHI, sm_length off) or the body cut or grown, command_length kept true: what the fast path
    takes and what it leaves to the general path (which answers an error) come out the same."""
    damaged = bytearray(plain_read(10)[which])
    for at, octet in edits:
        if at < len(damaged):
            damaged[at] = octet
    damaged = damaged[: len(damaged) + cut] if cut < 0 else damaged + b"\x00" * cut
    struct.pack_into(">I", damaged, 0, len(damaged))
    reads = [[bytes(damaged), submit(20, "8613800000009", b"after")]]
    scenario = SmscScenario(receipt_delay=0.0)
    fast = asyncio.run(run(scenario, reads, fast=True))
    general = asyncio.run(run(scenario, reads, fast=False))
    assert fast["written"] == general["written"]
    assert fast["records"] == general["records"]
    assert fast["stats"] == general["stats"]


@pytest.mark.parametrize("window", [512, 2])
async def test_delayed_receipts_are_the_same_both_ways(window: int) -> None:
    """Receipts after a delay wait in the session's queue of due calls, one timer for them all; with
    window 2 most find the window full when due and take the general routing, as a Pdu."""
    scenario = SmscScenario(receipt_delay=0.01, window=window, seed=3, outcomes={D: 0.5, U: 0.5})
    reads = [plain_read(10), other_read(100), plain_read(200)]
    fast = await run(scenario, reads, fast=True, wait=0.04, after=0.04)
    general = await run(scenario, reads, fast=False, wait=0.04, after=0.04)
    assert fast["written"] == general["written"]
    assert fast["records"] == general["records"]
    assert fast["stats"] == general["stats"]
    # with window 2, read 3 opens with deliver_sm_resps for which receipts wait: the general path
    # answers them (and pumps the queue), then the rest of that read
    assert fast["taken"][C.SUBMIT_SM] == (2 * 8 if window > 2 else 8)
    assert fast["stats"]["receipts_sent"] == general["stats"]["receipts_sent"] > 0


async def test_receipts_due_after_a_drop_wait_in_the_backlog_both_ways() -> None:
    scenario = SmscScenario(receipt_delay=0.01)
    fast = await run(scenario, [plain_read(10)], fast=True, drop=True, after=0.03)
    general = await run(scenario, [plain_read(10)], fast=False, drop=True, after=0.03)
    assert fast["taken"][C.SUBMIT_SM] == 8
    assert len(fast["backlog"]) == 6  # the eight submits but registered_delivery 0 and 2 (delivered)
    assert fast["backlog"] == general["backlog"]
    assert fast["written"] == general["written"]


async def test_window_full_takes_the_general_path() -> None:
    """With window 2 most receipts wait in the queue: those submits, and the deliver_sm_resps that
    free the window for them, go the general way; the octets are still the same."""
    scenario = SmscScenario(receipt_delay=0.0, window=2)
    reads = [plain_read(10), plain_read(100), plain_read(200)]
    fast = await run(scenario, reads, fast=True)
    general = await run(scenario, reads, fast=False)
    assert fast["written"] == general["written"]
    assert fast["records"] == general["records"]
    assert 0 < fast["taken"][C.SUBMIT_SM] < 3 * 8


@pytest.mark.parametrize(
    "scenario",
    [
        SmscScenario(receipt_delay=0.0, drop_after=30),
        SmscScenario(receipt_delay=0.0, stall_after=30, stall_for=0.01),
        SmscScenario(receipt_delay=0.0, acceptd_first=True),
        SmscScenario(receipt_first=True),
        SmscScenario(receipt_delay=0.0, response_latency=0.01),
    ],
)
async def test_scenarios_with_timing_or_trouble_take_the_general_path(scenario: SmscScenario) -> None:
    result = await run(scenario, [plain_read(10)], fast=True)
    assert result["stats"]["submits"] == 8
    assert result["taken"][C.SUBMIT_SM] == 0


async def test_fast_path_answers_in_frame_order() -> None:
    """submit_sm, enquire_link: the submit_sm_resp (and its receipt) come before the enquire_link_resp.
    The general path answers enquire_link while it decodes a read, before the read's requests."""
    scenario = SmscScenario(receipt_delay=0.0)
    read = [submit(10, "8613800000000", b"hi"), H.pack(16, C.ENQUIRE_LINK, 0, 11)]
    result = await run(scenario, [read], fast=True)
    written = result["written"]
    commands, pos = [], 0
    while pos < len(written):
        length, command_id, _, _ = H.unpack_from(written, pos)
        commands.append(command_id)
        pos += length
    assert commands == [C.BIND_TRANSCEIVER_RESP, C.SUBMIT_SM_RESP, C.DELIVER_SM, C.ENQUIRE_LINK_RESP]


def bound_smsc() -> SmppConnection:
    conn = SmppConnection(Role.SMSC, SessionConfig(window=4))
    bind = frame(C.BIND_TRANSCEIVER, 1, system_id="a", password="b")
    (event,) = conn.receive_data(bind, 0.0)
    conn.accept_bind(event.pdu, "SMSC", 0.0)  # type: ignore[union-attr]
    conn.data_to_send()
    return conn


def test_frame_hook_sees_frames_until_an_event_and_settle_returns_credit() -> None:
    conn = bound_smsc()
    seq = conn.send_request(codec.make(C.DELIVER_SM, short_message=b"r"), 0.0)
    assert conn.in_flight == 1
    seen: list[int] = []

    def hook(raw: bytes, now: float) -> bool:
        _, command_id, _, sequence = H.unpack_from(raw)
        seen.append(command_id)
        return command_id == C.DELIVER_SM_RESP and conn.settle_response(command_id, sequence)

    conn.frame_hook = hook
    resp = H.pack(17, C.DELIVER_SM_RESP, 0, seq) + b"\x00"
    query = frame(C.QUERY_SM, 5, message_id="1")
    events = conn.receive_data(resp + query + resp, 1.0)
    # the first resp settled (no event); the query is an event; the second resp (now unknown) was
    # not offered to the hook but decoded, and reported
    assert seen == [C.DELIVER_SM_RESP, C.QUERY_SM]
    assert conn.in_flight == 0
    assert [type(e).__name__ for e in events] == ["RequestReceived", "ProtocolViolation"]
    assert conn.state is State.BOUND_TRX


def test_settle_response_refuses_what_does_not_match() -> None:
    conn = bound_smsc()
    seq = conn.send_request(codec.make(C.DELIVER_SM, short_message=b"r"), 0.0)
    assert not conn.settle_response(C.DELIVER_SM_RESP, seq + 1)  # no such request
    assert not conn.settle_response(C.DATA_SM_RESP, seq)  # not what it answers
    assert conn.in_flight == 1
    assert conn.settle_response(C.DELIVER_SM_RESP, seq)
    assert not conn.settle_response(C.DELIVER_SM_RESP, seq)  # already answered
    assert conn.in_flight == 0
