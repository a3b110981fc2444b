"""A USSD gateway simulator: an SMPP 3.4 server in the SMSC role that plays subscribers' handsets in
USSD dialogues (PROTOCOLS.md §6), built on :class:`~simulators.smsc.SmscSimulator` (same
SmppConnection, binds, accounts, throttling and routing to receiver binds) and on the adapter's own
USSD profiles, so both sides read the op codes and session keys the same way.

A submit_sm carrying ``ussd_service_op`` opens or continues a dialogue keyed by (number, session);
anything else is an ordinary SMS for the SMSC underneath. Each screen is checked against the USSD
limits (ESME_RINVMSGLEN beyond 182 GSM-7 / 80 UCS-2 characters), a push to a subscriber already in a
dialogue is refused (ESME_RSUBMITFAIL, counted in ``collisions``), and the subscriber's answer, USSN
confirm, abort or silence follows after a seeded delay (:mod:`simulators.ussd_handset`). The gateway
can also start user-initiated dialogues (:meth:`UssdGatewaySimulator.dial`, PSSR indication with the
dialled code). Every dialogue's transcript is one recorder record when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from channels.errors import ConfigurationError
from channels.message import mask_msisdn
from channels.smpp import pdu as codec
from channels.smpp import status as st
from channels.smpp.constants import CommandId, Tag
from channels.smpp.encoding import decode_text, encode_text
from channels.smpp.pdu import Pdu
from channels.ussd.profile import Outbound, get_profile
from simulators.smsc import SmscScenario, SmscSimulator, _Session
from simulators.ussd_handset import Action, Decision, Handset, Transcript, UssdScenario

__all__ = ["UssdGatewaySimulator", "UssdScenario"]

log = structlog.get_logger(__name__)
C = CommandId


def _stamp() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(eq=False, slots=True, kw_only=True)
class _Dialogue:
    msisdn: str
    number: int
    session: _Session
    handset: Handset
    transcript: Transcript
    app: tuple[str, int, int]  # the application's address (service code / short code), TON, NPI
    subscriber: tuple[int, int]  # the subscriber's TON, NPI
    step: int = 0
    pending: asyncio.TimerHandle | None = None
    expiry: asyncio.TimerHandle | None = None
    waiting: bool = False  # a screen is shown and the handset has not answered it
    timed_out: bool = False
    done: asyncio.Future[dict[str, Any]] | None = None
    count: dict[str, int] = field(default_factory=dict)


class UssdGatewaySimulator(SmscSimulator):
    """``async with UssdGatewaySimulator(scenario=UssdScenario(...)) as gw: gw.url``."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        accounts: Mapping[str, str] | None = None,
        scenario: UssdScenario | None = None,
        record_path: str | Path | None = None,
        system_id: str = "TCUSSD",
    ) -> None:
        self.ussd = scenario or UssdScenario()
        smsc = SmscScenario(seed=self.ussd.seed, response_latency=self.ussd.response_latency)
        super().__init__(
            host, port, accounts=accounts, scenario=smsc, record_path=record_path, system_id=system_id
        )
        self.profile = get_profile(self.ussd.profile)
        self.dialogues: dict[tuple[str, int], _Dialogue] = {}
        self._by_msisdn: dict[str, _Dialogue] = {}
        self._per_msisdn: dict[str, int] = {}
        self._next_number = 0
        self._dialler: asyncio.Task[None] | None = None
        self.collisions = 0
        self.outcomes: dict[str, int] = {}
        self._ended = 0
        self._watchers: list[tuple[int, asyncio.Future[None]]] = []

    @property
    def url(self) -> str:
        sid, account = next(iter(self.accounts.items()))
        return f"ussd+smpp://{sid}:{account.password}@{self.host}:{self.port}?profile={self.profile.name}"

    @property
    def smpp_url(self) -> str:
        """The plain ``smpp://`` URL of the same account (for an SmppClient shared with SMS)."""
        return super().url

    async def __aenter__(self) -> UssdGatewaySimulator:
        await self.start()
        return self

    async def start(self) -> None:
        await super().start()
        log.info("ussd.gateway.started", port=self.port, profile=self.profile.name)
        if self.ussd.dial_codes and self.ussd.dial_interval > 0:
            self._dialler = asyncio.get_running_loop().create_task(self._dial_loop())

    async def aclose(self) -> None:
        if self._dialler is not None:
            self._dialler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._dialler
            self._dialler = None
        for dialogue in list(self.dialogues.values()):
            self._end(dialogue, "gateway_closed", "gateway")
        await super().aclose()

    def stats(self) -> dict[str, Any]:
        return {
            **super().stats(),
            "open_dialogues": len(self.dialogues),
            "collisions": self.collisions,
            "outcomes": dict(self.outcomes),
        }

    # -- application → subscriber (submit_sm) ------------------------------------------------------

    def _on_submit(self, session: _Session, pdu: Pdu) -> None:
        op = pdu.tlv_int(Tag.USSD_SERVICE_OP)
        if op is None:
            super()._on_submit(session, pdu)  # an ordinary SMS
            return
        status = self._admit(session) or self._check(pdu, op)
        if status:
            self._answer(session, pdu, status, "")
            return
        number, _step, end = self.profile.session_of(pdu) or (0, 0, False)
        kind = self.profile.classify_outbound(op, end)
        assert kind is not None  # _check
        msisdn = pdu.get("destination_addr")
        dialogue = self.dialogues.get((msisdn, number))
        if dialogue is None:
            if kind is Outbound.END:  # releasing a dialogue that is already over
                self._answer(session, pdu, 0, self._new_id())
                return
            if msisdn in self._by_msisdn:  # the handset is in another dialogue (USSD busy)
                self.collisions += 1
                self._answer(session, pdu, st.ESME_RSUBMITFAIL, "")
                return
            app = (pdu.get("source_addr"), pdu.get("source_addr_ton"), pdu.get("source_addr_npi"))
            subscriber = (pdu.get("dest_addr_ton"), pdu.get("dest_addr_npi"))
            dialogue = self._open(session, msisdn, number, "network", app, subscriber)
        self._answer(session, pdu, 0, self._new_id())
        text = decode_text(pdu.get("short_message") or b"", pdu.get("data_coding"))
        dialogue.transcript.add("mt", kind.value, op, text, _stamp(), pdu.get("data_coding"))
        dialogue.step += 1
        self._cancel_pending(dialogue)
        if kind is Outbound.END:
            self._end(dialogue, self._end_outcome(dialogue, text), "application")
        elif kind is Outbound.NOTIFY:
            self._schedule(dialogue, dialogue.handset.on_notify(), notify=True)
        else:
            self._schedule(dialogue, dialogue.handset.on_menu(text), notify=False)

    @staticmethod
    def _end_outcome(dialogue: _Dialogue, text: str) -> str:
        """Why the application ended the dialogue, as the subscriber saw it."""
        if dialogue.waiting:  # a screen was left unanswered
            return "timeout" if dialogue.timed_out else "released"
        answered = any(s["dir"] == "mo" and s["kind"] == "answer" for s in dialogue.transcript.steps)
        return "completed" if text or answered else "released"

    def _check(self, pdu: Pdu, op: int) -> int:
        """A status for a malformed USSD submit (unknown op or session key, text too long), or 0."""
        key = self.profile.session_of(pdu)
        if key is None or self.profile.classify_outbound(op, key[2]) is None:
            return st.ESME_RINVTLVVAL
        data = pdu.get("short_message") or b""
        if pdu.get("data_coding") == self.profile.ucs2_data_coding:
            too_long = len(data) // 2 > self.profile.max_ucs2_chars
        else:
            too_long = len(data) > self.profile.max_gsm_chars
        return st.ESME_RINVMSGLEN if too_long else 0

    def _new_id(self) -> str:
        self._next_id += 1
        return format(self._next_id, "X")

    def _open(
        self,
        session: _Session,
        msisdn: str,
        number: int,
        initiated_by: str,
        app: tuple[str, int, int],
        subscriber: tuple[int, int],
    ) -> _Dialogue:
        index = self._per_msisdn.get(msisdn, 0)
        self._per_msisdn[msisdn] = index + 1
        rng = random.Random(f"{self.ussd.seed}/{msisdn}/{index}")
        script = self.ussd.scripts.get(msisdn, ()) if index == 0 else ()
        dialogue = _Dialogue(
            msisdn=msisdn,
            number=number,
            session=session,
            handset=Handset(self.ussd, rng, script),
            transcript=Transcript(
                msisdn=msisdn,
                number=number,
                initiated_by=initiated_by,
                service=app[0],
                system_id=session.conn.peer_system_id,
                started_at=_stamp(),
            ),
            app=app,
            subscriber=subscriber,
        )
        self.dialogues[(msisdn, number)] = dialogue
        self._by_msisdn[msisdn] = dialogue
        if self.ussd.dialogue_timeout > 0:
            dialogue.expiry = asyncio.get_running_loop().call_later(
                self.ussd.dialogue_timeout, self._expire, dialogue
            )
        return dialogue

    # -- subscriber → application (deliver_sm) -----------------------------------------------------

    def _schedule(self, dialogue: _Dialogue, decision: Decision, *, notify: bool) -> None:
        dialogue.waiting = True
        if decision.action is Action.TIMEOUT:
            dialogue.timed_out = True
            return
        if notify and decision.action is Action.CONFIRM and not self.profile.ussn_confirm:
            self._end(dialogue, "notified", "handset")
            return
        delay = self.ussd.response_latency + decision.delay
        dialogue.pending = asyncio.get_running_loop().call_later(delay, self._act, dialogue, decision)

    def _act(self, dialogue: _Dialogue, decision: Decision) -> None:
        dialogue.pending = None
        if self.dialogues.get((dialogue.msisdn, dialogue.number)) is not dialogue:
            return
        dialogue.waiting = False
        profile = self.profile
        if decision.action is Action.ABORT:
            self._send_mo(dialogue, "abort", profile.abort_op or profile.answer_op, "", end=True)
            self._end(dialogue, "aborted", "handset")
        elif decision.action is Action.CONFIRM:
            self._send_mo(dialogue, "confirm", profile.confirm_op, "", end=False)
            self._end(dialogue, "notified", "handset")
        else:
            self._send_mo(dialogue, "answer", profile.answer_op, decision.text, end=False)

    def _send_mo(self, dialogue: _Dialogue, kind: str, op: int, text: str, *, end: bool) -> None:
        profile = self.profile
        encoded = encode_text(
            text, gsm_data_coding=profile.gsm_data_coding, ucs2_data_coding=profile.ucs2_data_coding
        )
        tlvs: dict[int, bytes] = {Tag.USSD_SERVICE_OP: bytes((op,))}
        tlvs.update(profile.session_tlvs(dialogue.number, dialogue.step, end))
        app, app_ton, app_npi = dialogue.app
        deliver = codec.make(
            C.DELIVER_SM,
            tlvs=tlvs,
            service_type=profile.service_type,
            source_addr_ton=dialogue.subscriber[0],
            source_addr_npi=dialogue.subscriber[1],
            source_addr=dialogue.msisdn,
            dest_addr_ton=app_ton,
            dest_addr_npi=app_npi,
            destination_addr=app,
            data_coding=encoded.data_coding,
            short_message=encoded.data,
        )
        dialogue.step += 1
        dialogue.transcript.add("mo", kind, op, text, _stamp(), encoded.data_coding)
        self._route(dialogue.session, deliver)

    def _expire(self, dialogue: _Dialogue) -> None:
        """The network's dialogue timer: end it with an abort towards the application."""
        dialogue.expiry = None
        if self.dialogues.get((dialogue.msisdn, dialogue.number)) is dialogue:
            self._send_mo(dialogue, "abort", self.profile.abort_op or self.profile.answer_op, "", end=True)
            self._end(dialogue, "expired", "gateway")

    def _cancel_pending(self, dialogue: _Dialogue) -> None:
        if dialogue.pending is not None:
            dialogue.pending.cancel()
            dialogue.pending = None

    def _end(self, dialogue: _Dialogue, outcome: str, by: str) -> None:
        self._cancel_pending(dialogue)
        if dialogue.expiry is not None:
            dialogue.expiry.cancel()
            dialogue.expiry = None
        self.dialogues.pop((dialogue.msisdn, dialogue.number), None)
        if self._by_msisdn.get(dialogue.msisdn) is dialogue:
            del self._by_msisdn[dialogue.msisdn]
        transcript = dialogue.transcript
        transcript.outcome, transcript.ended_by, transcript.ended_at = outcome, by, _stamp()
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        log.debug("ussd.dialogue.ended", outcome=outcome, by=by, to=mask_msisdn(dialogue.msisdn))
        record = transcript.record(self.profile.name)
        self.recorder.record(record)
        if dialogue.done is not None and not dialogue.done.done():
            dialogue.done.set_result(record)
        self._ended += 1
        for count, fut in self._watchers:
            if count <= self._ended and not fut.done():
                fut.set_result(None)

    async def wait_dialogues(self, count: int, timeout: float | None = None) -> None:
        """Wait until ``count`` dialogues have ended since the start (each one a transcript record)."""
        if self._ended >= count:
            return
        entry = (count, asyncio.get_running_loop().create_future())
        self._watchers.append(entry)
        try:
            await asyncio.wait_for(entry[1], timeout)
        finally:
            self._watchers.remove(entry)

    # -- user-initiated dialogues ------------------------------------------------------------------

    def _receiver(self) -> _Session:
        for account in self.accounts.values():
            for session in account.sessions:
                if session.can_receive and not session.proto.closed:
                    return session
        raise ConfigurationError("no application bound to receive USSD (bind as receiver or transceiver)")

    def _free_number(self, msisdn: str) -> int:
        space = self.profile.session_space
        for _ in range(space):
            number = self._next_number % space
            self._next_number = number + 1
            if (msisdn, number) not in self.dialogues:
                return number
        raise ConfigurationError("no free USSD session number")

    def begin(self, msisdn: str, code: str, *, address: str | None = None) -> asyncio.Future[dict[str, Any]]:
        """A subscriber dials ``code``: send the PSSR indication; the future gets the transcript.
        ``address`` is the application's address the dialogue is sent to (default: the code)."""
        if msisdn in self._by_msisdn:
            raise ConfigurationError(f"{msisdn} is already in a USSD dialogue")
        session = self._receiver()
        number = self._free_number(msisdn)
        dialogue = self._open(session, msisdn, number, "user", (address or code, 0, 0), (1, 1))
        dialogue.done = asyncio.get_running_loop().create_future()
        self._send_mo(dialogue, "begin", self.profile.begin_op, code, end=False)
        return dialogue.done

    async def dial(self, msisdn: str, code: str, *, timeout: float | None = None) -> dict[str, Any]:
        """Dial ``code`` from ``msisdn`` and wait for the dialogue's transcript."""
        return await asyncio.wait_for(self.begin(msisdn, code), timeout)

    async def _dial_loop(self) -> None:
        rng = random.Random(self.ussd.seed)
        while True:
            await asyncio.sleep(self.ussd.dial_interval)
            msisdn = f"{self.ussd.subscribers}{rng.randrange(10**4):04d}"
            with contextlib.suppress(ConfigurationError):  # no bind yet, or that handset is busy
                self.begin(msisdn, rng.choice(self.ussd.dial_codes))
