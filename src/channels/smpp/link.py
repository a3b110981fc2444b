"""One SMPP bind on asyncio (ESME role): connect, bind, keep bound, and exchange PDUs within a window.

The sans-IO :class:`~channels.smpp.connection.SmppConnection` makes every protocol decision; this
module owns the socket, the waiting and the retrying (DESIGN §2.5: session-level retry lives here).

* **Window**: the connection's credit counter; a sender waits on a future only when there is none.
* **Pacing**: :class:`~channels.smpp.adaptive.AdaptiveRate` spaces submits (configured TPS) and slows
  down on ESME_RTHROTTLED/RMSGQFUL; a part answered with a transient status is resent here, on the same
  bind, so the other parts of its message are never sent twice (jookies/jasmin#425, #796).
* **Trouble**: a link that drops fails its unanswered requests with :class:`OutcomeUnknown` (never
  resent, DESIGN §2.6), then rebinds in the background with tenacity's exponential backoff and jitter;
  requests queued for credit are sent once it is back. A bind refused with ESME_RALYBND (the SMSC still
  holds our previous, never-unbound session: praekeltfoundation/vumi#624), RBINDFAIL or RSYSERR is
  retried the same way; wrong credentials are raised at once (:mod:`channels.smpp.rebind`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from typing import Any

import structlog

from channels.errors import (
    ChannelClosed,
    ChannelsError,
    ConnectTimeout,
    ContentRejected,
    OutcomeUnknown,
    TransportError,
)
from channels.smpp import pdu as codec
from channels.smpp import status as st
from channels.smpp.adaptive import AdaptiveRate, AdaptiveSettings
from channels.smpp.config import SmppConfig
from channels.smpp.connection import (
    BindFailed,
    BindMode,
    Bound,
    Event,
    LinkDead,
    ProtocolViolation,
    RequestReceived,
    ResponseReceived,
    ResponseTimedOut,
    Role,
    SmppConnection,
    UnbindCompleted,
    UnbindReceived,
)
from channels.smpp.constants import CommandId
from channels.smpp.fastpath import FastFilter, FastPath
from channels.smpp.pdu import Encoded, Pdu, PduError
from channels.smpp.rebind import bind_error, bind_with_retry
from channels.smpp.transport import SmppTransport

log = structlog.get_logger(__name__)
C = CommandId

# Transient answers that mean "too fast": they also cut the send rate.
THROTTLE_STATUSES = frozenset({st.ESME_RTHROTTLED, st.ESME_RMSGQFUL})

DeliverCallback = Callable[[Pdu, "SmppLink"], None]
AnswerHook = Callable[[int, "Pdu | ChannelsError"], None]  # exchange_many: request index, its answer
# A receipt from the fast path: its short_message, data_coding and TLVs (channels.smpp.fastpath),
# and the loop time of the read that brought it.
ReceiptCallback = Callable[[bytes, int, dict[int, bytes], float], None]
Request = Pdu | Encoded  # a request to send: a PDU, or one encoded already (the bulk path keeps those)


def _send(proto: SmppTransport, request: Request, now: float, context: Any) -> None:
    """Queue ``request`` on the connection (raises PduError for a PDU that does not encode)."""
    if type(request) is Encoded:
        proto.conn.send_request_body(request.command_id, request.body, now, context)
    else:
        assert isinstance(request, Pdu)
        proto.conn.send_request(request, now, context)


def _retrieved(fut: asyncio.Future[Any]) -> None:
    if not fut.cancelled():
        fut.exception()  # a failed bind nobody waited for is not an "exception never retrieved"


class _Batch:
    """The answers of one :meth:`SmppLink.exchange_many`: one future for the whole batch, and each
    request's connection context is ``(batch, index)`` instead of a future of its own (DESIGN §6)."""

    __slots__ = ("done", "on_answer", "remaining", "results")

    def __init__(self, n: int, loop: asyncio.AbstractEventLoop, on_answer: AnswerHook | None = None) -> None:
        self.results: list[Pdu | ChannelsError | None] = [None] * n
        self.remaining = n
        self.on_answer = on_answer  # told of each answer as it comes (SmppClient.send_batch)
        self.done: asyncio.Future[None] = loop.create_future()
        if not n:
            self.done.set_result(None)

    def resolve(self, index: int, value: Pdu | ChannelsError) -> None:
        if self.results[index] is None:
            self.results[index] = value
            self.remaining -= 1
            if self.on_answer is not None:
                self.on_answer(index, value)
            if not self.remaining and not self.done.done():
                self.done.set_result(None)


def _resolve(context: Any, value: Pdu | ChannelsError) -> None:
    """Hand a response (or the error standing for it) to whoever waits: a batch slot (the bulk
    path, tested first) or a future."""
    if type(context) is tuple:
        context[0].resolve(context[1], value)
    elif isinstance(context, asyncio.Future) and not context.done():
        if isinstance(value, Pdu):
            context.set_result(value)
        else:
            context.set_exception(value)


class SmppLink:
    """One TCP connection bound as TX, RX or TRX, kept bound until :meth:`aclose`."""

    def __init__(
        self, config: SmppConfig, mode: BindMode, *, index: int, on_deliver: DeliverCallback
    ) -> None:
        self.config = config
        self.mode = mode
        self.name = f"{config.name}#{index}"
        self.on_deliver = on_deliver
        self.rate = (
            AdaptiveRate(AdaptiveSettings(ceiling=config.tps)) if config.adaptive or config.tps else None
        )
        self.proto: SmppTransport | None = None
        self.binds = 0  # successful binds (1 + reconnections)
        self.requests = 0  # requests written (resends included)
        self._closed = False
        self._connector: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[SmppTransport] | None = None
        self._binding: SmppTransport | None = None
        self._bound: asyncio.Future[None] | None = None
        self._unbound: asyncio.Future[None] | None = None
        self._credit_waiters: deque[asyncio.Future[None]] = deque()
        self._held = 0  # credit taken by senders waiting for their pacing slot
        self._idle = asyncio.Event()
        self._idle.set()
        # Whether the fast path may take receipts now, and who gets them (channels.smpp.fastpath);
        # None: the fast path takes none.
        self.fast_filter: FastFilter | None = None
        self.on_receipt: ReceiptCallback | None = None

    # -- state -------------------------------------------------------------------------------------

    @property
    def bound(self) -> bool:
        proto = self.proto
        return proto is not None and not proto.closed and proto.conn.bound

    @property
    def can_send(self) -> bool:
        return self.mode is not BindMode.RX

    @property
    def load(self) -> int:
        """Requests in flight plus senders waiting for credit (how the pool picks a bind)."""
        proto = self.proto
        return (proto.conn.in_flight if proto is not None else 0) + self._held + len(self._credit_waiters)

    # -- binding -----------------------------------------------------------------------------------

    async def connect(self) -> None:
        """Bind now (bounded attempts with backoff); raises the last failure."""
        await self._wait_bound(persistent=False, timeout=None)

    def _start_connector(self, *, persistent: bool) -> asyncio.Future[SmppTransport]:
        loop = asyncio.get_running_loop()
        self._ready = ready = loop.create_future()
        ready.add_done_callback(_retrieved)
        self._connector = loop.create_task(self._connect_loop(ready, persistent))
        return ready

    async def _connect_loop(self, ready: asyncio.Future[SmppTransport], persistent: bool) -> None:
        cfg = self.config
        try:
            proto = await bind_with_retry(
                self._open,
                name=self.name,
                attempts=None if persistent else cfg.connect_attempts,
                initial=cfg.reconnect_initial,
                maximum=cfg.reconnect_max,
            )
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc if isinstance(exc, Exception) else ChannelClosed("bind cancelled"))
            if not isinstance(exc, Exception):
                raise
            log.warning("smpp.bind.failed", link=self.name, error=str(exc))
            return
        self.proto = proto
        self.binds += 1
        if not ready.done():
            ready.set_result(proto)
        self._wake_all()

    async def _wait_bound(self, *, persistent: bool, timeout: float | None) -> SmppTransport:
        if self._closed:
            raise ChannelClosed(f"SMPP link {self.name} is closed")
        proto = self.proto
        if proto is not None and not proto.closed and proto.conn.bound:
            return proto
        ready = self._ready
        if ready is None or ready.done() or self._connector is None or self._connector.done():
            ready = self._start_connector(persistent=persistent)
        try:
            return await asyncio.wait_for(asyncio.shield(ready), timeout)
        except TimeoutError:
            raise TransportError(f"SMPP link {self.name}: not bound within {timeout}s") from None

    async def _open(self) -> SmppTransport:
        if self._closed:
            raise ChannelClosed(f"SMPP link {self.name} is closed")
        cfg = self.config
        loop = asyncio.get_running_loop()
        conn = SmppConnection(Role.ESME, cfg.session(), now=loop.time())
        proto = SmppTransport(
            conn, lambda events: self._on_events(proto, events), lambda exc: self._on_lost(proto)
        )
        conn.frame_hook = FastPath(self, proto).on_frame
        self._bound = bound = loop.create_future()
        self._binding = proto
        try:
            await asyncio.wait_for(
                loop.create_connection(lambda: proto, cfg.host, cfg.port), cfg.connect_timeout
            )
        except (OSError, TimeoutError) as exc:
            raise TransportError(f"SMPP connect to {cfg.host}:{cfg.port} failed: {exc}") from exc
        conn.bind(self.mode, cfg.system_id, cfg.password, loop.time(), system_type=cfg.system_type)
        proto.flush()
        proto.rearm()
        try:
            await asyncio.wait_for(asyncio.shield(bound), cfg.connect_timeout)
        except TimeoutError:
            proto.abort()
            raise ConnectTimeout(
                f"no bind response from {cfg.host}:{cfg.port} in {cfg.connect_timeout}s"
            ) from None
        except BaseException:
            proto.close()
            raise
        finally:
            self._binding = None
        log.info("smpp.bind.completed", link=self.name, mode=self.mode.value, window=cfg.window)
        return proto

    # -- closing -----------------------------------------------------------------------------------

    async def aclose(self, *, drain_timeout: float = 5.0) -> None:
        """Stop sending, wait (bounded) for in-flight responses, unbind, close."""
        if self._closed:
            return
        self._closed = True
        if self._connector is not None and not self._connector.done():
            self._connector.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._connector
        for waiter in self._credit_waiters:
            if not waiter.done():
                waiter.set_exception(ChannelClosed("client closed"))
        proto = self.proto
        if proto is None or proto.closed:
            return
        if proto.conn.in_flight:
            self._idle.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), drain_timeout)
        if proto.conn.bound:
            loop = asyncio.get_running_loop()
            self._unbound = loop.create_future()
            proto.conn.unbind(loop.time())
            proto.flush()
            with contextlib.suppress(TimeoutError, ChannelsError):
                await asyncio.wait_for(self._unbound, min(drain_timeout, self.config.response_timeout))
            log.info("smpp.unbind.completed", link=self.name)
        proto.close()

    # -- sending -----------------------------------------------------------------------------------

    def _free(self, proto: SmppTransport) -> int:
        return proto.conn.credit - self._held

    async def _acquire(self) -> SmppTransport:
        """Wait for window credit on a bound link and hold one slot of it (release with _release)."""
        waited = False
        while True:
            proto = self.proto
            if proto is None or proto.closed or not proto.conn.bound:
                proto = await self._wait_bound(persistent=False, timeout=self.config.bind_wait)
            if self._free(proto) > 0 and not self._credit_waiters:
                self._held += 1
                return proto
            waiter = asyncio.get_running_loop().create_future()
            # A sender woken but overtaken keeps its turn: back to the front, not the end.
            (self._credit_waiters.appendleft if waited else self._credit_waiters.append)(waiter)
            waited = True
            try:
                await waiter  # every wake-up pops its waiter first (_wake, _wake_all)
            except BaseException:
                # Cancelled or closed: leave the queue. Only here: a scan per wake-up made a long
                # queue of senders (one Dispatcher.send task each) quadratic.
                if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                    self._wake()  # woken, then cancelled: hand the freed slot on
                else:
                    with contextlib.suppress(ValueError):
                        self._credit_waiters.remove(waiter)
                raise
            proto = self.proto
            if proto is not None and not proto.closed and proto.conn.bound and self._free(proto) > 0:
                self._held += 1
                return proto

    def _wake(self) -> None:
        """One slot freed: wake the first waiter."""
        proto = self.proto
        if proto is None or not proto.conn.in_flight:
            self._idle.set()
        while self._credit_waiters:
            waiter = self._credit_waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _wake_all(self) -> None:
        while self._credit_waiters:
            waiter = self._credit_waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    async def _pace(self) -> None:
        if self.rate is None:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        slot = self.rate.reserve(now)
        if slot > now:
            await asyncio.sleep(slot - now)

    async def exchange(self, pdu: Request) -> Pdu:
        """Send one request within the window and pacing; returns its response, whatever its status.
        Raises OutcomeUnknown when no response came (timeout, link lost).

        Credit first, then the pacing slot: a sender that waited for the window takes its slot at the
        rate in force when it can actually send (so a cut applies to the queue at once)."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Pdu] = loop.create_future()
        while True:
            proto = await self._acquire()
            try:
                await self._pace()
                if self._closed:
                    raise ChannelClosed(f"SMPP link {self.name} is closed")
                if proto is self.proto and not proto.closed and proto.conn.bound:
                    try:
                        _send(proto, pdu, loop.time(), fut)
                    except PduError as exc:
                        raise ContentRejected(f"{pdu.name}: {exc}", code=exc.status) from exc
                    break
            finally:
                self._held -= 1
            self._wake()  # the link dropped while we waited for the slot: try again on the next one
        self.requests += 1
        proto.schedule_flush()
        proto.rearm()
        return await fut  # the pacing heard of the answer as it came (on_response)

    def _feedback(self, status: int, now: float) -> None:
        if self.rate is None or not self.config.adaptive:
            return
        if not status:
            self.rate.on_accepted(now)
        elif status in THROTTLE_STATUSES:
            self.rate.on_throttled(now)
        elif st.lookup(status).cls is st.StatusClass.TRANSIENT:
            self.rate.on_transient(now)

    async def submit(self, pdu: Request) -> Pdu:
        """:meth:`exchange`, resending the same PDU (new sequence number) while the answer is
        transient, up to ``transient_retries`` times; returns the last response."""
        retries = self.config.transient_retries
        while True:
            resp = await self.exchange(pdu)
            if not resp.status or retries <= 0 or st.lookup(resp.status).cls is not st.StatusClass.TRANSIENT:
                return resp
            retries -= 1
            log.debug("smpp.submit.resending", link=self.name, status=st.status_name(resp.status))

    async def exchange_many(
        self, pdus: list[Request], on_answer: AnswerHook | None = None
    ) -> list[Pdu | ChannelsError]:
        """Send many requests: as many as the window allows go out per loop turn, in one write,
        with no future or task per request; returns each response (whatever its status), or the
        error standing for it (OutcomeUnknown, ContentRejected for a PDU that does not encode).
        ``on_answer(index, answer)`` hears of each one as it comes (it must not raise)."""
        loop = asyncio.get_running_loop()
        batch = _Batch(len(pdus), loop, on_answer)
        i = 0
        while i < len(pdus):
            proto = await self._acquire()
            try:
                room = min(1 + max(0, self._free(proto)), len(pdus) - i)  # the credit taken, and the free
                if self.rate is not None and not self.rate.unpaced(loop.time(), room):
                    await self._pace()  # a paced link sends one request per slot
                    room = 1
                if self._closed:
                    raise ChannelClosed(f"SMPP link {self.name} is closed")
                if proto is not self.proto or proto.closed or not proto.conn.bound:
                    continue  # dropped while we waited: acquire again (the finally releases)
                room = min(room, 1 + max(0, self._free(proto)))
                idle = not proto.conn.in_flight
                now = loop.time()
                for _ in range(room):
                    try:
                        _send(proto, pdus[i], now, (batch, i))
                    except PduError as exc:
                        batch.resolve(i, ContentRejected(f"{pdus[i].name}: {exc}", code=exc.status))
                    i += 1
                    self.requests += 1
            finally:
                self._held -= 1
            if idle:  # nothing was in flight (a lone send): written now, which saves a loop turn
                proto.flush()
            else:  # at the end of the turn, with the answers and the other senders' requests
                proto.schedule_flush()
            proto.rearm()
        await batch.done
        results: list[Pdu | ChannelsError] = batch.results  # type: ignore[assignment]  # all resolved
        return results

    async def submit_many(
        self, pdus: list[Request], on_answer: AnswerHook | None = None
    ) -> list[Pdu | ChannelsError]:
        """:meth:`exchange_many`, then each request answered with a transient status is resent
        alone through :meth:`submit` (rare: the common case stays batched; ``on_answer`` hears
        of the first answers only)."""
        answers = await self.exchange_many(pdus, on_answer)
        for k, answer in enumerate(answers):
            if (
                isinstance(answer, Pdu)
                and answer.status
                and self.config.transient_retries > 0
                and st.lookup(answer.status).cls is st.StatusClass.TRANSIENT
            ):
                try:
                    answers[k] = await self.submit(pdus[k])
                except ChannelsError as exc:
                    answers[k] = exc
        return answers

    # -- events from the connection ----------------------------------------------------------------

    def _on_events(self, proto: SmppTransport, events: list[Event]) -> None:
        for ev in events:
            if type(ev) is ResponseReceived:  # exact types first: these two are most of the traffic
                self.on_response(proto, ev.context, ev.pdu)
            elif type(ev) is RequestReceived:
                self._on_request(proto, ev.pdu)
            elif isinstance(ev, ResponseTimedOut):
                name = codec.command_name(ev.command_id)
                _resolve(ev.context, OutcomeUnknown(f"no response to {name} seq {ev.sequence}"))
                self._wake()
            elif isinstance(ev, Bound | BindFailed):
                self._on_bind_answer(proto, ev)
            elif isinstance(ev, UnbindCompleted):
                if self._unbound is not None and not self._unbound.done():
                    self._unbound.set_result(None)
            else:
                self._on_trouble(proto, ev)

    def on_response(self, proto: SmppTransport, context: Any, pdu: Pdu, now: float | None = None) -> None:
        """A response to one of our requests (from the events, or the fast path, which passes its
        read's loop time as ``now``): to whoever waits. Adaptive pacing hears of it here, as it
        arrives, not when its sender's batch is complete: a throttling SMSC slows the next submit,
        not the next batch. The common answer (accepted, to a slot of a bulk batch) takes the
        shortest way: :meth:`_feedback` and :func:`_resolve`, inlined."""
        rate = self.rate
        if rate is not None and self.config.adaptive:
            if now is None:
                now = proto.loop_time()
            if pdu.status:
                self._feedback(pdu.status, now)
            else:
                rate.on_accepted(now)
        if type(context) is tuple:
            context[0].resolve(context[1], pdu)
        else:
            _resolve(context, pdu)
        if self._credit_waiters or proto is not self.proto or not proto.conn.in_flight:
            self._wake()

    def deliver(self, pdu: Pdu) -> None:
        """Hand an answered deliver_sm/data_sm to the client (from the events)."""
        try:
            self.on_deliver(pdu, self)
        except Exception:  # one bad PDU or handler never kills the link (python-smpplib#72)
            log.exception("smpp.deliver.failed", link=self.name)

    def _on_bind_answer(self, proto: SmppTransport, ev: Bound | BindFailed) -> None:
        bound = self._bound
        if proto is not self._binding or bound is None or bound.done():
            return
        if isinstance(ev, Bound):
            bound.set_result(None)
        else:
            bound.set_exception(bind_error(ev.status, f"bind to {self.config.host}:{self.config.port}"))

    def _on_trouble(self, proto: SmppTransport, ev: Event) -> None:
        if isinstance(ev, UnbindReceived):
            log.warning("smpp.unbind.received", link=self.name)
            proto.close()
        elif isinstance(ev, LinkDead):
            log.warning("smpp.link.dead", link=self.name, reason=ev.reason)
            proto.abort()
        elif isinstance(ev, ProtocolViolation):
            log.warning("smpp.protocol.violation", link=self.name, reason=ev.reason, fatal=ev.fatal)
            if ev.fatal:
                proto.close()

    def _on_lost(self, proto: SmppTransport) -> None:
        left = proto.conn.close()
        if left:
            log.warning("smpp.connection.lost", link=self.name, unanswered=len(left))
        for _seq, cid, ctx in left:
            _resolve(ctx, OutcomeUnknown(f"connection lost before the {codec.command_name(cid)} response"))
        bound = self._bound
        if proto is self._binding and bound is not None and not bound.done():
            bound.set_exception(TransportError("connection closed during bind"))
        if self._unbound is not None and not self._unbound.done():
            self._unbound.set_result(None)
        self._idle.set()
        if proto is not self.proto:
            return
        self._wake_all()  # waiters find the link down and wait for the rebind
        if not self._closed and (self._connector is None or self._connector.done()):
            log.info("smpp.reconnect.started", link=self.name)
            self._start_connector(persistent=True)

    def _on_request(self, proto: SmppTransport, pdu: Pdu) -> None:
        if pdu.command_id not in (C.DELIVER_SM, C.DATA_SM):
            log.debug("smpp.request.ignored", command=pdu.name)  # alert_notification: no response PDU
            return
        proto.conn.respond_ok(pdu)
        proto.schedule_flush()
        self.deliver(pdu)
