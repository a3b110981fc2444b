"""SmppConnection (channels.smpp.connection), both roles, sans-IO: bytes in, events and bytes out, with
explicit ``now`` values. Covers the session rules of SMPP v3.4 §2.3-§2.9 and PROTOCOLS.md §1.2-§1.5:
bind flows, auto-answers, unbind both ways, generic_nack, bad command_length, state errors, malformed
bodies, sequence wrap, the window, response timeout, keepalive, SMSC timers and arbitrary chunking."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as s

from channels.errors import LocalProtocolError
from channels.smpp import status as st
from channels.smpp.connection import (
    BindFailed,
    BindMode,
    BindRequested,
    Bound,
    Event,
    LinkDead,
    ProtocolViolation,
    RequestReceived,
    ResponseReceived,
    ResponseTimedOut,
    Role,
    SessionConfig,
    SmppConnection,
    State,
    UnbindCompleted,
    UnbindReceived,
)
from channels.smpp.constants import MAX_SEQUENCE, CommandId, Tag
from channels.smpp.pdu import Pdu, decode, encode, make

C = CommandId
QUIET = {"enquire_link_interval": 0.0, "inactivity_timeout": 0.0, "session_init_timeout": 0.0}


# -- helpers --------------------------------------------------------------------------------------


def split_pdus(data: bytes) -> list[Pdu]:
    out: list[Pdu] = []
    pos = 0
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        out.append(decode(data[pos : pos + length]))
        pos += length
    assert pos == len(data)
    return out


def state_of(c: SmppConnection) -> State:
    """The state, read through a call so that mypy does not narrow it across events."""
    return c.state


def sent(conn: SmppConnection) -> list[Pdu]:
    return split_pdus(conn.data_to_send())


def one_sent(conn: SmppConnection) -> Pdu:
    pdus = sent(conn)
    assert len(pdus) == 1, pdus
    return pdus[0]


def conn(role: Role, now: float = 0.0, **config: Any) -> SmppConnection:
    return SmppConnection(role, SessionConfig(**{**QUIET, **config}), now=now)


def bind_pair(
    mode: BindMode = BindMode.TRX,
    now: float = 0.0,
    *,
    esme_cfg: dict[str, Any] | None = None,
    smsc_cfg: dict[str, Any] | None = None,
) -> tuple[SmppConnection, SmppConnection]:
    """An ESME and an SMSC connection, bound to each other through their bytes."""
    esme = conn(Role.ESME, now, **(esme_cfg or {}))
    smsc = conn(Role.SMSC, now, **(smsc_cfg or {}))
    esme.bind(mode, "test", "secret", now)
    (req,) = smsc.receive_data(esme.data_to_send(), now)
    assert isinstance(req, BindRequested)
    smsc.accept_bind(req.pdu, "SMSC", now)
    (ev,) = esme.receive_data(smsc.data_to_send(), now)
    assert isinstance(ev, Bound)
    return esme, smsc


def submit(seq: int = 0, **params: Any) -> Pdu:
    return make(C.SUBMIT_SM, seq, destination_addr="447700900123", short_message=b"Hi", **params)


def deliver(seq: int = 0) -> Pdu:
    return make(C.DELIVER_SM, seq, source_addr="447700900123", esm_class=4, short_message=b"id:1")


# -- binding --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "command_id", "state"),
    [
        (BindMode.TX, C.BIND_TRANSMITTER, State.BOUND_TX),
        (BindMode.RX, C.BIND_RECEIVER, State.BOUND_RX),
        (BindMode.TRX, C.BIND_TRANSCEIVER, State.BOUND_TRX),
    ],
)
def test_bind_accepted(mode: BindMode, command_id: int, state: State) -> None:
    esme = conn(Role.ESME)
    smsc = conn(Role.SMSC)
    seq = esme.bind(mode, "test", "secret", 1.0, system_type="CMT")
    assert esme.state is State.BINDING
    raw = esme.data_to_send()
    req = decode(raw)
    assert (req.command_id, req.sequence, req.status) == (command_id, seq, 0)
    assert seq == 1  # §3.2: sequences start at 1
    assert req.params["system_id"] == "test" and req.params["password"] == "secret"
    assert req.params["system_type"] == "CMT" and req.params["interface_version"] == 0x34

    events = smsc.receive_data(raw, 1.0)
    assert events == [BindRequested(req, mode)]
    assert smsc.state is State.OPEN and smsc.data_to_send() == b""  # nothing until the app decides
    smsc.accept_bind(req, "SMSC", 1.0)
    assert smsc.state is state and smsc.mode is mode and smsc.peer_system_id == "test"
    resp_raw = smsc.data_to_send()
    resp = decode(resp_raw)
    assert (resp.command_id, resp.sequence, resp.status) == (command_id | 0x80000000, seq, 0)
    assert resp.params == {"system_id": "SMSC"}
    assert resp.tlvs == {Tag.SC_INTERFACE_VERSION: b"\x34"}

    assert esme.receive_data(resp_raw, 1.1) == [Bound(mode, "SMSC", 0x34)]
    assert state_of(esme) is state and esme.bound and esme.peer_system_id == "SMSC"


def test_bind_from_a_3_3_peer_gets_no_tlv() -> None:
    smsc = conn(Role.SMSC)
    req = make(C.BIND_TRANSMITTER, 5, system_id="old", password="pw", interface_version=0x33)
    (ev,) = smsc.receive_data(encode(req), 0)
    assert isinstance(ev, BindRequested)
    smsc.accept_bind(ev.pdu, "SMSC", 0)
    resp = one_sent(smsc)
    assert resp.tlvs == {}  # §4.1.2 / PROTOCOLS.md §1.2: no TLVs to a pre-3.4 peer
    esme = conn(Role.ESME)
    esme.bind(BindMode.TX, "old", "pw", 0)
    esme.data_to_send()
    resp.sequence = 1
    assert esme.receive_data(encode(resp), 0) == [Bound(BindMode.TX, "SMSC", None)]


def test_bind_rejected_with_invalid_password() -> None:
    esme = conn(Role.ESME)
    smsc = conn(Role.SMSC)
    esme.bind(BindMode.TRX, "test", "wrong", 0)
    (ev,) = smsc.receive_data(esme.data_to_send(), 0)
    assert isinstance(ev, BindRequested)
    smsc.reject_bind(ev.pdu, st.ESME_RINVPASWD)
    raw = smsc.data_to_send()
    assert raw == bytes.fromhex("00000010 80000009 0000000e 00000001")  # body omitted, §4.1.2
    assert smsc.state is State.OPEN and not smsc.bound

    assert esme.receive_data(raw, 0.1) == [BindFailed(st.ESME_RINVPASWD)]
    assert esme.state is State.OPEN and not esme.bound
    with pytest.raises(LocalProtocolError):
        esme.send_request(submit(), 0.2)
    # A failed bind leaves the session OPEN: the ESME may try again.
    esme.bind(BindMode.TRX, "test", "secret", 0.3)
    assert one_sent(esme).sequence == 2


def test_bind_answered_by_generic_nack_fails_with_its_status() -> None:
    esme = conn(Role.ESME)
    seq = esme.bind(BindMode.TX, "test", "secret", 0)
    esme.data_to_send()
    nack = encode(Pdu(C.GENERIC_NACK, seq, st.ESME_RINVCMDID))
    assert esme.receive_data(nack, 0) == [BindFailed(st.ESME_RINVCMDID)]
    assert esme.state is State.OPEN


def test_bind_not_answered_times_out() -> None:
    esme = conn(Role.ESME, response_timeout=5.0)
    esme.bind(BindMode.TRX, "test", "secret", 0)
    assert esme.get_timer() == 5.0
    assert esme.handle_timer(4.9) == []
    assert esme.handle_timer(5.0) == [BindFailed(st.ESME_RBINDFAIL)]
    assert esme.state is State.OPEN


def test_only_an_esme_in_open_state_binds() -> None:
    smsc = conn(Role.SMSC)
    with pytest.raises(LocalProtocolError):
        smsc.bind(BindMode.TRX, "a", "b", 0)
    esme, _ = bind_pair()
    with pytest.raises(LocalProtocolError):
        esme.bind(BindMode.TRX, "a", "b", 0)


def test_second_bind_gets_already_bound() -> None:
    _, smsc = bind_pair(BindMode.TX)
    again = make(C.BIND_RECEIVER, 99, system_id="test", password="secret", interface_version=0x34)
    events = smsc.receive_data(encode(again), 1)
    assert len(events) == 1 and isinstance(events[0], ProtocolViolation) and not events[0].fatal
    resp = one_sent(smsc)
    assert (resp.command_id, resp.sequence, resp.status) == (C.BIND_RECEIVER_RESP, 99, st.ESME_RALYBND)
    assert smsc.state is State.BOUND_TX


# -- enquire_link ---------------------------------------------------------------------------------


def enquire(seq: int) -> bytes:
    return encode(make(C.ENQUIRE_LINK, seq))


def assert_enquire_answered(c: SmppConnection, seq: int) -> None:
    state = c.state
    assert c.receive_data(enquire(seq), 1) == []
    assert c.data_to_send() == bytes.fromhex("00000010 80000015 00000000") + seq.to_bytes(4, "big")
    assert c.state is state


def test_enquire_link_answered_in_every_state() -> None:
    assert_enquire_answered(conn(Role.ESME), 7)  # OPEN
    assert_enquire_answered(conn(Role.SMSC), 8)  # OPEN
    binding = conn(Role.ESME)
    binding.bind(BindMode.TRX, "a", "b", 0)
    binding.data_to_send()
    assert_enquire_answered(binding, 9)  # BINDING
    for mode in BindMode:
        esme, smsc = bind_pair(mode)
        assert_enquire_answered(esme, 10)
        assert_enquire_answered(smsc, 0x7FFFFFFF)
    esme, smsc = bind_pair()
    esme.unbind(1)
    esme.data_to_send()
    assert_enquire_answered(esme, 11)  # UNBINDING


def test_our_enquire_link_answer_produces_no_event_and_no_window_use() -> None:
    esme, smsc = bind_pair(esme_cfg={"window": 1})
    seq = esme.send_request(make(C.ENQUIRE_LINK), 1, context="ping")
    assert esme.credit == 1  # enquire_link is outside the window
    assert smsc.receive_data(esme.data_to_send(), 1) == []
    (ev,) = esme.receive_data(smsc.data_to_send(), 1)
    assert isinstance(ev, ResponseReceived) and ev.context == "ping"
    assert (ev.pdu.command_id, ev.pdu.sequence) == (C.ENQUIRE_LINK_RESP, seq)


# -- unbind ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("initiator", [Role.ESME, Role.SMSC])
def test_unbind_both_directions(initiator: Role) -> None:
    esme, smsc = bind_pair()
    first, second = (esme, smsc) if initiator is Role.ESME else (smsc, esme)
    seq = first.unbind(2)
    assert first.state is State.UNBINDING
    raw = first.data_to_send()
    assert raw == bytes.fromhex("00000010 00000006 00000000") + seq.to_bytes(4, "big")
    assert second.receive_data(raw, 2) == [UnbindReceived()]
    assert second.state is State.CLOSED
    resp = second.data_to_send()
    assert resp == bytes.fromhex("00000010 80000006 00000000") + seq.to_bytes(4, "big")
    assert first.receive_data(resp, 2) == [UnbindCompleted()]
    assert state_of(first) is State.CLOSED
    assert first.get_timer() is None and second.get_timer() is None


def test_unbind_not_allowed_before_bind() -> None:
    smsc = conn(Role.SMSC)
    events = smsc.receive_data(encode(make(C.UNBIND, 3)), 0)
    assert len(events) == 1 and isinstance(events[0], ProtocolViolation)
    resp = one_sent(smsc)
    assert (resp.command_id, resp.sequence, resp.status) == (C.UNBIND_RESP, 3, st.ESME_RINVBNDSTS)
    with pytest.raises(LocalProtocolError):
        conn(Role.ESME).unbind(0)


def test_closed_connection_ignores_further_bytes() -> None:
    esme, smsc = bind_pair()
    esme.unbind(1)
    smsc.receive_data(esme.data_to_send() + encode(submit(5)), 1)
    assert smsc.state is State.CLOSED
    assert one_sent(smsc).command_id == C.UNBIND_RESP  # and nothing for the submit after it
    assert smsc.receive_data(encode(submit(6)), 2) == [] and smsc.data_to_send() == b""


# -- unknown commands, bad lengths, wrong state, malformed bodies -----------------------------------


@pytest.mark.parametrize("role", [Role.ESME, Role.SMSC])
@pytest.mark.parametrize("command_id", [0x00000111, 0x00000113, 0x0000000A, 0x00001234])
@pytest.mark.parametrize("bound", [False, True])
def test_unknown_command_gets_generic_nack_with_same_sequence(
    role: Role, command_id: int, bound: bool
) -> None:
    if bound:
        esme, smsc = bind_pair()
        c = esme if role is Role.ESME else smsc
    else:
        c = conn(role)
    state = c.state
    raw = (20).to_bytes(4, "big") + command_id.to_bytes(4, "big") + (0).to_bytes(4, "big")
    raw += (4242).to_bytes(4, "big") + b"abcd"
    events = c.receive_data(raw, 1)
    assert len(events) == 1 and isinstance(events[0], ProtocolViolation) and not events[0].fatal
    assert c.data_to_send() == bytes.fromhex("00000010 80000000 00000003") + (4242).to_bytes(4, "big")
    assert c.state is state
    assert_enquire_answered(c, 5)  # still in sync after the unknown PDU


@pytest.mark.parametrize("length", [0, 1, 15, 0x7FFFFFFF, 70000])
@pytest.mark.parametrize("role", [Role.ESME, Role.SMSC])
def test_invalid_command_length_nacks_and_closes(length: int, role: Role) -> None:
    esme, smsc = bind_pair()
    c = esme if role is Role.ESME else smsc
    raw = length.to_bytes(4, "big") + bytes.fromhex("00000004 00000000 0000002a") + b"rest of stream"
    events = c.receive_data(raw, 1)
    assert events == [ProtocolViolation(f"invalid command_length {length}", fatal=True)]
    assert c.state is State.CLOSED
    nack = one_sent(c)
    assert (nack.command_id, nack.status, nack.sequence) == (C.GENERIC_NACK, st.ESME_RINVCMDLEN, 42)
    assert c.receive_data(enquire(3), 2) == [] and c.data_to_send() == b""


def test_invalid_command_length_with_header_incomplete_nacks_with_sequence_zero() -> None:
    smsc = conn(Role.SMSC)
    events = smsc.receive_data(b"\x00\x00\x00\x05", 0)
    assert len(events) == 1 and isinstance(events[0], ProtocolViolation) and events[0].fatal
    nack = one_sent(smsc)
    assert (nack.command_id, nack.status, nack.sequence) == (C.GENERIC_NACK, st.ESME_RINVCMDLEN, 0)


def test_max_pdu_size_is_configurable() -> None:
    smsc = conn(Role.SMSC, max_pdu_size=64)
    events = smsc.receive_data(encode(submit(1, tlvs={Tag.MESSAGE_PAYLOAD: b"x" * 64})), 0)
    assert len(events) == 1 and isinstance(events[0], ProtocolViolation) and events[0].fatal
    assert smsc.state is State.CLOSED


def assert_answered(c: SmppConnection, raw: bytes, command_id: int, status: int) -> Pdu:
    events = c.receive_data(raw, 1)
    assert len(events) == 1 and isinstance(events[0], ProtocolViolation), events
    assert not events[0].fatal
    resp = one_sent(c)
    assert (resp.command_id, resp.status) == (command_id, status)
    assert resp.sequence == int.from_bytes(raw[12:16], "big")
    assert resp.params == {}  # error responses omit their body (§4.4.2)
    return resp


def test_submit_before_bind_is_invalid_bind_status() -> None:
    smsc = conn(Role.SMSC)
    assert_answered(smsc, encode(submit(12)), C.SUBMIT_SM_RESP, st.ESME_RINVBNDSTS)
    assert smsc.state is State.OPEN
    esme = conn(Role.ESME)
    with pytest.raises(LocalProtocolError, match="submit_sm"):
        esme.send_request(submit(), 0)


def test_submit_on_a_receiver_bind_is_invalid_bind_status() -> None:
    esme, smsc = bind_pair(BindMode.RX)
    assert_answered(smsc, encode(submit(3)), C.SUBMIT_SM_RESP, st.ESME_RINVBNDSTS)
    with pytest.raises(LocalProtocolError):
        esme.send_request(submit(), 0)


def test_deliver_to_a_transmitter_bind_is_invalid_bind_status() -> None:
    esme, smsc = bind_pair(BindMode.TX)
    assert_answered(esme, encode(deliver(8)), C.DELIVER_SM_RESP, st.ESME_RINVBNDSTS)
    with pytest.raises(LocalProtocolError):
        smsc.send_request(deliver(), 0)


def test_command_from_the_wrong_role() -> None:
    esme, smsc = bind_pair()
    assert_answered(esme, encode(submit(4)), C.SUBMIT_SM_RESP, st.ESME_RINVBNDSTS)
    assert_answered(smsc, encode(deliver(4)), C.DELIVER_SM_RESP, st.ESME_RINVBNDSTS)
    bind = make(C.BIND_TRANSMITTER, 6, system_id="x")
    assert_answered(esme, encode(bind), C.BIND_TRANSMITTER_RESP, st.ESME_RINVBNDSTS)


def splice(raw: bytes, old: bytes, new: bytes) -> bytes:
    assert old in raw
    out = raw.replace(old, new, 1)
    return len(out).to_bytes(4, "big") + out[4:]


@pytest.mark.parametrize(
    ("old", "new", "status"),
    [
        (b"447700900123\x00", b"4" * 25, st.ESME_RINVDSTADR),  # destination_addr never terminated
        (b"\x02Hi", b"\x09Hi", st.ESME_RINVMSGLEN),  # sm_length past the end
        (b"ACME\x00", b"ACMEACMEACMEACMEACMEACME", st.ESME_RINVSRCADR),
    ],
)
def test_malformed_submit_body_answered_with_the_fields_status(old: bytes, new: bytes, status: int) -> None:
    _, smsc = bind_pair()
    raw = splice(encode(submit(21, source_addr="ACME")), old, new)
    resp = assert_answered(smsc, raw, C.SUBMIT_SM_RESP, status)
    assert resp.sequence == 21
    assert smsc.bound
    (ev,) = smsc.receive_data(encode(submit(22)), 2)  # the stream is still in sync
    assert isinstance(ev, RequestReceived) and ev.pdu.sequence == 22


def test_malformed_tlv_answered_with_tlv_status() -> None:
    _, smsc = bind_pair()
    raw = encode(submit(30, tlvs={Tag.USER_MESSAGE_REFERENCE: b"\x00\x01"}))
    raw = splice(raw, b"\x02\x04\x00\x02", b"\x02\x04\x00\x09")
    assert_answered(smsc, raw, C.SUBMIT_SM_RESP, st.ESME_RINVTLVLEN)


def test_request_and_response_with_application_answer() -> None:
    esme, smsc = bind_pair()
    seq = esme.send_request(submit(), 1, context="msg-1")
    raw = esme.data_to_send()
    (ev,) = smsc.receive_data(raw, 1)
    assert isinstance(ev, RequestReceived) and ev.pdu == decode(raw)
    smsc.respond(ev.pdu, 0, message_id="0A1B2C3D")
    (resp_ev,) = esme.receive_data(smsc.data_to_send(), 1)
    assert isinstance(resp_ev, ResponseReceived) and resp_ev.context == "msg-1"
    assert (resp_ev.pdu.command_id, resp_ev.pdu.sequence) == (C.SUBMIT_SM_RESP, seq)
    assert resp_ev.pdu.get("message_id") == "0A1B2C3D"


def test_generic_nack_answers_a_pending_request() -> None:
    esme, _ = bind_pair(esme_cfg={"window": 2})
    seq = esme.send_request(submit(), 1, context="ctx")
    esme.data_to_send()
    assert esme.credit == 1
    (ev,) = esme.receive_data(encode(Pdu(C.GENERIC_NACK, seq, st.ESME_RINVCMDLEN)), 1)
    assert isinstance(ev, ResponseReceived) and ev.context == "ctx"
    assert (ev.pdu.command_id, ev.pdu.status) == (C.GENERIC_NACK, st.ESME_RINVCMDLEN)
    assert esme.credit == 2


def test_undecodable_response_resolves_the_request_as_nacked() -> None:
    esme, _ = bind_pair()
    seq = esme.send_request(submit(), 1, context="ctx")
    esme.data_to_send()
    bad = bytes.fromhex("00000014 80000004 00000000") + seq.to_bytes(4, "big") + b"ABCD"  # no NUL
    events = esme.receive_data(bad, 1)
    assert len(events) == 2 and isinstance(events[0], ProtocolViolation)
    assert events[1] == ResponseReceived(Pdu(C.GENERIC_NACK, seq, st.ESME_RINVCMDLEN), "ctx")
    assert esme.in_flight == 0 and esme.data_to_send() == b""  # never answer a response


def test_unexpected_responses_are_reported_not_answered() -> None:
    esme, _ = bind_pair()
    events = esme.receive_data(encode(make(C.SUBMIT_SM_RESP, 777, message_id="x")), 1)
    assert len(events) == 1 and isinstance(events[0], ProtocolViolation)
    seq = esme.send_request(submit(), 1, context="ctx")
    esme.data_to_send()
    wrong_type = encode(make(C.DATA_SM_RESP, seq, message_id="x"))
    events = esme.receive_data(wrong_type, 1)
    assert len(events) == 1 and isinstance(events[0], ProtocolViolation)
    assert esme.in_flight == 1 and esme.data_to_send() == b""
    (ev,) = esme.receive_data(encode(make(C.SUBMIT_SM_RESP, seq, message_id="y")), 1)
    assert isinstance(ev, ResponseReceived) and ev.context == "ctx"
    assert esme.in_flight == 0


# -- sequence numbers -----------------------------------------------------------------------------


def test_sequence_numbers_increase_from_one() -> None:
    esme, _ = bind_pair(esme_cfg={"window": 512})  # the bind took 1
    assert [esme.send_request(submit(), 1) for _ in range(5)] == [2, 3, 4, 5, 6]
    assert [p.sequence for p in sent(esme)] == [2, 3, 4, 5, 6]


def test_sequence_wraps_to_one_skipping_numbers_in_flight() -> None:
    esme, _ = bind_pair(esme_cfg={"window": 512})
    in_flight = [esme.send_request(submit(), 1, context=i) for i in range(3)]  # 2, 3, 4
    assert in_flight == [2, 3, 4]
    esme.data_to_send()
    esme._seq = MAX_SEQUENCE - 2  # as if 2**31 - 4 requests had gone by (no public setter exists)
    got = [esme.send_request(submit(), 2, context=i) for i in range(5)]
    assert got == [MAX_SEQUENCE - 1, MAX_SEQUENCE, 1, 5, 6]  # 2, 3, 4 are still awaiting responses
    assert [p.sequence for p in sent(esme)] == got
    assert 0 not in got
    # Each response still reaches its own request after the wrap.
    (ev,) = esme.receive_data(encode(make(C.SUBMIT_SM_RESP, 1, message_id="w")), 3)
    assert isinstance(ev, ResponseReceived) and ev.context == 2
    (ev,) = esme.receive_data(encode(make(C.SUBMIT_SM_RESP, 3, message_id="o")), 3)
    assert isinstance(ev, ResponseReceived) and ev.context == 1


def test_each_side_numbers_its_own_requests() -> None:
    esme, smsc = bind_pair()
    assert smsc.send_request(deliver(), 1) == 1  # the SMSC's own sequence, independent of the ESME's
    assert esme.send_request(submit(), 1) == 2


# -- window ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("window", [0, -1, 513, 10_000])
def test_window_outside_1_to_512_rejected(window: int) -> None:
    with pytest.raises(ValueError, match="window"):
        SessionConfig(window=window)


@pytest.mark.parametrize("window", [1, 7, 512])
def test_window_enforced(window: int) -> None:
    esme, smsc = bind_pair(esme_cfg={"window": window})
    assert esme.credit == window
    seqs = [esme.send_request(submit(), 1, context=i) for i in range(window)]
    assert esme.credit == 0 and esme.in_flight == window
    with pytest.raises(LocalProtocolError, match="window"):
        esme.send_request(submit(), 1)
    esme.send_request(make(C.ENQUIRE_LINK), 1)  # not counted against the window
    for ev in smsc.receive_data(esme.data_to_send(), 1):
        assert isinstance(ev, RequestReceived)
        smsc.respond(ev.pdu, 0, message_id=str(ev.pdu.sequence))
    events = esme.receive_data(smsc.data_to_send(), 2)
    answered = [e.pdu for e in events if isinstance(e, ResponseReceived)]
    assert [p.sequence for p in answered if p.command_id == C.SUBMIT_SM_RESP] == seqs
    assert [p.command_id for p in answered].count(C.ENQUIRE_LINK_RESP) == 1
    assert esme.credit == window and esme.in_flight == 0


def test_smsc_window_limits_deliver_sm() -> None:
    esme, smsc = bind_pair(smsc_cfg={"window": 2})
    smsc.send_request(deliver(), 1)
    smsc.send_request(deliver(), 1)
    with pytest.raises(LocalProtocolError):
        smsc.send_request(deliver(), 1)
    for ev in esme.receive_data(smsc.data_to_send(), 1):
        assert isinstance(ev, RequestReceived)
        esme.respond(ev.pdu, 0, message_id="")
    assert len(smsc.receive_data(esme.data_to_send(), 1)) == 2
    assert smsc.credit == 2


def test_close_returns_requests_left_unanswered() -> None:
    esme, _ = bind_pair()
    a = esme.send_request(submit(), 1, context="a")
    b = esme.send_request(submit(), 1, context="b")
    assert esme.close() == [(a, C.SUBMIT_SM, "a"), (b, C.SUBMIT_SM, "b")]
    assert esme.state is State.CLOSED and esme.in_flight == 0 and esme.get_timer() is None


# -- response timeout -----------------------------------------------------------------------------


def test_response_timeout() -> None:
    esme, _ = bind_pair(esme_cfg={"response_timeout": 5.0, "window": 3})
    seq = esme.send_request(submit(), 10.0, context="m1")
    assert esme.get_timer() == 15.0
    assert esme.handle_timer(14.99) == []
    assert esme.credit == 2
    assert esme.handle_timer(15.0) == [ResponseTimedOut(seq, C.SUBMIT_SM, "m1")]
    assert esme.credit == 3 and esme.get_timer() is None
    assert esme.handle_timer(20.0) == []  # reported once
    events = esme.receive_data(encode(make(C.SUBMIT_SM_RESP, seq, message_id="late")), 21)
    assert len(events) == 1 and isinstance(events[0], ProtocolViolation)  # late: no second outcome


def test_response_timeouts_in_deadline_order() -> None:
    esme, _ = bind_pair(esme_cfg={"response_timeout": 5.0})
    a = esme.send_request(submit(), 0.0, context="a")
    b = esme.send_request(submit(), 1.0, context="b")
    c = esme.send_request(submit(), 2.0, context="c")
    esme.receive_data(encode(make(C.SUBMIT_SM_RESP, b, message_id="B")), 3.0)
    assert esme.get_timer() == 5.0
    assert esme.handle_timer(6.5) == [ResponseTimedOut(a, C.SUBMIT_SM, "a")]
    assert esme.get_timer() == 7.0
    assert esme.handle_timer(100) == [ResponseTimedOut(c, C.SUBMIT_SM, "c")]


def test_wrong_response_type_does_not_delay_the_requests_timeout() -> None:
    esme, _ = bind_pair(esme_cfg={"response_timeout": 30.0})
    a = esme.send_request(submit(), 0.0, context="a")
    b = esme.send_request(submit(), 1.0, context="b")
    events = esme.receive_data(encode(make(C.QUERY_SM_RESP, a, message_id="?")), 2.0)
    assert len(events) == 1 and isinstance(events[0], ProtocolViolation)
    assert esme.get_timer() == 30.0  # a's deadline, not b's
    assert esme.handle_timer(30.0) == [ResponseTimedOut(a, C.SUBMIT_SM, "a")]
    assert esme.handle_timer(31.0) == [ResponseTimedOut(b, C.SUBMIT_SM, "b")]


# -- keepalive ------------------------------------------------------------------------------------


def test_keepalive_enquire_link_after_idle_interval_and_answered() -> None:
    esme, smsc = bind_pair(esme_cfg={"enquire_link_interval": 30.0, "response_timeout": 10.0})
    assert esme.get_timer() == 30.0
    assert esme.handle_timer(29.9) == [] and esme.data_to_send() == b""
    assert esme.handle_timer(30.0) == []
    ping = one_sent(esme)
    assert ping.command_id == C.ENQUIRE_LINK
    assert esme.get_timer() == 40.0  # the response deadline; no second keepalive while one is out
    assert esme.handle_timer(35.0) == [] and esme.data_to_send() == b""
    assert smsc.receive_data(encode(ping), 31.0) == []
    assert esme.receive_data(smsc.data_to_send(), 31.0) == []  # the answer is no application event
    assert esme.get_timer() == 61.0  # idle is counted from the last bytes received
    assert esme.handle_timer(40.0) == []


def test_traffic_postpones_keepalive() -> None:
    esme, _ = bind_pair(esme_cfg={"enquire_link_interval": 30.0})
    esme.receive_data(encode(deliver(5)), 20.0)
    esme.data_to_send()
    assert esme.get_timer() == 50.0
    assert esme.handle_timer(30.0) == [] and esme.data_to_send() == b""


def test_unanswered_keepalive_declares_the_link_dead() -> None:
    esme, _ = bind_pair(esme_cfg={"enquire_link_interval": 30.0, "response_timeout": 10.0})
    esme.handle_timer(30.0)
    assert one_sent(esme).command_id == C.ENQUIRE_LINK
    events = esme.handle_timer(40.0)
    assert events == [LinkDead("enquire_link unanswered")]
    assert esme.data_to_send() == b""  # a link declared dead is not pinged again
    assert esme.close() == []  # the keepalive is no application request


def test_smsc_sends_keepalive_too() -> None:
    _, smsc = bind_pair(smsc_cfg={"enquire_link_interval": 5.0})
    smsc.handle_timer(5.0)
    assert one_sent(smsc).command_id == C.ENQUIRE_LINK


def test_no_keepalive_before_bind_or_when_disabled() -> None:
    esme = conn(Role.ESME, enquire_link_interval=30.0)
    assert esme.get_timer() is None
    assert esme.handle_timer(1000.0) == [] and esme.data_to_send() == b""
    esme, _ = bind_pair()  # QUIET: interval 0
    assert esme.get_timer() is None


# -- SMSC timers ----------------------------------------------------------------------------------


def test_smsc_session_init_timer() -> None:
    smsc = conn(Role.SMSC, now=100.0, session_init_timeout=10.0)
    assert smsc.get_timer() == 110.0
    assert smsc.handle_timer(109.0) == []
    assert smsc.handle_timer(110.0) == [LinkDead("no bind within session_init_timeout")]


def test_smsc_session_init_timer_stops_once_bound() -> None:
    _, smsc = bind_pair(now=100.0, smsc_cfg={"session_init_timeout": 10.0})
    assert smsc.get_timer() is None
    assert smsc.handle_timer(200.0) == []


def test_smsc_session_init_ignores_data_that_is_not_a_bind() -> None:
    smsc = conn(Role.SMSC, session_init_timeout=10.0)
    smsc.receive_data(enquire(1), 5.0)
    smsc.data_to_send()
    assert smsc.handle_timer(10.0) == [LinkDead("no bind within session_init_timeout")]


def test_smsc_inactivity_timer() -> None:
    _, smsc = bind_pair(smsc_cfg={"inactivity_timeout": 300.0})
    assert smsc.get_timer() == 300.0
    smsc.receive_data(encode(submit(9)), 100.0)
    assert smsc.get_timer() == 400.0
    assert smsc.handle_timer(399.0) == []
    assert smsc.handle_timer(400.0) == [LinkDead("inactivity_timeout")]


def test_esme_has_no_session_init_or_inactivity_timer() -> None:
    esme = SmppConnection(Role.ESME, SessionConfig(enquire_link_interval=0), now=0.0)
    assert esme.get_timer() is None
    assert esme.handle_timer(10_000.0) == []


# -- chunking -------------------------------------------------------------------------------------


def esme_stream() -> tuple[SmppConnection, bytes]:
    """A bound ESME with three submits in flight, and what an SMSC sends it next."""
    esme, _ = bind_pair(esme_cfg={"window": 16})
    seqs = [esme.send_request(submit(), 1, context=f"m{i}") for i in range(3)]
    esme.data_to_send()
    parts = [
        encode(make(C.SUBMIT_SM_RESP, seqs[1], message_id="B2")),
        encode(deliver(1)),
        enquire(2),
        encode(make(C.SUBMIT_SM_RESP, seqs[0], message_id="A1", tlvs={0x1400: b"vendor"})),
        encode(Pdu(C.SUBMIT_SM_RESP, seqs[2], st.ESME_RTHROTTLED)),
        (20).to_bytes(4, "big") + bytes.fromhex("00000112 00000000 00000003") + b"\x00\x01\x02\x03",
        encode(make(C.DATA_SM, 4, source_addr="1", tlvs={Tag.MESSAGE_PAYLOAD: b"payload"})),
        encode(make(C.ALERT_NOTIFICATION, 5, source_addr="12")),
        encode(make(C.SUBMIT_SM_RESP, 999, message_id="stray")),
        encode(deliver(6)),
        encode(make(C.UNBIND, 7)),
        encode(deliver(8)),  # after unbind: never read
    ]
    return esme, b"".join(parts)


def smsc_stream() -> tuple[SmppConnection, bytes]:
    """A bound SMSC with two deliver_sm in flight, and what an ESME sends it next."""
    _, smsc = bind_pair(smsc_cfg={"window": 16})
    seqs = [smsc.send_request(deliver(), 1, context=i) for i in range(2)]
    smsc.data_to_send()
    parts = [
        encode(submit(10, tlvs={Tag.SAR_MSG_REF_NUM: b"\x00\x01", 0x3177: b"x"})),
        encode(make(C.DELIVER_SM_RESP, seqs[0], message_id="")),
        splice(encode(submit(11)), b"447700900123\x00", b"9" * 30),  # malformed body
        enquire(12),
        encode(make(C.QUERY_SM, 13, message_id="A1")),
        encode(make(C.BIND_TRANSCEIVER, 14, system_id="again")),
        (16).to_bytes(4, "big") + bytes.fromhex("00000111 00000000 0000000f"),
        encode(make(C.DELIVER_SM_RESP, seqs[1])),
        encode(make(C.DATA_SM, 16, destination_addr="1")),
        encode(submit(17)),
    ]
    return smsc, b"".join(parts)


def feed_chunks(c: SmppConnection, data: bytes, cuts: list[int]) -> tuple[list[Event], bytes]:
    events: list[Event] = []
    out = b""
    bounds = [0, *sorted(set(cuts)), len(data)]
    for start, end in itertools.pairwise(bounds):
        events += c.receive_data(data[start:end], 5.0)
        out += c.data_to_send()
    return events, out


@pytest.mark.parametrize("make_stream", [esme_stream, smsc_stream])
def test_stream_events_reference(make_stream: Any) -> None:
    c, data = make_stream()
    events, out = feed_chunks(c, data, [])
    kinds = [type(e).__name__ for e in events]
    if c.role is Role.ESME:
        assert kinds == [
            "ResponseReceived",
            "RequestReceived",
            "ResponseReceived",
            "ResponseReceived",
            "ProtocolViolation",
            "RequestReceived",
            "RequestReceived",
            "ProtocolViolation",
            "RequestReceived",
            "UnbindReceived",
        ]
        assert c.state is State.CLOSED
    else:
        assert kinds == [
            "RequestReceived",
            "ResponseReceived",
            "ProtocolViolation",
            "RequestReceived",
            "ProtocolViolation",
            "ProtocolViolation",
            "ResponseReceived",
            "RequestReceived",
            "RequestReceived",
        ]
        assert [(p.command_id, p.sequence, p.status) for p in split_pdus(out)] == [
            (C.SUBMIT_SM_RESP, 11, st.ESME_RINVDSTADR),
            (C.ENQUIRE_LINK_RESP, 12, 0),
            (C.BIND_TRANSCEIVER_RESP, 14, st.ESME_RALYBND),
            (C.GENERIC_NACK, 15, st.ESME_RINVCMDID),
        ]


@pytest.mark.parametrize("make_stream", [esme_stream, smsc_stream])
@settings(max_examples=60, deadline=None)
@given(data=s.data())
def test_any_chunking_gives_the_same_events_and_bytes(make_stream: Any, data: s.DataObject) -> None:
    reference_conn, stream = make_stream()
    expected = feed_chunks(reference_conn, stream, [])
    c, _ = make_stream()
    cuts = data.draw(s.lists(s.integers(1, len(stream) - 1), max_size=40))
    assert feed_chunks(c, stream, cuts) == expected
    assert c.state is reference_conn.state


@pytest.mark.parametrize("make_stream", [esme_stream, smsc_stream])
def test_one_octet_at_a_time(make_stream: Any) -> None:
    reference_conn, stream = make_stream()
    expected = feed_chunks(reference_conn, stream, [])
    c, _ = make_stream()
    assert feed_chunks(c, stream, list(range(1, len(stream)))) == expected


def test_respond_ok_writes_the_same_bytes_as_respond() -> None:
    """The fast answer (no PDU built) is byte-identical to the general one."""
    from channels.smpp import pdu as codec
    from channels.smpp.connection import Role, SmppConnection
    from channels.smpp.constants import CommandId

    fast, general = SmppConnection(Role.SMSC), SmppConnection(Role.SMSC)
    for cid, mid in ((CommandId.SUBMIT_SM, "0E999F21"), (CommandId.DELIVER_SM, ""), (CommandId.DATA_SM, "7")):
        request = codec.make(cid, sequence=0x7FFFFFFE)
        fast.respond_ok(request, mid)
        general.respond(request, 0, message_id=mid)
    assert fast.data_to_send() == general.data_to_send()
