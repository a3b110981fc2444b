"""One ESME connection to the simulated SMSC, and the account it binds to (SMSC role, SMPP v3.4 §2).

A session wraps the same :class:`SmppConnection` the adapter uses, in the SMSC role, plus what the
simulator needs around it: the queue of deliver_sm waiting for window credit, counters for the
trouble modes (the Nth submit drops or stalls the link), whether it unbound cleanly (a session dropped
without unbind keeps its bind slot for a while, praekeltfoundation/vumi#624), and a stall that stops
reading the socket so nothing, not even enquire_link, is answered.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import structlog

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
    State,
    UnbindReceived,
)
from channels.smpp.pdu import Pdu
from channels.smpp.transport import SmppTransport
from simulators.smsc_fast import FastPath

if TYPE_CHECKING:
    from simulators.smsc import SmscSimulator

log = structlog.get_logger(__name__)
_RECEIVING = frozenset({State.BOUND_RX, State.BOUND_TRX})  # bound with a mode that takes deliver_sm


class _Account:
    def __init__(self, password: str) -> None:
        self.password = password
        self.tat = 0.0  # GCRA theoretical arrival time for max_tps
        self.sessions: list[_Session] = []
        self.backlog: deque[Pdu] = deque()  # receipts and MO waiting for a receiver bind
        self.stale: list[float] = []  # until when binds lost without unbind still count

    def live_binds(self, now: float) -> int:
        self.stale = [until for until in self.stale if until > now]
        return sum(1 for s in self.sessions if s.conn.bound) + len(self.stale)


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
        self.conn.frame_hook = FastPath(sim, self).on_frame  # plain submits: see simulators.smsc_fast
        self.proto = SmppTransport(self.conn, self.on_events, self.on_lost)
        self.account: _Account | None = None
        self.outq: deque[Pdu] = deque()
        self.submits = 0  # submit_sm received on this session
        self.unanswered = 0  # submits whose response is not written yet
        self.stalled_until = 0.0
        self.unbound = False  # the ESME unbound cleanly
        self.dropped = False  # a scripted drop: ignore what is still in the read buffer
        # True while the transport hands us a read's (or a timer's) events: it writes and re-arms the
        # connection's timer itself once they are handled, so nothing here needs to per PDU.
        self._dispatching = False
        # Calls due later, in time order (receipts after the scenario's one delay): see call_at().
        self._due: deque[tuple[float, Callable[..., None], tuple[Any, ...]]] = deque()
        self._due_timer: asyncio.TimerHandle | None = None

    @property
    def can_receive(self) -> bool:
        return self.conn.state in _RECEIVING

    def on_events(self, events: list[Event]) -> None:
        self._dispatching = True
        try:
            self._dispatch(events)
        finally:
            self._dispatching = False

    def _dispatch(self, events: list[Event]) -> None:
        for ev in events:
            if isinstance(ev, RequestReceived):
                self.sim._on_request(self, ev.pdu)
            elif isinstance(ev, ResponseReceived):
                if self.outq:  # window credit came back: send what waited for it
                    self.pump()
            elif isinstance(ev, BindRequested):
                self.sim._on_bind(self, ev.pdu)
            elif isinstance(ev, UnbindReceived):
                self.unbound = True
                self.proto.close()
            elif isinstance(ev, LinkDead):
                self.proto.abort()
            elif isinstance(ev, ProtocolViolation):
                log.info("smsc.protocol.violation", reason=ev.reason, fatal=ev.fatal)
                if ev.fatal:
                    self.proto.close()

    def on_lost(self, exc: Exception | None) -> None:
        was_bound = self.conn.bound
        self.conn.close()
        self.sim._sessions.discard(self)
        account = self.account
        if account is not None and self in account.sessions:
            account.sessions.remove(self)
            account.backlog.extend(self.outq)  # undelivered receipts wait for the next bind
            stale = self.sim.scenario.stale_bind_for
            if was_bound and not self.unbound and stale > 0:
                account.stale.append(asyncio.get_running_loop().time() + stale)
        self.outq.clear()

    def push(self, pdu: Pdu) -> None:
        self.outq.append(pdu)
        self.pump()

    def pump(self) -> None:
        """Send queued deliver_sm while the window has credit."""
        outq, conn = self.outq, self.conn
        if outq and conn.credit > 0 and conn.state in _RECEIVING:
            now = asyncio.get_running_loop().time()
            while outq and conn.credit > 0 and conn.state in _RECEIVING:
                conn.send_request(outq.popleft(), now)
        if not self._dispatching:
            self.proto.schedule_flush()
            self.proto.rearm()

    def call_at(self, when: float, callback: Callable[..., None], *args: Any) -> None:
        """``loop.call_at`` for calls made in time order: every caller uses the scenario's one
        receipt delay, so the queue stays sorted, and one timer serves the session however many
        receipts wait (a timer each was the largest cost of a delayed-receipt run). Calls due by
        the time it fires run together, in order, and go out in one write. The timer outlives the
        connection: a receipt due after a drop still goes to another bind or the account's backlog."""
        self._due.append((when, callback, args))
        if self._due_timer is None:
            self._due_timer = asyncio.get_running_loop().call_at(when, self._run_due)

    def _run_due(self) -> None:
        loop = asyncio.get_running_loop()
        now, due = loop.time(), self._due
        while due and due[0][0] <= now:
            _, callback, args = due.popleft()
            callback(*args)
        self._due_timer = loop.call_at(due[0][0], self._run_due) if due else None
        if not self.proto.closed:
            self.proto.schedule_flush()
            self.proto.rearm()

    @property
    def stalled(self) -> bool:
        return asyncio.get_running_loop().time() < self.stalled_until

    def stall(self, seconds: float) -> None:
        """Stop reading (and so answering) for ``seconds``: a hung SMSC."""
        loop = asyncio.get_running_loop()
        self.stalled_until = loop.time() + seconds
        transport = self.proto.transport
        if transport is None or self.proto.closed:
            return
        transport.pause_reading()
        loop.call_later(seconds, self._resume)
        log.info("smsc.session.stalled", seconds=seconds)

    def _resume(self) -> None:
        transport = self.proto.transport
        if transport is not None and not self.proto.closed:
            transport.resume_reading()
