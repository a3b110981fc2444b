"""``UssdChannel``: USSD over SMPP 3.4 as a Channel (PROTOCOLS.md §6), on top of an SmppClient.

``send()`` opens a network-initiated session: the menu is checked against the USSD limits, the first
screen goes out as a submit_sm (``service_type`` "USSD", ``ussd_service_op`` and the session TLV
from the gateway profile) and ``send()`` returns once the gateway accepted it. The session then runs
on the bind's deliver_sm (taken off the SmppClient by its ``deliver_hook``), one pure
:class:`~channels.ussd.session.UssdSession` per subscriber with its timer on the event loop. Each
answer comes out of :meth:`UssdChannel.events` as an InboundMessage (``in_reply_to`` = Message.id);
the end of the session as the message's DeliveryReceipt (``detail``: outcome, path, choice, result).
A second push to a subscriber with an open session is refused or queued, never interleaved.
Subscribers who dial a service code reach the handler registered with :meth:`on_service_code`.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import structlog

from channels.clock import SYSTEM_CLOCK, Clock
from channels.content import UssdMenu
from channels.errors import ChannelClosed, ChannelsError, ContentRejected, InvalidRecipient
from channels.message import ChannelKind, Message, mask_msisdn, new_message_id
from channels.results import Event, SendResult
from channels.smpp import pdu as codec
from channels.smpp.client import SmppClient
from channels.smpp.constants import CommandId, Tag
from channels.smpp.encoding import decode_text
from channels.smpp.pdu import Pdu
from channels.ussd.config import BusyPolicy, UssdConfig, split_url
from channels.ussd.events import answer_event, begin_event, session_receipt
from channels.ussd.menu import CompiledMenu, compile_menu, release_menu
from channels.ussd.profile import Inbound
from channels.ussd.routing import Handler, ServiceCodes, UssdRequest, source_address
from channels.ussd.session import Answered, Output, Push, UssdSession
from channels.ussd.subscribers import RESERVED, SubscriberBusy, Subscribers

__all__ = ["SubscriberBusy", "UssdChannel"]

log = structlog.get_logger(__name__)


@dataclass(eq=False, slots=True)
class _Live:
    msisdn: str
    number: int
    message_id: str
    machine: UssdSession
    source: tuple[str, int, int]  # our address (service code / short code), TON, NPI
    dest: tuple[int, int]  # the subscriber's TON, NPI
    service_code: str | None = None
    remote_id: str | None = None
    timer: asyncio.TimerHandle | None = None
    timer_at: float | None = None


class UssdChannel:
    """Channel(USSD) over an SMPP bind. Own the SmppClient (``from_url``) or share one
    (``UssdChannel(client)``: only USSD deliver_sm are taken off it, the rest stay SMS events)."""

    kind = ChannelKind.USSD

    def __init__(
        self,
        client: SmppClient,
        config: UssdConfig | None = None,
        *,
        own_client: bool = False,
        name: str | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.client = client
        self.config = config or UssdConfig()
        self.profile = self.config.profile
        self.name = name or client.name
        self.clock = clock
        self._own_client = own_client
        self._prev_hook = client.deliver_hook
        client.deliver_hook = self._on_deliver
        self._sessions: dict[tuple[str, int], _Live] = {}
        self._subscribers = Subscribers(
            queue=self.config.on_busy is BusyPolicy.QUEUE, queue_timeout=self.config.queue_timeout
        )
        self._events: asyncio.Queue[Event | None] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self._menus: dict[int, tuple[UssdMenu, CompiledMenu]] = {}
        self._codes = ServiceCodes()
        self._next_number = 0
        self._closed = False
        self.sessions_finished = 0

    @classmethod
    def from_url(cls, url: str, *, clock: Clock = SYSTEM_CLOCK, **overrides: Any) -> UssdChannel:
        """``ussd+smpp://user:pass@host:port?profile=standard|6d|mica&screen_timeout=30&...``."""
        config, smpp_url, smpp_overrides = split_url(url, overrides)
        smpp_overrides.setdefault("name", "ussd")
        client = SmppClient.from_url(smpp_url, **smpp_overrides)
        return cls(client, config, own_client=True, clock=clock)

    # -- lifecycle ---------------------------------------------------------------------------------

    async def connect(self) -> None:
        await self.client.connect()

    async def __aenter__(self) -> UssdChannel:
        await self.connect()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    @property
    def open_sessions(self) -> int:
        return len(self._sessions)

    async def aclose(self, *, release_timeout: float = 2.0) -> None:
        """Release every open session (each gets a CLOSED receipt), then close the bind if ours."""
        if self._closed:
            return
        self._closed = True
        self._subscribers.close()
        now = self._now()
        for live in list(self._sessions.values()):
            self._apply(live, live.machine.close(now))
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=release_timeout)
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._own_client:
            await self.client.aclose()
        else:
            self.client.deliver_hook = self._prev_hook
        self._events.put_nowait(None)

    def on_service_code(self, code: str, handler: Handler) -> None:
        """Answer subscribers who dial ``code`` (``*123#``; also ``*123*5#``) with a menu, or with the
        menu ``handler(request)`` returns (sync or async)."""
        self._codes.add(code, handler)

    # -- sending -----------------------------------------------------------------------------------

    async def send(self, message: Message) -> SendResult:
        """Open a session with ``message.to``; returns when the gateway accepted the first screen."""
        if self._closed:
            raise ChannelClosed(f"USSD channel {self.name} is closed")
        menu = message.content
        if not isinstance(menu, UssdMenu):
            raise ContentRejected(f"USSD channel sends UssdMenu, not {type(menu).__name__}", name="content")
        msisdn = message.to.strip().lstrip("+")
        if not msisdn.isdigit() or len(msisdn) > 20:
            raise InvalidRecipient(f"message {message.id}: {mask_msisdn(message.to)} is not a number")
        compiled = self._compile(menu)
        await self._subscribers.reserve(msisdn, message.id)
        machine = UssdSession(compiled, timers=self.config.timers, await_confirm=self.profile.ussn_confirm)
        cfg = self.client.config
        source = source_address(message.sender or cfg.default_sender, cfg)
        live = self._open(msisdn, message.id, machine, source, (cfg.dest_ton, cfg.dest_npi))
        first = machine.start(self._now())
        assert len(first) == 1 and isinstance(first[0], Push)
        try:
            resp = await self.client.request(self._submit(live, first[0]))
        except BaseException as exc:  # refused, unanswered or cancelled: no session, no receipt
            machine.failed(self._now(), str(exc))
            self._drop(live)
            raise
        live.remote_id = resp.get("message_id")
        self._apply(live, machine.accepted(self._now()))
        log.debug("ussd.session.opened", message_id=message.id, to=mask_msisdn(msisdn))
        return SendResult(
            message_id=message.id,
            channel=self.kind,
            remote_ids=(live.remote_id or message.id,),
            accepted_at=self.clock.now(),
        )

    def _compile(self, menu: UssdMenu) -> CompiledMenu:
        hit = self._menus.get(id(menu))
        if hit is not None and hit[0] is menu:
            return hit[1]
        compiled = compile_menu(menu, self.profile)
        if len(self._menus) >= 256:
            self._menus.clear()
        self._menus[id(menu)] = (menu, compiled)
        return compiled

    def _open(
        self,
        msisdn: str,
        message_id: str,
        machine: UssdSession,
        source: tuple[str, int, int],
        dest: tuple[int, int],
    ) -> _Live:
        space = self.profile.session_space
        number = self._next_number % space
        self._next_number = number + 1
        live = _Live(msisdn, number, message_id, machine, source, dest)
        self._sessions[(msisdn, number)] = live
        self._subscribers.hold(msisdn, live)
        return live

    def _drop(self, live: _Live) -> None:
        if self._sessions.get((live.msisdn, live.number)) is live:
            del self._sessions[(live.msisdn, live.number)]
        if live.timer is not None:
            live.timer.cancel()
            live.timer = None
        self._subscribers.release(live.msisdn, live)

    def _submit(self, live: _Live, push: Push) -> Pdu:
        profile = self.profile
        tlvs: dict[int, bytes] = {Tag.USSD_SERVICE_OP: bytes((profile.op_for(push.kind),))}
        tlvs.update(profile.session_tlvs(live.number, push.step, push.end))
        source, ston, snpi = live.source
        return codec.make(
            CommandId.SUBMIT_SM,
            tlvs=tlvs,
            service_type=profile.service_type,
            source_addr_ton=ston,
            source_addr_npi=snpi,
            source_addr=source,
            dest_addr_ton=live.dest[0],
            dest_addr_npi=live.dest[1],
            destination_addr=live.msisdn,
            data_coding=push.encoded.data_coding,
            short_message=push.encoded.data,
        )

    async def events(self) -> AsyncIterator[Event]:
        """Answers (InboundMessage, ``in_reply_to`` = Message.id or the user session's id), dialled
        service codes (``detail["event"] == "begin"``) and each session's final receipt."""
        while (event := await self._events.get()) is not None:
            yield event
        self._events.put_nowait(None)

    # -- session outputs ---------------------------------------------------------------------------

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _apply(self, live: _Live, outputs: list[Output]) -> None:
        for out in outputs:
            if isinstance(out, Push):
                self._spawn(self._push(live, out))
            elif isinstance(out, Answered):
                self._events.put_nowait(
                    answer_event(
                        out,
                        msisdn=live.msisdn,
                        recipient=live.service_code or live.source[0] or None,
                        message_id=live.message_id,
                        number=live.number,
                        at=self.clock.now(),
                        gateway=self.name,
                    )
                )
            else:
                self._drop(live)
                self.sessions_finished += 1
                self._events.put_nowait(
                    session_receipt(
                        out,
                        message_id=live.message_id,
                        remote_id=live.remote_id,
                        user_initiated=live.machine.user_initiated,
                        number=live.number,
                        service_code=live.service_code,
                        at=self.clock.now(),
                        gateway=self.name,
                    )
                )
        if not live.machine.done:
            self._arm(live)

    async def _push(self, live: _Live, push: Push) -> None:
        try:
            await self.client.request(self._submit(live, push))
        except ChannelsError as exc:
            log.info("ussd.push.failed", message_id=live.message_id, error=type(exc).__name__)
            code = getattr(exc, "code", None)
            error_code = f"{code:#x}" if isinstance(code, int) else code
            self._apply(live, live.machine.failed(self._now(), str(exc), error_code))
            return
        self._apply(live, live.machine.accepted(self._now()))

    def _arm(self, live: _Live) -> None:
        at = live.machine.get_timer()
        if at == live.timer_at:
            return
        if live.timer is not None:
            live.timer.cancel()
        live.timer_at = at
        live.timer = asyncio.get_running_loop().call_at(at, self._fire, live) if at is not None else None

    def _fire(self, live: _Live) -> None:
        live.timer = None
        live.timer_at = None
        self._apply(live, live.machine.handle_timer(self._now()))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- deliver_sm from the gateway ---------------------------------------------------------------

    def _on_deliver(self, pdu: Pdu) -> bool:
        op = pdu.tlv_int(Tag.USSD_SERVICE_OP)
        if op is None:
            if self._prev_hook is not None:
                return self._prev_hook(pdu)
            return self._own_client  # nobody reads an owned bind's SMS events
        key = self.profile.session_of(pdu)
        if key is None:
            log.warning("ussd.deliver.unkeyed", op=op, session_key=self.profile.session_key.value)
            return True
        number, _step, end = key
        kind = self.profile.classify_inbound(op, end)
        msisdn = pdu.get("source_addr")
        if kind is Inbound.BEGIN:
            self._begin(pdu, msisdn, number)
            return True
        live = self._sessions.get((msisdn, number))
        if live is None or kind is None:
            log.debug("ussd.deliver.unmatched", op=op, session=number, to=mask_msisdn(msisdn))
            return True
        now = self._now()
        if kind is Inbound.ANSWER:
            body = pdu.tlvs.get(Tag.MESSAGE_PAYLOAD) or pdu.get("short_message") or b""
            self._apply(live, live.machine.answer(decode_text(body, pdu.get("data_coding")), now))
        elif kind is Inbound.CONFIRM:
            self._apply(live, live.machine.confirm(now))
        else:
            self._apply(live, live.machine.abort(now, f"ended by the gateway (op {op:#04x})"))
        return True

    def _begin(self, pdu: Pdu, msisdn: str, number: int) -> None:
        """PSSR indication: a subscriber dialled a service code (user-initiated session)."""
        if (msisdn, number) in self._sessions or self._closed:
            return
        busy = self._subscribers.holder(msisdn)
        self._subscribers.hold(msisdn, RESERVED)  # first, so ending the old session frees it for no push
        if isinstance(busy, _Live):  # the network says the handset left that dialogue
            self._apply(busy, busy.machine.abort(self._now(), "superseded by a new session"))
        if self.profile.service_code_field == "destination_addr":
            dialled = pdu.get("destination_addr")
        else:
            dialled = decode_text(pdu.get("short_message") or b"", pdu.get("data_coding"))
        request = UssdRequest(
            msisdn=msisdn,
            dialled=dialled,
            service_code=self._codes.match(dialled),
            session_id=new_message_id(),
            gateway=self.name,
        )
        recipient = request.service_code or pdu.get("destination_addr") or None
        self._events.put_nowait(begin_event(request, recipient=recipient, number=number, at=self.clock.now()))
        source = (pdu.get("destination_addr"), pdu.get("dest_addr_ton"), pdu.get("dest_addr_npi"))
        dest = (pdu.get("source_addr_ton"), pdu.get("source_addr_npi"))
        self._spawn(self._serve(request, number, source, dest))

    async def _serve(
        self, request: UssdRequest, number: int, source: tuple[str, int, int], dest: tuple[int, int]
    ) -> None:
        """Run the service code's handler, then the menu it returned, as a user-initiated session."""
        msisdn = request.msisdn
        compiled: CompiledMenu | None = None
        error = "no handler for this service code"
        handler = self._codes.handler(request.service_code)
        try:
            if handler is not None:
                menu = handler if isinstance(handler, UssdMenu) else handler(request)
                if inspect.isawaitable(menu):
                    menu = await menu
                compiled = self._compile(menu)
        except Exception as exc:  # the user's handler: report it, release the dialogue
            log.error("ussd.handler.failed", service_code=request.service_code, error=repr(exc))
            error = f"handler failed: {exc!r}"
        machine = UssdSession(
            compiled or release_menu(self.profile), timers=self.config.timers, user_initiated=True
        )
        live = _Live(msisdn, number, request.session_id, machine, source, dest, request.service_code)
        self._sessions[(msisdn, number)] = live
        self._subscribers.hold(msisdn, live)
        if compiled is None:
            log.info("ussd.begin.unrouted", dialled=request.dialled, reason=error)
            self._apply(live, machine.refuse(self._now(), error))
            return
        self._apply(live, machine.start(self._now()))
