"""``SmppClient``: the SMS channel over SMPP 3.4, on asyncio (ESME role).

One TCP connection, bound TX, RX or TRX, driven by the sans-IO :class:`SmppConnection`. Submits are
pipelined up to the window: the window is the connection's credit counter, and a sender waits on a
future only when there is no credit. Responses resolve the waiting future by sequence number; a
response that never comes resolves it with :class:`OutcomeUnknown` (never resent here, DESIGN §2.6).
Receipts and MO arrive as deliver_sm/data_sm, are answered at once and come out of :meth:`events`.
The link is (re)bound lazily with tenacity backoff (session-level retry, DESIGN §2.5).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from types import TracebackType
from typing import Any

import structlog
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from channels.clock import SYSTEM_CLOCK, Clock
from channels.content import Text
from channels.errors import (
    ChannelClosed,
    ChannelsError,
    ConfigurationError,
    ConnectTimeout,
    OutcomeUnknown,
    TransportError,
)
from channels.message import ChannelKind, Message, mask_msisdn
from channels.results import DeliveryReceipt, Event, InboundMessage, SendResult
from channels.smpp import pdu as codec
from channels.smpp.concat import Reassembler, RefAllocator, split
from channels.smpp.config import SmppConfig
from channels.smpp.connection import (
    BindFailed,
    Bound,
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
from channels.smpp.connection import Event as ConnEvent
from channels.smpp.constants import CommandId, EsmClass, Tag
from channels.smpp.dlr import ParsedReceipt, receipt_from_fields
from channels.smpp.encoding import encode_text
from channels.smpp.pdu import Pdu
from channels.smpp.status import error_for
from channels.smpp.transport import SmppTransport

log = structlog.get_logger(__name__)

C = CommandId
_RECEIPT_TYPES = frozenset(
    {EsmClass.SMSC_DELIVERY_RECEIPT, EsmClass.SME_DELIVERY_ACK, EsmClass.INTERMEDIATE_NOTIFICATION}
)
DeliverHook = Callable[[Pdu], bool]


def _retriable(exc: BaseException) -> bool:
    return isinstance(exc, ChannelsError) and exc.retriable


class SmppClient:
    """An SMPP 3.4 ESME implementing the SMS :class:`~channels.channel.Channel`.

    ``deliver_hook`` sees every deliver_sm/data_sm first and may consume it (returns True): the USSD
    adapter uses it to take its session PDUs off the same bind.
    """

    kind = ChannelKind.SMS

    def __init__(
        self,
        config: SmppConfig,
        *,
        clock: Clock = SYSTEM_CLOCK,
        deliver_hook: DeliverHook | None = None,
        connect_attempts: int = 5,
    ) -> None:
        self.config = config
        self.name = config.name
        self.clock = clock
        self.deliver_hook = deliver_hook
        self._connect_attempts = connect_attempts
        self._proto: SmppTransport | None = None
        self._bind_lock = asyncio.Lock()
        self._bound: asyncio.Future[None] | None = None
        self._unbound: asyncio.Future[None] | None = None
        self._credit_waiters: deque[asyncio.Future[None]] = deque()
        self._events: asyncio.Queue[Event | None] = asyncio.Queue()
        self._refs = RefAllocator()
        self._reassembler = Reassembler()
        self._next_slot = 0.0
        self._closed = False
        self._idle = asyncio.Event()  # set when nothing is in flight (aclose drains to it)

    @classmethod
    def from_url(cls, url: str, **overrides: Any) -> SmppClient:
        """``smpp://user:pass@host:port?bind=trx&window=64&tps=500`` (see :class:`SmppConfig`)."""
        return cls(SmppConfig.from_url(url, **overrides))

    # -- lifecycle ---------------------------------------------------------------------------------

    async def __aenter__(self) -> SmppClient:
        await self.connect()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    @property
    def bound(self) -> bool:
        return self._proto is not None and not self._proto.closed and self._proto.conn.bound

    async def connect(self) -> None:
        """Connect and bind, retrying transport failures with exponential backoff and jitter."""
        await self._ensure_bound()

    async def _ensure_bound(self) -> SmppTransport:
        if self._closed:
            raise ChannelClosed(f"SMPP client {self.name} is closed")
        proto = self._proto
        if proto is not None and not proto.closed and proto.conn.bound:
            return proto
        async with self._bind_lock:
            if self._proto is not None and not self._proto.closed and self._proto.conn.bound:
                return self._proto
            async for attempt in AsyncRetrying(
                retry=retry_if_exception(_retriable),
                stop=stop_after_attempt(self._connect_attempts),
                wait=wait_exponential_jitter(multiplier=0.1, max=5.0),
                reraise=True,
            ):
                with attempt:
                    self._proto = await self._open()
            assert self._proto is not None
            return self._proto

    async def _open(self) -> SmppTransport:
        cfg = self.config
        loop = asyncio.get_running_loop()
        conn = SmppConnection(Role.ESME, cfg.session(), now=loop.time())
        self._bound = loop.create_future()
        try:
            _, proto = await asyncio.wait_for(
                loop.create_connection(
                    lambda: SmppTransport(conn, self._on_events, self._on_lost), cfg.host, cfg.port
                ),
                cfg.connect_timeout,
            )
        except (OSError, TimeoutError) as exc:
            raise TransportError(f"SMPP connect to {cfg.host}:{cfg.port} failed: {exc}") from exc
        conn.bind(cfg.bind, cfg.system_id, cfg.password, loop.time(), system_type=cfg.system_type)
        proto.flush()
        proto.rearm()
        try:
            await asyncio.wait_for(asyncio.shield(self._bound), cfg.connect_timeout)
        except TimeoutError:
            proto.abort()
            raise ConnectTimeout(
                f"no bind response from {cfg.host}:{cfg.port} in {cfg.connect_timeout}s"
            ) from None
        except ChannelsError:
            proto.close()
            raise
        log.info("smpp.bind.completed", gateway=self.name, mode=cfg.bind.value, window=cfg.window)
        return proto

    async def aclose(self, *, drain_timeout: float = 5.0) -> None:
        """Stop sending, wait (bounded) for in-flight responses, unbind, close."""
        if self._closed:
            return
        self._closed = True
        for waiter in self._credit_waiters:
            if not waiter.done():
                waiter.set_exception(ChannelClosed("client closed"))
        proto = self._proto
        if proto is not None and not proto.closed:
            if proto.conn.in_flight:
                self._idle.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._idle.wait(), drain_timeout)
            if proto.conn.bound:
                self._unbound = asyncio.get_running_loop().create_future()
                proto.conn.unbind(asyncio.get_running_loop().time())
                proto.flush()
                with contextlib.suppress(TimeoutError, ChannelsError):
                    await asyncio.wait_for(self._unbound, min(drain_timeout, self.config.response_timeout))
                log.info("smpp.unbind.completed", gateway=self.name)
            proto.close()
        self._events.put_nowait(None)

    # -- sending -----------------------------------------------------------------------------------

    async def _acquire(self) -> SmppTransport:
        """Wait for window credit on a bound link; returns the transport to send on."""
        while True:
            proto = await self._ensure_bound()
            if proto.conn.credit > 0 and not self._credit_waiters:
                return proto
            waiter = asyncio.get_running_loop().create_future()
            self._credit_waiters.append(waiter)
            try:
                await waiter
            finally:
                with contextlib.suppress(ValueError):
                    self._credit_waiters.remove(waiter)
            if self._proto is not None and self._proto.conn.credit > 0:
                return await self._ensure_bound()

    def _wake(self) -> None:
        if self._proto is None or not self._proto.conn.in_flight:
            self._idle.set()
        while self._credit_waiters:
            waiter = self._credit_waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def _pace(self) -> None:
        tps = self.config.tps
        if tps <= 0:
            return
        now = asyncio.get_running_loop().time()
        slot = max(now, self._next_slot)
        self._next_slot = slot + 1.0 / tps
        if slot > now:
            await asyncio.sleep(slot - now)

    async def request(self, pdu: Pdu) -> Pdu:
        """Send any request PDU within the window; returns its response. A non-zero status raises the
        mapped error (ESME_RTHROTTLED → RemoteThrottled, ...); no response → OutcomeUnknown."""
        fut = await self._start(pdu)
        resp = await fut
        if resp.status:
            raise error_for(resp.status, pdu.name)
        return resp

    async def _start(self, pdu: Pdu) -> asyncio.Future[Pdu]:
        await self._pace()
        proto = await self._acquire()
        fut: asyncio.Future[Pdu] = asyncio.get_running_loop().create_future()
        proto.conn.send_request(pdu, asyncio.get_running_loop().time(), fut)
        proto.schedule_flush()
        proto.rearm()
        return fut

    def _source(self, sender: str | None) -> tuple[str, int, int]:
        cfg = self.config
        src = sender or cfg.default_sender
        if cfg.source_ton is not None:
            return src, cfg.source_ton, cfg.source_npi if cfg.source_npi is not None else 0
        digits = src.lstrip("+")
        if not digits:
            return "", 0, 0
        if not digits.isdigit():
            return src, 5, 0
        return digits, (1 if len(digits) > 8 else 0), 1

    async def send(self, message: Message) -> SendResult:
        """Submit an SMS (split into parts when long); returns when every part is accepted."""
        content = message.content
        if not isinstance(content, Text):
            raise ConfigurationError(f"SMPP channel sends Text, not {type(content).__name__}")
        destination = message.to.lstrip("+")
        if not destination.isdigit() or len(destination) > 20:
            raise ConfigurationError(
                f"message {message.id}: destination {mask_msisdn(message.to)} is not a number"
            )
        encoded = encode_text(content.body, content.encoding)
        segments = split(encoded, self.config.concat, ref=self._refs.next(destination))
        source, ston, snpi = self._source(message.sender)
        cfg = self.config
        futures: list[asyncio.Future[Pdu]] = []
        for seg in segments:
            pdu = codec.make(
                C.SUBMIT_SM,
                tlvs=seg.tlvs,
                service_type=cfg.service_type,
                source_addr_ton=ston,
                source_addr_npi=snpi,
                source_addr=source,
                dest_addr_ton=cfg.dest_ton,
                dest_addr_npi=cfg.dest_npi,
                destination_addr=destination,
                esm_class=seg.esm_class,
                registered_delivery=1 if message.want_receipt else 0,
                data_coding=encoded.data_coding,
                short_message=seg.short_message,
            )
            futures.append(await self._start(pdu))
        await asyncio.wait(futures)
        remote_ids: list[str] = []
        for fut in futures:
            resp = fut.result()  # raises OutcomeUnknown for a part left unanswered
            if resp.status:
                raise error_for(resp.status, f"submit_sm {message.id} to {mask_msisdn(destination)}")
            remote_ids.append(resp.get("message_id"))
        log.debug("smpp.submit.accepted", message_id=message.id, parts=len(segments))
        return SendResult(
            message_id=message.id,
            channel=self.kind,
            remote_ids=tuple(remote_ids),
            accepted_at=self.clock.now(),
            parts=len(segments),
        )

    # -- events from the connection ----------------------------------------------------------------

    def _on_events(self, events: list[ConnEvent]) -> None:
        for ev in events:
            if isinstance(ev, ResponseReceived):
                if isinstance(ev.context, asyncio.Future) and not ev.context.done():
                    ev.context.set_result(ev.pdu)
                self._wake()
            elif isinstance(ev, RequestReceived):
                self._on_request(ev.pdu)
            elif isinstance(ev, ResponseTimedOut):
                if isinstance(ev.context, asyncio.Future) and not ev.context.done():
                    ev.context.set_exception(
                        OutcomeUnknown(
                            f"no response to {codec.command_name(ev.command_id)} seq {ev.sequence}"
                        )
                    )
                self._wake()
            elif isinstance(ev, Bound):
                if self._bound is not None and not self._bound.done():
                    self._bound.set_result(None)
            elif isinstance(ev, BindFailed):
                if self._bound is not None and not self._bound.done():
                    self._bound.set_exception(
                        error_for(ev.status, f"bind to {self.config.host}:{self.config.port}")
                    )
            elif isinstance(ev, UnbindCompleted):
                if self._unbound is not None and not self._unbound.done():
                    self._unbound.set_result(None)
            elif isinstance(ev, UnbindReceived):
                log.warning("smpp.unbind.received", gateway=self.name)
                if self._proto is not None:
                    self._proto.close()
            elif isinstance(ev, LinkDead):
                log.warning("smpp.link.dead", gateway=self.name, reason=ev.reason)
                if self._proto is not None:
                    self._proto.abort()
            elif isinstance(ev, ProtocolViolation):
                log.warning("smpp.protocol.violation", gateway=self.name, reason=ev.reason, fatal=ev.fatal)
                if ev.fatal and self._proto is not None:
                    self._proto.close()

    def _on_lost(self, exc: Exception | None) -> None:
        proto = self._proto
        if proto is None:
            return
        left = proto.conn.close()
        if left:
            log.warning("smpp.connection.lost", gateway=self.name, unanswered=len(left))
        for _seq, cid, ctx in left:
            if isinstance(ctx, asyncio.Future) and not ctx.done():
                ctx.set_exception(
                    OutcomeUnknown(f"connection lost before the {codec.command_name(cid)} response")
                )
        if self._bound is not None and not self._bound.done():
            self._bound.set_exception(TransportError(f"connection closed during bind: {exc}"))
        if self._unbound is not None and not self._unbound.done():
            self._unbound.set_result(None)
        self._idle.set()
        while self._credit_waiters:  # let waiters find the link down and rebind
            self._wake()

    def _on_request(self, pdu: Pdu) -> None:
        proto = self._proto
        if proto is None:
            return
        if pdu.command_id in (C.DELIVER_SM, C.DATA_SM):
            proto.conn.respond(pdu, 0, message_id="")
            proto.schedule_flush()
            if self.deliver_hook is not None and self.deliver_hook(pdu):
                return
            event = self._to_event(pdu)
            if event is not None:
                self._events.put_nowait(event)
        else:  # alert_notification and the like: nothing to answer (no response PDU)
            log.debug("smpp.request.ignored", command=pdu.name)

    def _to_event(self, pdu: Pdu) -> Event | None:
        now = self.clock.now()
        esm = pdu.get("esm_class")
        body = pdu.tlvs.get(Tag.MESSAGE_PAYLOAD) or pdu.get("short_message") or b""
        if esm & EsmClass.TYPE_MASK in _RECEIPT_TYPES:
            parsed = receipt_from_fields(text=body, tlvs=pdu.tlvs, data_coding=pdu.get("data_coding"))
            if parsed is None:
                log.warning("smpp.receipt.unparsed", gateway=self.name)
                return None
            return _receipt(parsed, now, self.name)
        whole = self._reassembler.feed(
            source=pdu.get("source_addr"),
            destination=pdu.get("destination_addr"),
            short_message=body,
            esm_class=esm,
            tlvs=pdu.tlvs,
            data_coding=pdu.get("data_coding"),
            now=asyncio.get_running_loop().time(),
        )
        if whole is None:
            return None
        return InboundMessage(
            channel=self.kind,
            sender=pdu.get("source_addr"),
            recipient=pdu.get("destination_addr"),
            text=whole.text,
            at=now,
            gateway=self.name,
            detail={"data_coding": pdu.get("data_coding"), "parts": whole.parts},
        )

    async def events(self) -> AsyncIterator[Event]:
        while (event := await self._events.get()) is not None:
            yield event
        self._events.put_nowait(None)


def _receipt(parsed: ParsedReceipt, now: datetime, gateway: str) -> DeliveryReceipt:
    detail: dict[str, Any] = {"stat": parsed.stat} if parsed.stat else {}
    if parsed.network_error is not None:
        detail["network_error"] = parsed.network_error
    return DeliveryReceipt(
        channel=ChannelKind.SMS,
        state=parsed.state,
        remote_id=parsed.remote_id,
        at=now,
        error_code=parsed.error_code,
        detail=detail,
        gateway=gateway,
    )
