"""The MMS channel: an MM7 VASP client over aiohttp (3GPP TS 23.140 §8.7; PROTOCOLS.md §4).

``Mm7Client`` implements the :class:`~channels.channel.Channel` protocol for ChannelKind.MMS. It
posts SubmitReq (SOAP 1.1 over HTTP, multipart/related, HTTP Basic auth) on a keep-alive connection
pool, turns the answer into a :class:`~channels.results.SendResult` whose remote id is the MMSC's
MessageID, and runs an :class:`~channels.mm7.receiver.Mm7Receiver` for the MMSC's delivery reports and
MO, yielded by ``events()`` as DeliveryReceipt (``remote_id`` = MessageID, correlated by the
Dispatcher's ReceiptTracker) and InboundMessage. Everything protocol-shaped is in the pure modules;
this one only moves bytes (through :mod:`channels.http`, which also turns transport failures into our
errors) and measures time.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import structlog

from channels.clock import SYSTEM_CLOCK, Clock
from channels.content import Mms
from channels.errors import ChannelClosed, ContentRejected
from channels.http import KeepAlivePool, SessionPoster
from channels.message import ChannelKind, Message, mask_msisdn
from channels.mm7.config import Mm7Config, config_from_url
from channels.mm7.envelope import Address, AddressKind
from channels.mm7.mime import RenderedMm, new_boundary
from channels.mm7.receiver import Mm7Receiver
from channels.mm7.submit import (
    SubmitRequest,
    SubmitTemplate,
    encode_submit,
    prepare_content,
    read_submit_answer,
    render_content,
    submit_req,
    template_key,
)
from channels.results import Event, SendResult

log = structlog.get_logger(__name__)

EVENT_QUEUE_SIZE = 10_000  # a full queue makes the receiver wait (the MMSC retries), not drop


class Mm7Client:
    """An MM7 VASP: send MMS, receive delivery reports and subscriber MMS. Async context manager."""

    kind = ChannelKind.MMS

    def __init__(
        self,
        config: Mm7Config,
        *,
        session: aiohttp.ClientSession | None = None,
        clock: Clock = SYSTEM_CLOCK,
        boundary: Callable[[], str] | None = None,
    ) -> None:
        self.config = config
        self.name = config.name
        self._session = session  # the caller's; else the client posts on its own KeepAlivePool
        self._http: KeepAlivePool | SessionPoster | None = None
        self._clock = clock
        # one boundary for this client's lifetime (encode_soap checks it against each body)
        self._boundary = boundary or itertools.repeat(new_boundary()).__next__
        # The SOAP wrapper gets a boundary of its own: with the MM's, encode_soap's collision check
        # would pick a fresh random one per request, and a parser compiles a pattern per boundary.
        self._outer_boundary = boundary or itertools.repeat(new_boundary()).__next__
        self._headers = {"SOAPAction": '""'}
        if config.username:  # HTTP Basic (RFC 7617), UTF-8 credentials
            self._headers["Authorization"] = aiohttp.encode_basic_auth(config.username, config.password or "")
        self._tids = itertools.count(1)
        self._tid_prefix = secrets.token_hex(4)
        self._events: asyncio.Queue[Event | None] = asyncio.Queue(EVENT_QUEUE_SIZE)
        self._receiver: Mm7Receiver | None = None
        self._cache: tuple[Mms, RenderedMm] | None = None
        # the current content's requests as templates, per template_key (None: write each one)
        self._templates: dict[tuple[str | None, bool, AddressKind], SubmitTemplate | None] = {}
        self._start_lock = asyncio.Lock()
        self._started = False
        self._closed = False

    @classmethod
    def from_url(cls, url: str, **overrides: Any) -> Mm7Client:
        """``mm7+http://user:pass@host:port/mm7?vaspid=…&vasid=…&service_code=…&profile=…&report_url=…``.

        Keyword overrides: any :class:`Mm7Config` field, plus ``session``, ``clock``, ``boundary``.
        """
        client_kw = {k: overrides.pop(k) for k in ("session", "clock", "boundary") if k in overrides}
        return cls(config_from_url(url, **overrides), **client_kw)

    # -- lifecycle ---------------------------------------------------------------------------------

    @property
    def report_url(self) -> str | None:
        """Where the MMSC should post reports and MO (known once started; None without a receiver)."""
        return self._receiver.url if self._receiver is not None and self._started else None

    async def start(self) -> None:
        """Open the connection pool and the report receiver (``send`` does this on first use)."""
        async with self._start_lock:
            if self._started:
                return
            if self._closed:
                raise ChannelClosed("MM7 client is closed")
            c = self.config
            if self._session is None:
                self._http = KeepAlivePool(
                    c.endpoint, headers=self._headers, limit=c.connections, timeout=c.timeout,
                    connect_timeout=c.connect_timeout, label="MM7",
                )
            else:
                self._http = SessionPoster(self._session, c.endpoint, headers=self._headers, label="MM7")
            if self.config.report_url is not None:
                parts = urlsplit(self.config.report_url)
                self._receiver = Mm7Receiver(
                    self._events.put, host=parts.hostname or "127.0.0.1", port=parts.port or 0,
                    path=parts.path or "/mm7", clock=self._clock, gateway=self.name,
                    service_code=self.config.service_code,
                )
                await self._receiver.start()
            self._started = True

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._receiver is not None:
            await self._receiver.aclose()
        if self._http is not None:
            await self._http.close()
        with contextlib.suppress(asyncio.QueueFull):  # if full, events() ends once drained
            self._events.put_nowait(None)

    async def __aenter__(self) -> Mm7Client:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # -- sending -----------------------------------------------------------------------------------

    def _content(self, mms: Mms) -> RenderedMm:
        """The MM checked and written once per distinct Mms object (a campaign shares one)."""
        cached = self._cache
        if cached is not None and cached[0] is mms:
            return cached[1]
        rendered = render_content(prepare_content(mms, self.config.size_limit), self.config, self._boundary)
        self._cache = (mms, rendered)
        self._templates.clear()
        return rendered

    def _request(self, message: Message, content: RenderedMm, tid: str) -> SubmitRequest:
        """The HTTP request for ``message``: spliced into its campaign's template when it has one,
        else (and to make the template) written by ``submit_req`` and ``encode_submit``."""
        now = self._clock.now()
        to = Address.guess(message.to)
        key = template_key(message, to)
        if key not in self._templates:
            req = submit_req(message, self.config, now)
            self._templates[key] = SubmitTemplate.of(req, content, self.config, self._outer_boundary)
        template = self._templates[key]
        if template is not None:
            request = template.request(tid, to.value, now)
            if request is not None:
                return request
        return encode_submit(submit_req(message, self.config, now), content, self.config, tid,
                             self._outer_boundary)

    async def send(self, message: Message) -> SendResult:
        """Submit one MMS; returns when the MMSC accepted it (remote id = its MessageID)."""
        if self._closed:
            raise ChannelClosed("MM7 client is closed")
        if not isinstance(message.content, Mms):
            raise ContentRejected(f"content: MM7 carries Mms, not {type(message.content).__name__}")
        content = self._content(message.content)
        if not self._started:
            await self.start()
        request = self._request(message, content, f"{self._tid_prefix}-{next(self._tids)}")
        assert self._http is not None
        status, ctype, body = await self._http.post(request.content_type, request.body)
        message_id = read_submit_answer(status, ctype, body)
        log.debug("mm7.submit.completed", message_id=message.id, remote_id=message_id,
                  to=mask_msisdn(message.to))
        return SendResult(message_id=message.id, channel=ChannelKind.MMS, remote_ids=(message_id,),
                          accepted_at=self._clock.now())

    # -- events ------------------------------------------------------------------------------------

    async def events(self) -> AsyncIterator[Event]:
        """Delivery reports (DeliveryReceipt) and subscriber MMS (InboundMessage), until closed."""
        while not (self._closed and self._events.empty()):
            event = await self._events.get()
            if event is None:
                self._events.put_nowait(None)  # let another consumer end too
                return
            yield event
