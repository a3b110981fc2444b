"""An SMSC simulator speaking SMPP 3.4, built on the same :class:`SmppConnection` as the client (SMSC
role), so what it accepts is exactly what the protocol core accepts.

It authenticates binds against configured accounts, answers submit_sm with message ids (after a
scripted latency), throttles above a configured TPS with ESME_RTHROTTLED, reassembles concatenated
messages the way a handset would, records what each subscriber would see, sends delivery receipts in
the variants real SMSCs use (:mod:`simulators.smsc_receipts`) after a delay with a seeded outcome mix,
and makes a share of recipients reply (:mod:`simulators.smsc_mo`). Receipts and replies go to a
receiver-capable bind of the same account and wait in a queue while none is bound (store and forward).
Trouble on demand (:class:`SmscScenario`): errors every Nth submit, a link dropped or stalled at the Nth
submit, binds refused for a while or beyond ``max_binds``.

A plain submit_sm (one part, no TLVs, plain scenario) and the deliver_sm_resp of its receipt take the
fast path of :mod:`simulators.smsc_fast`, straight from their octets; everything else comes here.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from itertools import accumulate
from pathlib import Path
from types import TracebackType
from typing import Any

import structlog

from channels.content import TextEncoding
from channels.errors import ConfigurationError
from channels.results import DeliveryState
from channels.smpp import status as st
from channels.smpp.concat import ConcatMethod, Reassembler, RefAllocator
from channels.smpp.constants import CommandId, EsmClass, Tag
from channels.smpp.dlr import STATE_TO_MESSAGE_STATE
from channels.smpp.pdu import Pdu
from channels.smpp.transport import SmppTransport
from simulators.recorder import Recorder
from simulators.smsc_clock import WallClock, iso
from simulators.smsc_mo import ReplyPlan, mo_pdus
from simulators.smsc_receipts import Receipts, ascii_preview, wants_receipt
from simulators.smsc_record import (
    ROW_TEXT,
    MessageStates,
    PartCollector,
    PartFate,
    expand_one_part,
    handset_record,
    one_part_row,
    show_push,
)
from simulators.smsc_scenario import IdStyle, ReceiptForm, SmscScenario, id_spec
from simulators.smsc_session import _Account
from simulators.smsc_session import _Session as _Session

__all__ = ["IdStyle", "ReceiptForm", "SmscScenario", "SmscSimulator"]

log = structlog.get_logger(__name__)
C = CommandId
RECEIPT_FIRST_GAP = 0.02  # seconds between an early receipt and the submit_sm_resp it overtakes


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
        self.scenario = sc = scenario or SmscScenario()
        self.system_id = system_id
        self.accounts = {sid: _Account(pw) for sid, pw in (accounts or {"test": "secret"}).items()}
        self.recorder = Recorder(record_path, expand=expand_one_part)
        self.rng = random.Random(sc.seed)
        self._server: asyncio.Server | None = None
        self._sessions: set[_Session] = set()
        self._next_id = 0x0E999F20  # ids with letters, so case and base variants differ (jasmin#643)
        self._reassembler = Reassembler()
        self._parts = PartCollector()
        self._states = list(sc.outcomes)
        self._cum_weights = list(accumulate(sc.outcomes.values()))  # what Random.choices would build
        self._id_format = "%" + id_spec(sc.response_id_style)  # "%X", "%08X", "%012d": one C call per id
        self._only_state = self._states[0] if len(self._states) == 1 else None
        self._receipts = Receipts(sc)
        self.clock = WallClock()
        self._replies = ReplyPlan(sc.seed, sc.reply_rate, sc.replies)
        self._mo_refs = RefAllocator()
        self._refuse_until = 0.0
        self._refuse_status = sc.refuse_status
        self.submits = 0
        self.receipts_sent = 0
        self.throttled = 0
        self.binds = 0
        self.binds_refused = 0
        self.drops = 0
        self.stalls = 0
        self.max_outstanding = 0  # most submits awaiting their response on one session at once
        self.mo: list[dict[str, Any]] = []  # MO messages sent (replies and send_mo)
        self.messages = MessageStates(self._next_id + 1, self._id_format)  # id -> final state (query_sm)

    @property
    def url(self) -> str:
        sid, account = next(iter(self.accounts.items()))
        return f"smpp://{sid}:{account.password}@{self.host}:{self.port}"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._new_session, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        if self.scenario.refuse_binds_for > 0:
            self.refuse_binds(self.scenario.refuse_binds_for)
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

    def refuse_binds(self, seconds: float, status: int | None = None) -> None:
        """Refuse every bind for ``seconds`` from now (maintenance), with ``status``."""
        self._refuse_until = asyncio.get_running_loop().time() + seconds
        self._refuse_status = status if status is not None else self.scenario.refuse_status

    def drop_sessions(self) -> int:
        """Drop every connection without unbind (a network failure); returns how many."""
        sessions = list(self._sessions)
        for session in sessions:
            session.proto.abort()
        return len(sessions)

    # -- binds -------------------------------------------------------------------------------------

    def _on_bind(self, session: _Session, pdu: Pdu) -> None:
        now = asyncio.get_running_loop().time()
        account = self.accounts.get(pdu.get("system_id"))
        status = 0
        if now < self._refuse_until:
            status = self._refuse_status
        elif account is None:
            status = st.ESME_RINVSYSID
        elif account.password != pdu.get("password"):
            status = st.ESME_RINVPASWD
        elif self.scenario.max_binds and account.live_binds(now) >= self.scenario.max_binds:
            status = st.ESME_RALYBND
        if status or account is None:
            self.binds_refused += 1
            session.conn.reject_bind(pdu, status)
            session.proto.schedule_flush()
            return
        session.conn.accept_bind(pdu, self.system_id, now)
        session.account = account
        account.sessions.append(session)
        self.binds += 1
        while account.backlog and session.can_receive:
            session.outq.append(account.backlog.popleft())
        session.pump()
        session.proto.schedule_flush()

    # -- submits -----------------------------------------------------------------------------------

    def _on_request(self, session: _Session, pdu: Pdu) -> None:
        if session.dropped:
            return  # the rest of a read after a scripted drop never reached this SMSC
        cid = pdu.command_id
        if cid in (C.SUBMIT_SM, C.DATA_SM):
            self._on_submit(session, pdu)
        elif cid == C.QUERY_SM:
            state = self.messages.get(pdu.get("message_id"))
            if state is None:
                session.conn.respond(pdu, st.ESME_RQUERYFAIL)
            else:
                session.conn.respond(
                    pdu, 0, message_id=pdu.get("message_id"), message_state=STATE_TO_MESSAGE_STATE[state]
                )
        elif cid == C.CANCEL_SM:
            known = pdu.get("message_id") in self.messages
            session.conn.respond(pdu, 0 if known else st.ESME_RCANCELFAIL)
        else:  # submit_multi, replace_sm: not offered by this SMSC
            session.conn.respond(pdu, st.ESME_RINVCMDID)
        # No flush to schedule: the transport writes what a read's events queued once they are handled.

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

    def _trouble(self, session: _Session) -> bool:
        """Apply the stall / drop of the scenario at this submit; True when the link was dropped."""
        sc = self.scenario
        session.submits += 1
        if (
            sc.stall_after
            and session.submits == sc.stall_after
            and (not sc.stall_times or self.stalls < sc.stall_times)
        ):
            self.stalls += 1
            session.stall(sc.stall_for)
        if (
            sc.drop_after
            and session.submits == sc.drop_after
            and (not sc.drop_times or self.drops < sc.drop_times)
        ):
            self.drops += 1
            log.info("smsc.session.dropped", submits=session.submits)
            session.dropped = True
            session.proto.abort()
            return True
        return False

    def _on_submit(self, session: _Session, pdu: Pdu) -> None:
        status = self._admit(session)
        if status:
            if not self._trouble(session):
                self._answer(session, pdu, status, "")
            return
        sc = self.scenario
        number, message_id, state = self._accept()
        text = self._record(session, pdu, message_id, state)
        wants = sc.receipts and wants_receipt(pdu.get("registered_delivery"), state)
        submitted = self.clock.time() if wants else 0.0
        if self._trouble(session):
            # Accepted and recorded, the receipt on its way: only the response is lost.
            if wants and self._schedule_receipts(session, pdu, number, state, submitted, text):
                self._send_receipt(session, pdu, number, state, submitted, text)
            return
        delay = max(sc.response_latency, RECEIPT_FIRST_GAP) if sc.receipt_first else None
        self._answer(session, pdu, 0, message_id, delay=delay)
        # Scheduled after the response, so that a receipt due with it (receipt_delay 0 behind a
        # response_latency) is written after it, as receipt_delay promises, not before.
        if wants and self._schedule_receipts(session, pdu, number, state, submitted, text):
            self._send_receipt(session, pdu, number, state, submitted, text)  # in the same write

    def _accept(self) -> tuple[int, str, DeliveryState]:
        """A new message: its number, its id as the submit_sm_resp spells it, and the outcome drawn
        for it (kept for query_sm)."""
        self._next_id = number = self._next_id + 1
        message_id = self._id_format % number
        state = self._only_state  # one outcome: no draw (Random.choices was 7% of the simulator)
        if state is None:
            states = self._states
            if states:
                state = self.rng.choices(states, cum_weights=self._cum_weights)[0]
            else:
                state = DeliveryState.DELIVERED
        self.messages.append(state)
        return number, message_id, state

    def _answer(
        self, session: _Session, pdu: Pdu, status: int, message_id: str, *, delay: float | None = None
    ) -> None:
        if delay is None:
            delay = self.scenario.response_latency
        if session.stalled_until and session.stalled:
            delay = max(delay, session.stalled_until - asyncio.get_running_loop().time())
        session.unanswered += 1
        if session.unanswered > self.max_outstanding:
            self.max_outstanding = session.unanswered
        if delay > 0:
            asyncio.get_running_loop().call_later(
                delay, self._respond_later, session, pdu, status, message_id
            )
        else:
            self._respond_now(session, pdu, status, message_id)

    def _respond_now(self, session: _Session, pdu: Pdu, status: int, message_id: str) -> None:
        session.unanswered -= 1
        if status:
            session.conn.respond(pdu, status)
        else:
            session.conn.respond_ok(pdu, message_id)

    def _respond_later(self, session: _Session, pdu: Pdu, status: int, message_id: str) -> None:
        if session.proto.closed:
            return
        self._respond_now(session, pdu, status, message_id)
        session.proto.schedule_flush()

    # -- what the handset shows --------------------------------------------------------------------

    def _record(self, session: _Session, pdu: Pdu, message_id: str, state: DeliveryState) -> str | None:
        """Record what the handset shows once the message is whole; returns the text of a message in
        one part (its receipt's preview), else None."""
        system_id = session.conn.peer_system_id if session.account is not None else None
        p = pdu.params
        if (
            not pdu.tlvs
            and pdu.command_id == C.SUBMIT_SM
            and pdu.status == 0  # so every mandatory field was decoded (SMPP v3.4 §4.4.1)
            and not p["esm_class"] & EsmClass.UDHI
        ):
            # One part, no UDH, no SAR or port TLVs: nothing to reassemble (TS 23.040 §9.2.3.24).
            row = one_part_row(system_id, p, message_id, state._value_, self.clock.time())
            self.recorder.record_row(row)
            if self._replies.rate:
                self._maybe_reply(session, p["source_addr"], p["destination_addr"])
            text: str = row[ROW_TEXT]
            return text
        body = pdu.tlvs.get(Tag.MESSAGE_PAYLOAD) or pdu.get("short_message") or b""
        source, destination, esm = pdu.get("source_addr"), pdu.get("destination_addr"), pdu.get("esm_class")
        fate = PartFate(1, message_id, state, len(body))
        parts = self._parts.add(source, destination, body, esm, pdu.tlvs, fate)
        whole = self._reassembler.feed(
            source=source,
            destination=destination,
            short_message=body,
            esm_class=esm,
            tlvs=pdu.tlvs,
            data_coding=pdu.get("data_coding"),
            now=asyncio.get_running_loop().time(),
        )
        if whole is None or parts is None:
            return None  # a part: the record is written when the message is complete
        record = handset_record(
            system_id,
            source,
            destination,
            pdu.get("data_coding"),
            esm,
            pdu.get("service_type"),
            whole.text,
            whole.parts,
            [p.message_id for p in parts],
            [p.state for p in parts],
            [p.octets for p in parts],
            iso(self.clock.time()),
        )
        show_push(record, whole)
        self.recorder.record(record)
        self._maybe_reply(session, source, destination)
        return None

    # -- receipts ----------------------------------------------------------------------------------

    def _schedule_receipts(
        self,
        session: _Session,
        pdu: Pdu,
        number: int,
        state: DeliveryState,
        submitted: float,
        text: str | None,
    ) -> bool:
        """Send or time the receipts of an accepted submit; True when the final one is due at once,
        for the caller to send right after the submit_sm_resp (no timer per message: the common
        load-test set-up)."""
        sc = self.scenario
        if sc.receipt_first:
            if sc.acceptd_first:
                self._send_receipt(session, pdu, number, DeliveryState.ACCEPTED, submitted, text)
            self._send_receipt(session, pdu, number, state, submitted, text)
            return False
        at = sc.response_latency + sc.receipt_delay
        loop = asyncio.get_running_loop()
        if sc.acceptd_first:
            loop.call_later(
                at / 2, self._send_receipt, session, pdu, number, DeliveryState.ACCEPTED, submitted, text
            )
        elif at <= 0 and not (session.stalled_until and session.stalled):
            return True
        elif sc.response_latency <= 0:
            # Receipts are the only calls timed per message: one queue, one timer (_Session.call_at).
            # (With ACCEPTD first or delayed responses, timers of two delays interleave: one each.)
            session.call_at(
                loop.time() + at, self._send_receipt, session, pdu, number, state, submitted, text
            )
            return False
        loop.call_later(at, self._send_receipt, session, pdu, number, state, submitted, text)
        return False

    def _send_receipt(
        self,
        session: _Session,
        submit: Pdu,
        number: int,
        state: DeliveryState,
        submitted: float,
        text: str | None,
    ) -> None:
        preview = None if text is None else ascii_preview(text)
        receipt = self._receipts.pdu(submit, number, state, submitted, self.clock.time(), preview)
        self.receipts_sent += 1
        self._route(session, receipt)

    def _route(self, session: _Session, pdu: Pdu) -> None:
        """To the submitting bind if it can receive, else another receiver bind of the account."""
        if session.can_receive and not session.proto.closed:
            session.push(pdu)
        elif session.account is not None:
            self._route_account(session.account, pdu)

    def _route_account(self, account: _Account, pdu: Pdu) -> None:
        for other in account.sessions:
            if other.can_receive and not other.proto.closed:
                other.push(pdu)
                return
        account.backlog.append(pdu)

    # -- subscribers' replies (MO) -----------------------------------------------------------------

    def _maybe_reply(self, session: _Session, source: str, destination: str) -> None:
        """The recipient of a recorded message may answer its sender (ReplyPlan)."""
        text = self._replies.reply_for(destination)
        if text is None or session.account is None:
            return
        system_id = session.conn.peer_system_id
        asyncio.get_running_loop().call_later(
            self.scenario.reply_delay, self._reply, destination, source, text, system_id
        )

    def _reply(self, source: str, destination: str, text: str, system_id: str | None) -> None:
        self.send_mo(source, destination, text, system_id=system_id)

    def send_mo(
        self,
        source: str,
        destination: str,
        text: str,
        *,
        method: ConcatMethod | None = None,
        encoding: TextEncoding | None = None,
        system_id: str | None = None,
    ) -> list[Pdu]:
        """A subscriber ``source`` texts ``destination``: deliver_sm part(s) to the account's
        receiver bind (queued until one binds). Returns the PDUs sent."""
        method = method or self.scenario.reply_method
        pdus = mo_pdus(
            source, destination, text, method=method, ref=self._mo_refs.next(source), encoding=encoding
        )
        for pdu in pdus:
            self.deliver(pdu, system_id=system_id)
        self.mo.append({"source": source, "destination": destination, "text": text, "parts": len(pdus)})
        return pdus

    def deliver(self, pdu: Pdu, *, system_id: str | None = None) -> None:
        """Send any deliver_sm/data_sm to an account's receiver bind (the first account by default)."""
        sid = system_id or next(iter(self.accounts))
        account = self.accounts.get(sid)
        if account is None:
            raise ConfigurationError(f"system_id {sid!r}: no such account")
        self._route_account(account, pdu)

    def stats(self) -> dict[str, Any]:
        return {
            "submits": self.submits,
            "receipts_sent": self.receipts_sent,
            "throttled": self.throttled,
            "sessions": len(self._sessions),
            "binds": self.binds,
            "binds_refused": self.binds_refused,
            "drops": self.drops,
            "stalls": self.stalls,
            "max_outstanding": self.max_outstanding,
            "mo_sent": len(self.mo),
        }
