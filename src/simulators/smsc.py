"""An SMSC simulator speaking SMPP 3.4, built on the same :class:`SmppConnection` as the client (SMSC
role), so what it accepts is exactly what the protocol core accepts.

It authenticates binds against configured accounts, answers submit_sm with message ids (after a
scripted latency), throttles above a configured TPS with ESME_RTHROTTLED, fails every Nth submit if
asked, reassembles concatenated messages the way a handset would, records what each subscriber would
see, and sends delivery receipts (deliver_sm, esm_class 0x04, receipt text + receipted_message_id and
message_state TLVs) after a delay with a seeded outcome mix. Receipts go to a receiver-capable bind
of the same account, and wait in a queue while none is bound (store and forward).
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import structlog

from channels.results import DeliveryState
from channels.smpp import pdu as codec
from channels.smpp import status as st
from channels.smpp.concat import Reassembler
from channels.smpp.connection import (
    BindRequested,
    Event,
    LinkDead,
    ProtocolViolation,
    RequestReceived,
    ResponseReceived,
    Role,
    SessionConfig,
    SmppConnection,
    UnbindReceived,
)
from channels.smpp.constants import CommandId, EsmClass, MessageState, Tag
from channels.smpp.dlr import STATE_TO_STAT, format_receipt_text
from channels.smpp.pdu import Pdu
from channels.smpp.transport import SmppTransport
from channels.wap.push import handset_view
from channels.wap.wdp import PUSH_PORTS
from simulators.recorder import Recorder

log = structlog.get_logger(__name__)
C = CommandId

_MESSAGE_STATE = {
    DeliveryState.DELIVERED: MessageState.DELIVERED,
    DeliveryState.EXPIRED: MessageState.EXPIRED,
    DeliveryState.UNDELIVERABLE: MessageState.UNDELIVERABLE,
    DeliveryState.REJECTED: MessageState.REJECTED,
    DeliveryState.UNKNOWN: MessageState.UNKNOWN,
    DeliveryState.ACCEPTED: MessageState.ACCEPTED,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class SmscScenario:
    """How the simulated SMSC behaves. Seeded: the same scenario gives the same outcomes."""

    seed: int = 0
    response_latency: float = 0.0  # seconds before submit_sm_resp
    max_tps: float = 0.0  # per account; above it ESME_RTHROTTLED (0 = unlimited)
    receipts: bool = True
    receipt_delay: float = 0.05  # seconds after the submit_sm_resp
    outcomes: Mapping[DeliveryState, float] = field(default_factory=lambda: {DeliveryState.DELIVERED: 1.0})
    error_every: int = 0  # answer every Nth submit with error_status (0 = never)
    error_status: int = st.ESME_RSYSERR
    hex_ids: bool = True  # message ids as hex (True) or decimal
    window: int = 512  # how many deliver_sm we keep outstanding per bind
    enquire_link_interval: float = 30.0
    inactivity_timeout: float = 300.0


class _Account:
    def __init__(self, password: str) -> None:
        self.password = password
        self.tat = 0.0  # GCRA theoretical arrival time for max_tps
        self.sessions: list[_Session] = []
        self.backlog: deque[Pdu] = deque()  # receipts waiting for a receiver bind


class _Session:
    def __init__(self, sim: SmscSimulator) -> None:
        self.sim = sim
        loop = asyncio.get_running_loop()
        sc = sim.scenario
        config = SessionConfig(
            window=sc.window,
            enquire_link_interval=sc.enquire_link_interval,
            inactivity_timeout=sc.inactivity_timeout,
        )
        self.conn = SmppConnection(Role.SMSC, config, now=loop.time())
        self.proto = SmppTransport(self.conn, self.on_events, self.on_lost)
        self.account: _Account | None = None
        self.outq: deque[Pdu] = deque()

    @property
    def can_receive(self) -> bool:
        return self.conn.bound and self.conn.mode is not None and self.conn.mode.value in ("rx", "trx")

    def on_events(self, events: list[Event]) -> None:
        for ev in events:
            if isinstance(ev, RequestReceived):
                self.sim._on_request(self, ev.pdu)
            elif isinstance(ev, ResponseReceived):
                self.pump()
            elif isinstance(ev, BindRequested):
                self.sim._on_bind(self, ev.pdu)
            elif isinstance(ev, UnbindReceived):
                self.proto.close()
            elif isinstance(ev, LinkDead):
                self.proto.abort()
            elif isinstance(ev, ProtocolViolation):
                log.info("smsc.protocol.violation", reason=ev.reason, fatal=ev.fatal)
                if ev.fatal:
                    self.proto.close()

    def on_lost(self, exc: Exception | None) -> None:
        self.conn.close()
        self.sim._sessions.discard(self)
        if self.account is not None and self in self.account.sessions:
            self.account.sessions.remove(self)
            self.account.backlog.extend(self.outq)  # undelivered receipts wait for the next bind
        self.outq.clear()

    def push(self, pdu: Pdu) -> None:
        self.outq.append(pdu)
        self.pump()

    def pump(self) -> None:
        loop = asyncio.get_running_loop()
        while self.outq and self.conn.credit > 0 and self.can_receive:
            self.conn.send_request(self.outq.popleft(), loop.time())
        self.proto.schedule_flush()
        self.proto.rearm()


class SmscSimulator:
    """An SMPP 3.4 SMSC on loopback. ``async with SmscSimulator(...) as smsc: smsc.url``."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        accounts: Mapping[str, str] | None = None,
        scenario: SmscScenario | None = None,
        record_path: str | Path | None = None,
        system_id: str = "TCSMSC",
    ) -> None:
        self.host = host
        self.port = port
        self.scenario = scenario or SmscScenario()
        self.system_id = system_id
        self.accounts = {sid: _Account(pw) for sid, pw in (accounts or {"test": "secret"}).items()}
        self.recorder = Recorder(record_path)
        self.rng = random.Random(self.scenario.seed)
        self._server: asyncio.Server | None = None
        self._sessions: set[_Session] = set()
        self._next_id = 0x1000
        self._reassembler = Reassembler()
        self._states = list(self.scenario.outcomes)
        self._weights = list(self.scenario.outcomes.values())
        self.submits = 0
        self.receipts_sent = 0
        self.throttled = 0
        self.messages: dict[str, DeliveryState] = {}  # message id -> final state (query_sm)

    @property
    def url(self) -> str:
        sid, account = next(iter(self.accounts.items()))
        return f"smpp://{sid}:{account.password}@{self.host}:{self.port}"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._new_session, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("smsc.started", host=self.host, port=self.port)

    def _new_session(self) -> SmppTransport:
        session = _Session(self)
        self._sessions.add(session)
        return session.proto

    async def __aenter__(self) -> SmscSimulator:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
            for session in list(self._sessions):
                session.proto.abort()
            await self._server.wait_closed()
            self._server = None
        self.recorder.close()

    # -- protocol handlers -------------------------------------------------------------------------

    def _on_bind(self, session: _Session, pdu: Pdu) -> None:
        account = self.accounts.get(pdu.get("system_id"))
        if account is None:
            session.conn.reject_bind(pdu, st.ESME_RINVSYSID)
        elif account.password != pdu.get("password"):
            session.conn.reject_bind(pdu, st.ESME_RINVPASWD)
        else:
            session.conn.accept_bind(pdu, self.system_id, asyncio.get_running_loop().time())
            session.account = account
            account.sessions.append(session)
            while account.backlog and session.can_receive:
                session.outq.append(account.backlog.popleft())
            session.pump()
        session.proto.schedule_flush()

    def _on_request(self, session: _Session, pdu: Pdu) -> None:
        cid = pdu.command_id
        if cid in (C.SUBMIT_SM, C.DATA_SM):
            self._on_submit(session, pdu)
        elif cid == C.QUERY_SM:
            state = self.messages.get(pdu.get("message_id"))
            if state is None:
                session.conn.respond(pdu, st.ESME_RQUERYFAIL)
            else:
                session.conn.respond(
                    pdu, 0, message_id=pdu.get("message_id"), message_state=_MESSAGE_STATE[state]
                )
        elif cid == C.CANCEL_SM:
            known = pdu.get("message_id") in self.messages
            session.conn.respond(pdu, 0 if known else st.ESME_RCANCELFAIL)
        else:  # submit_multi, replace_sm: not offered by this SMSC
            session.conn.respond(pdu, st.ESME_RINVCMDID)
        session.proto.schedule_flush()

    def _admit(self, session: _Session) -> int:
        """The status to answer a submit with: throttling (GCRA), scripted errors, or ROK."""
        sc = self.scenario
        self.submits += 1
        if sc.error_every and self.submits % sc.error_every == 0:
            return sc.error_status
        if sc.max_tps > 0 and session.account is not None:
            now = asyncio.get_running_loop().time()
            interval = 1.0 / sc.max_tps
            tat = max(session.account.tat, now)
            if tat - now > interval:  # no burst beyond one message
                self.throttled += 1
                return st.ESME_RTHROTTLED
            session.account.tat = tat + interval
        return 0

    def _on_submit(self, session: _Session, pdu: Pdu) -> None:
        status = self._admit(session)
        if status:
            self._answer(session, pdu, status, "")
            return
        self._next_id += 1
        message_id = format(self._next_id, "X") if self.scenario.hex_ids else str(self._next_id)
        state = self.rng.choices(self._states, self._weights)[0] if self._states else DeliveryState.DELIVERED
        self.messages[message_id] = state
        self._answer(session, pdu, 0, message_id)
        self._record(session, pdu, message_id, state)
        if self.scenario.receipts and pdu.get("registered_delivery") & 0x03:
            asyncio.get_running_loop().call_later(
                self.scenario.response_latency + self.scenario.receipt_delay,
                self._send_receipt,
                session,
                pdu,
                message_id,
                state,
                datetime.now(UTC),
            )

    def _answer(self, session: _Session, pdu: Pdu, status: int, message_id: str) -> None:
        delay = self.scenario.response_latency
        if delay > 0:
            asyncio.get_running_loop().call_later(
                delay, self._respond_later, session, pdu, status, message_id
            )
        else:
            session.conn.respond(pdu, status, message_id=message_id) if not status else session.conn.respond(
                pdu, status
            )

    def _respond_later(self, session: _Session, pdu: Pdu, status: int, message_id: str) -> None:
        if session.proto.closed:
            return
        if status:
            session.conn.respond(pdu, status)
        else:
            session.conn.respond(pdu, 0, message_id=message_id)
        session.proto.schedule_flush()

    def _record(self, session: _Session, pdu: Pdu, message_id: str, state: DeliveryState) -> None:
        body = pdu.tlvs.get(Tag.MESSAGE_PAYLOAD) or pdu.get("short_message") or b""
        whole = self._reassembler.feed(
            source=pdu.get("source_addr"),
            destination=pdu.get("destination_addr"),
            short_message=body,
            esm_class=pdu.get("esm_class"),
            tlvs=pdu.tlvs,
            data_coding=pdu.get("data_coding"),
            now=asyncio.get_running_loop().time(),
        )
        if whole is None:
            return  # a part: the record is written when the message is complete
        record: dict[str, Any] = {
            "system_id": session.account and session.conn.peer_system_id,
            "source": pdu.get("source_addr"),
            "destination": pdu.get("destination_addr"),
            "text": whole.text,
            "data_coding": pdu.get("data_coding"),
            "esm_class": pdu.get("esm_class"),
            "parts": whole.parts,
            "message_id": message_id,
            "receipt_state": state.value,
            "service_type": pdu.get("service_type"),
            "received_at": datetime.now(UTC).isoformat(),
        }
        if whole.destination_port in PUSH_PORTS:  # a WAP push: what the handset shows
            record["text"] = ""
            record.update(handset_view(whole.data))
        self.recorder.record(record)

    def _send_receipt(
        self, session: _Session, submit: Pdu, message_id: str, state: DeliveryState, submitted: datetime
    ) -> None:
        text = format_receipt_text(
            id=message_id,
            stat=STATE_TO_STAT[state],
            err="000" if state is DeliveryState.DELIVERED else "001",
            submit_date=submitted,
            done_date=datetime.now(UTC),
            text="",
        )
        receipt = codec.make(
            C.DELIVER_SM,
            tlvs={
                Tag.RECEIPTED_MESSAGE_ID: message_id.encode("ascii") + b"\x00",
                Tag.MESSAGE_STATE: bytes((_MESSAGE_STATE[state],)),
            },
            source_addr_ton=submit.get("dest_addr_ton"),
            source_addr_npi=submit.get("dest_addr_npi"),
            source_addr=submit.get("destination_addr"),
            dest_addr_ton=submit.get("source_addr_ton"),
            dest_addr_npi=submit.get("source_addr_npi"),
            destination_addr=submit.get("source_addr"),
            esm_class=EsmClass.SMSC_DELIVERY_RECEIPT,
            short_message=text.encode("ascii"),
        )
        self.receipts_sent += 1
        self._route(session, receipt)

    def _route(self, session: _Session, pdu: Pdu) -> None:
        """To the submitting bind if it can receive, else another receiver bind of the account."""
        account = session.account
        if session.can_receive and not session.proto.closed:
            session.push(pdu)
            return
        if account is None:
            return
        for other in account.sessions:
            if other.can_receive and not other.proto.closed:
                other.push(pdu)
                return
        account.backlog.append(pdu)

    def stats(self) -> dict[str, Any]:
        return {
            "submits": self.submits,
            "receipts_sent": self.receipts_sent,
            "throttled": self.throttled,
            "sessions": len(self._sessions),
        }
