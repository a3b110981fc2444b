"""The SMPP 3.4 session as a sans-IO state machine, for both roles (SMPP v3.4 §2, §4, §7.2).

``SmppConnection(role=ESME)`` drives our client; ``SmppConnection(role=SMSC)`` drives the SMSC and
USSD simulators, so the two sides cannot drift apart. Bytes go in through :meth:`receive_data`,
events come out; PDUs we emit accumulate until :meth:`data_to_send` (so a transport writes once per
loop turn). Time is an argument: :meth:`get_timer` says when :meth:`handle_timer` is next due (response
timeouts, enquire_link keepalive, inactivity, session_init).

The connection answers what needs no application decision: enquire_link, unbind, generic_nack for
unknown commands or unreadable PDUs, ESME_RINVBNDSTS for PDUs not allowed in the current state, an
error response for a malformed body. A bad command_length cannot be resynchronised: it is nacked and
the connection moves to CLOSED (PROTOCOLS.md §1.1).

An owner may take its commonest frames itself, before they are decoded (:attr:`frame_hook`, with
:meth:`settle_response`, :meth:`take_response` and :meth:`respond_ok_to`): the SMSC simulator's fast
path does (:mod:`simulators.smsc_fast`), and so does our client's (:mod:`channels.smpp.fastpath`).
Every other frame goes the way described above.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any

from channels.errors import ConfigurationError, LocalProtocolError
from channels.smpp import pdu as codec
from channels.smpp import status as st
from channels.smpp.constants import HEADER_SIZE, MAX_SEQUENCE, RESPONSE_BIT, CommandId, Tag
from channels.smpp.pdu import Pdu, PduError

C = CommandId


class Role(Enum):
    ESME = "esme"
    SMSC = "smsc"


class BindMode(StrEnum):
    TX = "tx"
    RX = "rx"
    TRX = "trx"


class State(Enum):
    OPEN = "open"
    BINDING = "binding"
    BOUND_TX = "bound_tx"
    BOUND_RX = "bound_rx"
    BOUND_TRX = "bound_trx"
    UNBINDING = "unbinding"
    CLOSED = "closed"

    # Members are singletons compared by identity; hash them by identity too, in C. The state is
    # looked up in a frozenset several times per PDU, and Enum's own __hash__ is a Python call.
    __hash__ = object.__hash__


BIND_COMMAND = {
    BindMode.TX: C.BIND_TRANSMITTER,
    BindMode.RX: C.BIND_RECEIVER,
    BindMode.TRX: C.BIND_TRANSCEIVER,
}
BIND_MODE: dict[int, BindMode] = {v: k for k, v in BIND_COMMAND.items()}
BOUND_STATE = {BindMode.TX: State.BOUND_TX, BindMode.RX: State.BOUND_RX, BindMode.TRX: State.BOUND_TRX}
BOUND = frozenset(BOUND_STATE.values())
_TX = frozenset({State.BOUND_TX, State.BOUND_TRX})
_RX = frozenset({State.BOUND_RX, State.BOUND_TRX})
_BOUND_OR_UNBINDING = BOUND | {State.UNBINDING}
_ANY = frozenset(State) - {State.CLOSED}

# §2.3 / PROTOCOLS.md §1.2: states in which a request may be *received*, by the receiver's role.
RECEIVE_STATES: dict[Role, dict[int, frozenset[State]]] = {
    Role.SMSC: {
        C.BIND_RECEIVER: frozenset({State.OPEN}),
        C.BIND_TRANSMITTER: frozenset({State.OPEN}),
        C.BIND_TRANSCEIVER: frozenset({State.OPEN}),
        C.SUBMIT_SM: _TX,
        C.SUBMIT_MULTI: _TX,
        C.QUERY_SM: _TX,
        C.CANCEL_SM: _TX,
        C.REPLACE_SM: _TX,
        C.DATA_SM: _TX,
        C.ENQUIRE_LINK: _ANY,
        C.UNBIND: _BOUND_OR_UNBINDING,
        C.GENERIC_NACK: _ANY,
    },
    Role.ESME: {
        C.OUTBIND: frozenset({State.OPEN}),
        C.DELIVER_SM: _RX,
        C.DATA_SM: _RX,
        C.ALERT_NOTIFICATION: _RX,
        C.ENQUIRE_LINK: _ANY,
        C.UNBIND: _BOUND_OR_UNBINDING,
        C.GENERIC_NACK: _ANY,
    },
}
# States in which we may *send* a request, by our role.
SEND_STATES: dict[Role, dict[int, frozenset[State]]] = {
    Role.ESME: {
        C.SUBMIT_SM: _TX,
        C.SUBMIT_MULTI: _TX,
        C.QUERY_SM: _TX,
        C.CANCEL_SM: _TX,
        C.REPLACE_SM: _TX,
        C.DATA_SM: _TX,
        C.ENQUIRE_LINK: BOUND,
        C.UNBIND: BOUND,
    },
    Role.SMSC: {
        C.DELIVER_SM: _RX,
        C.DATA_SM: _RX,
        C.ALERT_NOTIFICATION: _RX,
        C.OUTBIND: frozenset({State.OPEN}),
        C.ENQUIRE_LINK: BOUND,
        C.UNBIND: BOUND,
    },
}
NO_RESPONSE = frozenset({C.ALERT_NOTIFICATION, C.OUTBIND, C.GENERIC_NACK})
_NOT_WINDOWED = frozenset({C.ENQUIRE_LINK, C.UNBIND})


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """Session timers and limits (§7.2; defaults from PROTOCOLS.md §1.5). 0 disables a timer."""

    window: int = 10
    response_timeout: float = 30.0
    enquire_link_interval: float = 30.0
    inactivity_timeout: float = 300.0
    session_init_timeout: float = 10.0
    max_pdu_size: int = codec.MAX_PDU_SIZE

    def __post_init__(self) -> None:
        if not 1 <= self.window <= 512:
            raise ValueError(f"window must be 1..512, got {self.window}")


# -- events -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BindRequested:
    """SMSC role: answer with accept_bind() or reject_bind()."""

    pdu: Pdu
    mode: BindMode


@dataclass(frozen=True, slots=True)
class Bound:
    mode: BindMode
    system_id: str
    interface_version: int | None = None


@dataclass(frozen=True, slots=True)
class BindFailed:
    status: int


@dataclass(frozen=True, slots=True)
class RequestReceived:
    """A request the application answers with respond() (submit_sm, deliver_sm, data_sm, ...)."""

    pdu: Pdu


@dataclass(frozen=True, slots=True)
class ResponseReceived:
    """The answer to one of our requests (or a generic_nack carrying its sequence number)."""

    pdu: Pdu
    context: Any


@dataclass(frozen=True, slots=True)
class ResponseTimedOut:
    sequence: int
    command_id: int
    context: Any


@dataclass(frozen=True, slots=True)
class UnbindReceived:
    """The peer unbound; unbind_resp is queued and the connection is CLOSED."""


@dataclass(frozen=True, slots=True)
class UnbindCompleted:
    """Our unbind was answered; the connection is CLOSED."""


@dataclass(frozen=True, slots=True)
class LinkDead:
    """enquire_link went unanswered, or inactivity / session_init expired: close the transport."""

    reason: str


@dataclass(frozen=True, slots=True)
class ProtocolViolation:
    """The peer sent something we could not accept. ``fatal``: the byte stream is unusable."""

    reason: str
    fatal: bool


Event = (
    BindRequested
    | Bound
    | BindFailed
    | RequestReceived
    | ResponseReceived
    | ResponseTimedOut
    | UnbindReceived
    | UnbindCompleted
    | LinkDead
    | ProtocolViolation
)

_KEEPALIVE = object()
NOT_WAITING = object()  # take_response: no windowed request of that type waits on the sequence


class SmppConnection:
    """One SMPP session, either role. Not thread-safe; one per TCP connection."""

    def __init__(self, role: Role, config: SessionConfig | None = None, *, now: float = 0.0) -> None:
        self.role = role
        self.config = config or SessionConfig()
        self.state = State.OPEN
        self.mode: BindMode | None = None
        self.peer_system_id: str | None = None
        self._in = bytearray()
        self._out = bytearray()
        self._seq = 0
        # seq -> (command_id, deadline, context); insertion order = deadline order (one timeout).
        self._pending: dict[int, tuple[int, float, Any]] = {}
        self._windowed = 0
        self._opened_at = now
        self._last_rx = now
        self._keepalive_seq: int | None = None
        self._send_states = SEND_STATES[role]
        self._recv_states = RECEIVE_STATES[role]
        # The owner's fast lane, if it has one: offered each whole frame of a read (the raw PDU and
        # the time) before it is decoded, while the read has produced no event yet; returns True when
        # it handled the frame itself (then nothing here sees it). Once a frame yields an event, the
        # rest of that read is decoded here, so events and answers keep the order of the frames.
        self.frame_hook: Callable[[bytes, float], bool] | None = None

    # -- introspection -----------------------------------------------------------------------------

    @property
    def bound(self) -> bool:
        return self.state in BOUND

    @property
    def credit(self) -> int:
        """Window credit: how many more windowed requests may be outstanding now."""
        return self.config.window - self._windowed

    @property
    def in_flight(self) -> int:
        return self._windowed

    def data_to_send(self) -> bytes:
        """Bytes to write to the transport, in order; clears the buffer."""
        if not self._out:
            return b""
        data = bytes(self._out)
        self._out.clear()
        return data

    # -- sending -----------------------------------------------------------------------------------

    def _next_sequence(self) -> int:
        # §3.2: 1..0x7FFFFFFF, wrap to 1; skip numbers still awaiting a response after a wrap.
        seq = self._seq
        while True:
            seq = 1 if seq >= MAX_SEQUENCE else seq + 1
            if seq not in self._pending:
                self._seq = seq
                return seq

    def send_request(self, pdu: Pdu, now: float, context: Any = None) -> int:
        """Queue a request; returns its sequence number. Raises LocalProtocolError when the state or
        the window does not allow it (callers check :attr:`credit` first)."""
        return self.send_request_body(pdu.command_id, _body(pdu), now, context)

    def send_request_body(self, command_id: int, body: bytes, now: float, context: Any = None) -> int:
        """Queue a request whose body (mandatory fields + TLVs) is already encoded: the fast path
        for campaigns whose PDUs share a prepared prefix."""
        allowed = self._send_states.get(command_id)
        if allowed is None or self.state not in allowed:
            raise LocalProtocolError(
                f"cannot send {codec.command_name(command_id)} in state {self.state.value}"
            )
        windowed = command_id not in _NOT_WINDOWED
        if windowed and self._windowed >= self.config.window:
            raise LocalProtocolError("window full: wait for responses before sending")
        seq = self._next_sequence()
        self._out += _header(HEADER_SIZE + len(body), command_id, 0, seq)
        self._out += body
        if command_id not in NO_RESPONSE:
            self._pending[seq] = (command_id, now + self.config.response_timeout, context)
            if windowed:
                self._windowed += 1
        return seq

    def respond(
        self, request: Pdu, status: int = 0, tlvs: dict[int, bytes] | None = None, **params: Any
    ) -> None:
        """Answer a received request."""
        resp = Pdu(request.command_id | RESPONSE_BIT, request.sequence, status, params, tlvs or {})
        self._out += codec.encode(resp)

    def respond_ok(self, request: Pdu, message_id: str = "") -> None:
        """The common answer, written without building a PDU: status 0 and a ``message_id`` body
        (submit_sm_resp, data_sm_resp; deliver_sm_resp with the empty id, §4.6.2). One per message
        on both sides of every campaign."""
        self.respond_ok_to(request.command_id, request.sequence, message_id)

    def respond_ok_to(self, command_id: int, sequence: int, message_id: str = "") -> None:
        """:meth:`respond_ok` for a request known by its header only (a frame hook's answer)."""
        body = message_id.encode("latin-1") + b"\x00"
        if len(body) > 65:
            raise LocalProtocolError(f"message_id of {len(body) - 1} octets exceeds 64")
        self._out += _header(HEADER_SIZE + len(body), command_id | RESPONSE_BIT, 0, sequence)
        self._out += body

    def _respond_error(self, command_id: int, sequence: int, status: int) -> None:
        if command_id in codec.BODIES and not command_id & RESPONSE_BIT and command_id not in NO_RESPONSE:
            self._out += codec.encode(Pdu(command_id | RESPONSE_BIT, sequence, status))
        else:
            self._out += codec.encode(Pdu(C.GENERIC_NACK, sequence, status))

    # -- binding -----------------------------------------------------------------------------------

    def bind(
        self,
        mode: BindMode,
        system_id: str,
        password: str,
        now: float,
        *,
        system_type: str = "",
        interface_version: int = 0x34,
        addr_ton: int = 0,
        addr_npi: int = 0,
        address_range: str = "",
    ) -> int:
        """ESME: send bind_transmitter/receiver/transceiver (§4.1)."""
        if self.role is not Role.ESME or self.state is not State.OPEN:
            raise LocalProtocolError(f"cannot bind as {self.role.value} in state {self.state.value}")
        pdu = codec.make(
            BIND_COMMAND[mode],
            system_id=system_id,
            password=password,
            system_type=system_type,
            interface_version=interface_version,
            addr_ton=addr_ton,
            addr_npi=addr_npi,
            address_range=address_range,
        )
        try:
            body = _body(pdu)
        except PduError as exc:  # e.g. a password longer than 8 octets (§4.1.1)
            raise ConfigurationError(f"bind: {exc}") from exc
        seq = self._next_sequence()
        self._out += _header(HEADER_SIZE + len(body), pdu.command_id, 0, seq) + body
        self._pending[seq] = (pdu.command_id, now + self.config.response_timeout, mode)
        self.state = State.BINDING
        self.mode = mode
        return seq

    def accept_bind(self, request: Pdu, system_id: str, now: float) -> None:
        """SMSC: accept a bind; sc_interface_version only to peers that announced 3.4 (§4.1.2)."""
        mode = BIND_MODE[request.command_id]
        tlvs: dict[int, bytes] = {}
        if request.get("interface_version") >= 0x34:
            tlvs[Tag.SC_INTERFACE_VERSION] = b"\x34"
        self.respond(request, 0, tlvs, system_id=system_id)
        self.state = BOUND_STATE[mode]
        self.mode = mode
        self.peer_system_id = request.get("system_id")
        self._last_rx = now

    def reject_bind(self, request: Pdu, status: int) -> None:
        self._out += codec.encode(Pdu(request.command_id | RESPONSE_BIT, request.sequence, status))

    def unbind(self, now: float) -> int:
        """Start a clean unbind (§4.2); UnbindCompleted follows the response."""
        seq = self.send_request_body(C.UNBIND, b"", now)
        self.state = State.UNBINDING
        return seq

    def close(self) -> list[tuple[int, int, Any]]:
        """The transport is gone: return (sequence, command_id, context) of every request left
        unanswered, so their outcome can be reported as unknown."""
        self.state = State.CLOSED
        left = [(seq, cid, ctx) for seq, (cid, _, ctx) in self._pending.items() if ctx is not _KEEPALIVE]
        self._pending.clear()
        self._windowed = 0
        return left

    # -- receiving ---------------------------------------------------------------------------------

    def receive_data(self, data: bytes, now: float) -> list[Event]:
        """Feed bytes from the transport; returns the events they complete."""
        self._last_rx = now
        # Whole PDUs are sliced straight out of immutable bytes (one copy each); only a partial
        # PDU at the end of a read waits in the buffer for the next one.
        if self._in:
            self._in += data
            buf = bytes(self._in)
            self._in.clear()
        else:
            buf = data if type(data) is bytes else bytes(data)
        events: list[Event] = []
        pos = 0
        end = len(buf)
        limit = self.config.max_pdu_size
        hook = self.frame_hook
        while end - pos >= 4 and self.state is not State.CLOSED:
            length = _LENGTH(buf, pos)[0]
            if length < HEADER_SIZE or length > limit:
                self._fatal(buf, pos, length, events)
                pos = end
                break
            if end - pos < length:
                break
            frame = buf[pos : pos + length]
            if hook is None or events or not hook(frame, now):
                self._handle_pdu(frame, now, events)
            pos += length
        if pos < end:
            self._in += buf[pos:]
        return events

    def _fatal(self, buf: bytes, pos: int, length: int, events: list[Event]) -> None:
        seq = int.from_bytes(buf[pos + 12 : pos + 16], "big") if len(buf) - pos >= 16 else 0
        self._out += codec.encode(Pdu(C.GENERIC_NACK, seq, st.ESME_RINVCMDLEN))
        self.state = State.CLOSED
        events.append(ProtocolViolation(f"invalid command_length {length}", fatal=True))

    def _handle_pdu(self, raw: bytes, now: float, events: list[Event]) -> None:
        try:
            pdu = codec.decode(raw)
        except PduError as exc:
            if exc.command_id & RESPONSE_BIT:
                events.append(
                    ProtocolViolation(f"undecodable {codec.command_name(exc.command_id)}: {exc}", False)
                )
                self._resolve_failed_response(exc.sequence, events)
            else:
                self._respond_error(exc.command_id, exc.sequence, exc.status)
                events.append(ProtocolViolation(f"{codec.command_name(exc.command_id)}: {exc}", fatal=False))
            return
        if pdu.command_id & RESPONSE_BIT:
            self._handle_response(pdu, events)
        else:
            self._handle_request(pdu, now, events)

    def settle_response(self, command_id: int, sequence: int) -> bool:
        """Take a response whose body its owner does not need (a frame hook's deliver_sm_resp): the
        request it answers is forgotten and its window credit returned, as on ResponseReceived, with
        no decoding and no event. False, with nothing changed, unless a windowed request of that
        type waits on ``sequence``: then the frame is decoded and any violation reported as usual."""
        return self.take_response(command_id, sequence) is not NOT_WAITING

    def take_response(self, command_id: int, sequence: int) -> Any:
        """:meth:`settle_response` that returns the request's context (what ResponseReceived would
        carry), or :data:`NOT_WAITING` with nothing changed: the client's fast path answers its
        submit_sm this way (:mod:`channels.smpp.fastpath`)."""
        entry = self._pending.get(sequence)
        if (
            entry is None
            or entry[0] | RESPONSE_BIT != command_id
            or entry[0] in _NOT_WINDOWED
            or entry[0] in BIND_MODE
        ):
            return NOT_WAITING
        del self._pending[sequence]
        self._windowed -= 1
        return entry[2]

    def _resolve_failed_response(self, sequence: int, events: list[Event]) -> None:
        entry = self._pop_pending(sequence)
        if entry is not None:
            nack = Pdu(C.GENERIC_NACK, sequence, st.ESME_RINVCMDLEN)
            events.append(ResponseReceived(nack, entry[2]))

    def _pop_pending(self, sequence: int) -> tuple[int, float, Any] | None:
        entry = self._pending.pop(sequence, None)
        if entry is not None and entry[0] not in _NOT_WINDOWED and entry[0] not in BIND_MODE:
            self._windowed -= 1
        return entry

    def _handle_response(self, pdu: Pdu, events: list[Event]) -> None:
        cid = pdu.command_id
        entry = self._pending.get(pdu.sequence)
        if entry is None or (cid != C.GENERIC_NACK and entry[0] | RESPONSE_BIT != cid):
            # Unknown sequence or wrong response type: the request (if any) keeps its place and deadline.
            events.append(ProtocolViolation(f"unexpected {pdu.name} seq {pdu.sequence}", fatal=False))
            return
        self._pop_pending(pdu.sequence)
        request_id, _, context = entry
        if context is _KEEPALIVE:
            self._keepalive_seq = None
        elif request_id in BIND_MODE:
            self._bind_answered(pdu, events)
        elif request_id == C.UNBIND:
            self.state = State.CLOSED
            events.append(UnbindCompleted())
        else:
            events.append(ResponseReceived(pdu, context))

    def _bind_answered(self, pdu: Pdu, events: list[Event]) -> None:
        if pdu.status == 0 and pdu.command_id != C.GENERIC_NACK:
            assert self.mode is not None
            self.state = BOUND_STATE[self.mode]
            self.peer_system_id = pdu.get("system_id")
            events.append(Bound(self.mode, self.peer_system_id or "", pdu.tlv_int(Tag.SC_INTERFACE_VERSION)))
        else:
            self.state = State.OPEN
            events.append(BindFailed(pdu.status or st.ESME_RBINDFAIL))

    def _handle_request(self, pdu: Pdu, now: float, events: list[Event]) -> None:
        cid = pdu.command_id
        allowed = self._recv_states.get(cid)
        if allowed is None:
            # A command valid in SMPP but not from this peer's role (e.g. submit_sm to an ESME).
            self._respond_error(
                cid, pdu.sequence, st.ESME_RINVCMDID if cid == C.GENERIC_NACK else st.ESME_RINVBNDSTS
            )
            events.append(ProtocolViolation(f"{pdu.name} not accepted by {self.role.value}", fatal=False))
            return
        if self.state not in allowed:
            status = st.ESME_RALYBND if cid in BIND_MODE and self.bound else st.ESME_RINVBNDSTS
            if cid != C.GENERIC_NACK:
                self._respond_error(cid, pdu.sequence, status)
            events.append(ProtocolViolation(f"{pdu.name} in state {self.state.value}", fatal=False))
            return
        if cid == C.ENQUIRE_LINK:
            self._out += _header(HEADER_SIZE, C.ENQUIRE_LINK_RESP, 0, pdu.sequence)
        elif cid == C.UNBIND:
            self._out += _header(HEADER_SIZE, C.UNBIND_RESP, 0, pdu.sequence)
            self.state = State.CLOSED
            events.append(UnbindReceived())
        elif cid == C.GENERIC_NACK:
            entry = self._pop_pending(pdu.sequence)
            if entry is not None:
                self._handle_nack_for(pdu, entry, events)
            else:
                events.append(ProtocolViolation(f"generic_nack {pdu.status:#x} for unknown seq", fatal=False))
        elif cid in BIND_MODE:
            events.append(BindRequested(pdu, BIND_MODE[cid]))
        else:
            events.append(RequestReceived(pdu))

    def _handle_nack_for(self, pdu: Pdu, entry: tuple[int, float, Any], events: list[Event]) -> None:
        request_id, _, context = entry
        if context is _KEEPALIVE:
            self._keepalive_seq = None
        elif request_id in BIND_MODE:
            self._bind_answered(pdu, events)
        else:
            events.append(ResponseReceived(pdu, context))

    # -- timers ------------------------------------------------------------------------------------

    def get_timer(self) -> float | None:
        """When handle_timer() is next due (monotonic seconds), or None."""
        cfg = self.config
        deadlines: list[float] = []
        if self._pending:
            deadlines.append(next(iter(self._pending.values()))[1])
        if self.state is State.CLOSED:
            return min(deadlines) if deadlines else None
        if self.bound and cfg.enquire_link_interval > 0 and self._keepalive_seq is None:
            deadlines.append(self._last_rx + cfg.enquire_link_interval)
        if self.role is Role.SMSC:
            if self.state is State.OPEN and cfg.session_init_timeout > 0:
                deadlines.append(self._opened_at + cfg.session_init_timeout)
            if cfg.inactivity_timeout > 0:
                deadlines.append(self._last_rx + cfg.inactivity_timeout)
        return min(deadlines) if deadlines else None

    def handle_timer(self, now: float) -> list[Event]:
        events: list[Event] = []
        for seq, (cid, _deadline, ctx) in list(_due(self._pending, now)):
            self._pop_pending(seq)
            if ctx is _KEEPALIVE:
                events.append(LinkDead("enquire_link unanswered"))
            elif cid in BIND_MODE:
                self.state = State.OPEN
                events.append(BindFailed(st.ESME_RBINDFAIL))
            else:
                events.append(ResponseTimedOut(seq, cid, ctx))
        if self.state is State.CLOSED:
            return events
        cfg = self.config
        if (
            self.bound
            and cfg.enquire_link_interval > 0
            and self._keepalive_seq is None
            and now >= self._last_rx + cfg.enquire_link_interval
        ):
            self._keepalive_seq = self.send_request_body(C.ENQUIRE_LINK, b"", now, _KEEPALIVE)
        if self.role is Role.SMSC:
            if (
                self.state is State.OPEN
                and cfg.session_init_timeout > 0
                and now >= self._opened_at + cfg.session_init_timeout
            ):
                events.append(LinkDead("no bind within session_init_timeout"))
            elif cfg.inactivity_timeout > 0 and now >= self._last_rx + cfg.inactivity_timeout:
                events.append(LinkDead("inactivity_timeout"))
        return events


def _due(
    pending: dict[int, tuple[int, float, Any]], now: float
) -> Iterator[tuple[int, tuple[int, float, Any]]]:
    for seq, entry in pending.items():
        if entry[1] > now:
            return
        yield seq, entry


_LENGTH = struct.Struct(">I").unpack_from  # command_length (§3.2)
_header = struct.Struct(">IIII").pack  # command_length, command_id, command_status, sequence (§3.2)
_body = codec.encode_body
