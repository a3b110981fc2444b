"""The IVR adapter: outbound calls over the Asterisk ARI subset (PROTOCOLS.md §7), as a Channel.

``send()`` places a call (``POST /ari/channels`` with ``channelId`` = our ``Message.id``, so every
outcome carries our id) and returns once the gateway accepted it; the call then runs in the
background, one owned task per call driving a pure :class:`~channels.ivr.session.CallSession` with
events from the one ARI WebSocket and its own timers. Gathered DTMF digits come out of
:meth:`IvrClient.events` as :class:`~channels.results.InboundMessage` replies; the end of each call
as a :class:`~channels.results.DeliveryReceipt` whose ``detail`` holds the call status, digits,
duration, cause and ``answered_by``. At most ``channels`` calls are in progress (the trunk size) and
attempts are paced to ``cps``. A lost WebSocket is reopened (tenacity, session level) and every live
call is resynchronised with ``GET /ari/channels/{id}``; guard timers and :meth:`IvrClient.aclose`
make sure no call is left without an outcome.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator, Coroutine
from types import TracebackType
from typing import Any

import aiohttp
import structlog
from tenacity import AsyncRetrying, retry_if_exception, wait_exponential, wait_random

from channels.clock import SYSTEM_CLOCK, Clock
from channels.content import IvrScript
from channels.errors import (
    AuthenticationError,
    ChannelClosed,
    ChannelsError,
    ConnectTimeout,
    ContentRejected,
    InvalidRecipient,
    OutcomeUnknown,
    RemoteProtocolError,
    SendRejected,
)
from channels.ivr.calls import Call, CallInput, Lost, Pacer, Resync, report
from channels.ivr.events import decode_event, event_channel_id
from channels.ivr.rest import AriRest
from channels.ivr.script import CompiledScript, compile_script
from channels.ivr.session import CallEnded, CallSession, Hangup, Originate
from channels.ivr.settings import IvrSettings
from channels.message import ChannelKind, Message, mask_msisdn
from channels.results import Event, SendResult

log = structlog.get_logger(__name__)


def _retriable(exc: BaseException) -> bool:
    return isinstance(exc, ChannelsError) and exc.retriable


class IvrClient:
    """Outbound calls through an ARI gateway. Use as an async context manager."""

    kind = ChannelKind.IVR

    def __init__(self, settings: IvrSettings, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self.settings = settings
        self.name = settings.name
        self._clock = clock
        self._calls: dict[str, Call] = {}
        self._slots = asyncio.Semaphore(settings.channels)
        self._pacer = Pacer(settings.cps)
        self._events: asyncio.Queue[Event | None] = asyncio.Queue()
        self._connected = asyncio.Event()
        self._fatal: ChannelsError | None = None
        self._http: aiohttp.ClientSession | None = None
        self._rest: AriRest | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._compiled: dict[int, CompiledScript] = {}
        self._closed = False
        self.peak_in_progress = 0
        self.reconnects = 0

    @classmethod
    def from_url(cls, url: str, *, clock: Clock = SYSTEM_CLOCK, **overrides: Any) -> IvrClient:
        return cls(IvrSettings.from_url(url, **overrides), clock=clock)

    @property
    def in_progress(self) -> int:
        return len(self._calls)

    # -- lifecycle ---------------------------------------------------------------------------------

    async def __aenter__(self) -> IvrClient:
        await self.connect()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def connect(self) -> None:
        """Open the HTTP session and the events WebSocket (idempotent); wait until subscribed."""
        if self._closed:
            raise ChannelClosed("IVR client is closed")
        if self._http is None:
            s = self.settings
            headers = {}
            if s.username:  # HTTP Basic, as ARI expects [I1]
                token = base64.b64encode(f"{s.username}:{s.password or ''}".encode()).decode("ascii")
                headers["Authorization"] = f"Basic {token}"
            # each call does one request at a time: channels bound the connections (+ events, resync)
            connector = aiohttp.TCPConnector(limit=s.channels + 8)
            self._http = aiohttp.ClientSession(headers=headers, connector=connector)
            self._rest = AriRest(self._http, s.base_url, s.request_timeout)
            self._spawn(self._events_loop())
        await self._wait_connected()

    async def _wait_connected(self) -> None:
        try:
            async with asyncio.timeout(self.settings.connect_timeout):
                await self._connected.wait()
        except TimeoutError:
            raise ConnectTimeout(f"ARI events WebSocket not connected to {self.settings.base_url}") from None
        if self._fatal is not None:
            raise self._fatal

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def aclose(self) -> None:
        """Hang up calls still in progress (each gets its outcome), stop every task, close."""
        if self._closed:
            return
        self._closed = True
        calls = list(self._calls.values())
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        now = self._clock.monotonic()
        for call in calls:
            call.session.abort(now)
        if calls and self._rest is not None:
            rest = self._rest
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2.0):
                    commands = [c for call in calls for c in call.session.take_commands()]
                    await asyncio.gather(*(rest.execute(c) for c in commands))
        for call in calls:
            self._emit(call)
        self._calls.clear()
        if self._http is not None:
            await self._http.close()
        self._connected.set()
        self._events.put_nowait(None)
        log.info("ivr.client.closed", aborted=len(calls))

    # -- sending -----------------------------------------------------------------------------------

    def _compile(self, script: IvrScript) -> CompiledScript:
        compiled = self._compiled.get(id(script))
        if compiled is None or compiled.script is not script:
            compiled = compile_script(script)
            if len(self._compiled) >= 256:
                self._compiled.clear()
            self._compiled[id(script)] = compiled
        return compiled

    def _endpoint(self, to: str) -> str:
        number = to.strip().replace(" ", "").replace("-", "")
        digits = number[1:] if number.startswith("+") else number
        if not digits.isdigit() or not 3 <= len(digits) <= 20:
            raise InvalidRecipient(f"Message.to: {mask_msisdn(to)!r} is not a phone number")
        return self.settings.endpoint.replace("{number}", digits)

    async def send(self, message: Message) -> SendResult:
        """Originate the call; return once the gateway accepted it (the call goes on in the background)."""
        if self._closed:
            raise ChannelClosed("IVR client is closed")
        if not isinstance(message.content, IvrScript):
            kind = type(message.content).__name__
            raise ContentRejected(f"Message.content: IVR needs an IvrScript, not {kind}")
        script = self._compile(message.content)
        endpoint = self._endpoint(message.to)
        if message.id in self._calls:
            raise SendRejected(f"a call for message {message.id} is already in progress", code=409)
        await self.connect()
        await self._slots.acquire()
        try:
            call = await self._originate(message, script, endpoint)
        except BaseException:
            self._slots.release()
            raise
        call.task = self._spawn(self._run(call))
        return SendResult(
            message_id=message.id,
            channel=ChannelKind.IVR,
            remote_ids=(call.session.channel_id,),
            accepted_at=self._clock.now(),
        )

    async def _originate(self, message: Message, script: CompiledScript, endpoint: str) -> Call:
        await self._pacer.wait()
        if self._closed:
            raise ChannelClosed("IVR client is closed")
        await self._wait_connected()
        s = self.settings
        caller_id = message.sender or script.script.caller_id or s.caller_id
        session = CallSession(
            channel_id=message.id,
            script=script,
            endpoint=endpoint,
            app=s.app,
            app_args=(message.campaign_id,) if message.campaign_id else (),
            caller_id=caller_id,
            ring_timeout=s.ring_timeout,
            tts_scheme=s.tts_scheme,
            answer_grace=s.answer_grace,
            hangup_grace=s.hangup_grace,
            max_duration=s.max_duration,
            lost_grace=s.events_grace,
        )
        session.start(self._clock.monotonic())
        originate = session.take_commands()[0]
        assert isinstance(originate, Originate) and self._rest is not None
        call = Call(message, session, caller_id)
        self._calls[message.id] = call  # before the POST: events may overtake its answer
        try:
            try:
                channel = await self._rest.originate(originate)
            except OutcomeUnknown:
                if not await self._adopt(call):
                    raise
            else:
                if channel.id != originate.channel_id:  # its events would never reach this call
                    await self._rest.execute(Hangup(channel.id))
                    raise RemoteProtocolError(f"gateway ignored channelId (gave {channel.id!r})")
        except BaseException:
            self._calls.pop(message.id, None)
            raise
        session.originate_accepted(self._clock.monotonic())
        self.peak_in_progress = max(self.peak_in_progress, len(self._calls))
        log.debug("ivr.call.originated", message_id=message.id, to=mask_msisdn(message.to))
        return call

    async def _adopt(self, call: Call) -> bool:
        """After an unanswered originate: did the call exist after all? (events, or the channel)."""
        if call.heard_from:
            return True
        assert self._rest is not None
        try:
            return await self._rest.get_channel(call.session.channel_id) is not None
        except ChannelsError:
            return False

    # -- running calls -----------------------------------------------------------------------------

    async def _run(self, call: Call) -> None:
        session = call.session
        try:
            while not session.done:
                item = await self._next_input(call)
                now = self._clock.monotonic()
                if item is None:
                    session.handle_timer(now)
                elif isinstance(item, Lost):
                    session.connection_lost(now)
                elif isinstance(item, Resync):
                    session.resync(item.channel, now)
                else:
                    session.handle_event(item, now)
                await self._execute(call)
                self._emit(call)
        except Exception:  # a bug must not leave the call without an outcome
            log.exception("ivr.call.internal_error", message_id=call.message.id)
            session.abort(self._clock.monotonic(), reason="internal-error")
            self._emit(call)
            with contextlib.suppress(Exception):
                await self._execute(call)
        finally:  # ended, or cancelled by aclose() (which then reports the outcome)
            self._calls.pop(session.channel_id, None)
            self._slots.release()

    async def _next_input(self, call: Call) -> CallInput | None:
        """The next event for this call, or None when its timer is due."""
        if not call.inbox.empty():
            return call.inbox.get_nowait()
        timer = call.session.get_timer()
        if timer is None:
            return await call.inbox.get()
        delay = timer - self._clock.monotonic()
        if delay <= 0:
            return None
        try:
            async with asyncio.timeout(delay):
                return await call.inbox.get()
        except TimeoutError:
            return None

    async def _execute(self, call: Call) -> None:
        assert self._rest is not None
        while commands := call.session.take_commands():
            for cmd in commands:
                if not await self._rest.execute(cmd):
                    call.session.command_failed(cmd, self._clock.monotonic())

    def _emit(self, call: Call) -> None:
        for event in call.session.take_events():
            self._events.put_nowait(report(call, event, self._clock.now(), self.name))
            if isinstance(event, CallEnded):
                r = event.result
                log.debug("ivr.call.ended", message_id=call.message.id, status=r.status.value, cause=r.cause)

    # -- the events WebSocket ----------------------------------------------------------------------

    async def _events_loop(self) -> None:
        first = True
        while True:
            try:
                ws = await self._open_events()
            except AuthenticationError as exc:
                self._fatal = exc
                self._connected.set()
                log.error("ivr.events.auth_failed", url=self.settings.base_url)
                return
            self._connected.set()
            log.info("ivr.events.connected", app=self.settings.app, resync=not first)
            if not first:
                self.reconnects += 1
                self._spawn(self._resync_all())
            first = False
            try:
                await self._read(ws)
            finally:
                self._connected.clear()
                await ws.close()
            log.warning("ivr.events.lost", calls=len(self._calls))
            for call in self._calls.values():
                call.inbox.put_nowait(Lost())

    async def _open_events(self) -> aiohttp.ClientWebSocketResponse:
        s = self.settings
        assert self._rest is not None
        async for attempt in AsyncRetrying(
            retry=retry_if_exception(_retriable),
            wait=wait_exponential(multiplier=s.reconnect_initial, max=s.reconnect_max)
            + wait_random(0, s.reconnect_initial),
            reraise=True,
        ):
            with attempt:
                return await self._rest.open_events(s.events_url, s.app, s.heartbeat)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                continue
            try:
                event = decode_event(msg.data)
            except RemoteProtocolError as exc:
                log.warning("ivr.events.malformed", error=str(exc))
                continue
            channel_id = event_channel_id(event)
            call = self._calls.get(channel_id) if channel_id is not None else None
            if call is not None:
                call.heard_from = True
                call.inbox.put_nowait(event)

    async def _resync_all(self) -> None:
        assert self._rest is not None
        rest = self._rest

        async def one(call: Call) -> None:
            try:
                channel = await rest.get_channel(call.session.channel_id)
            except ChannelsError:
                return  # the session's guard timers still end it
            call.inbox.put_nowait(Resync(channel))

        await asyncio.gather(*(one(c) for c in list(self._calls.values())))

    # -- events ------------------------------------------------------------------------------------

    async def events(self) -> AsyncIterator[Event]:
        """Call outcomes (DeliveryReceipt) and gathered digits (InboundMessage) until closed."""
        while (event := await self._events.get()) is not None:
            yield event
        self._events.put_nowait(None)
