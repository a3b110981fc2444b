"""``PapClient``: the WAP_PUSH channel through a push proxy gateway, speaking PAP 2.0 over HTTP (WAP-247).

Each message becomes one PAP request (push-message + SI/SL document, multipart/related) on a
keep-alive connection (:class:`channels.http.KeepAlivePool`); the PPG's push-response code (read from
the XML, whatever the HTTP status: Kannel answers 202 for every outcome) maps to our errors through
``pap.PAP_CODES``. The push-id is ``<Message.id>@<pi_domain>``, so a retried message keeps its push-id
and a PPG can refuse a duplicate.
When ``notify`` is set the client listens for resultnotification-message posts (it names itself in
``ppg-notify-requested-to``) and yields them as receipts keyed by push-id. PROTOCOLS.md §5.1.
"""

from __future__ import annotations

import asyncio
import base64
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit, urlunsplit

import structlog
from aiohttp import web

from channels.clock import SYSTEM_CLOCK, Clock
from channels.content import WapPush
from channels.errors import (
    AuthenticationError,
    ChannelClosed,
    ChannelsError,
    ConfigurationError,
    ContentRejected,
    OutcomeUnknown,
    RemoteProtocolError,
    RemoteTemporaryError,
    RemoteThrottled,
    SendRejected,
)
from channels.http import KeepAlivePool
from channels.message import ChannelKind, Message, mask_msisdn
from channels.results import DeliveryReceipt, DeliveryState, Event, SendResult
from channels.wap import pap
from channels.wap.pap import PapAddress, PushMessage, QualityOfService
from channels.wap.push import compile_push, push_xml

log = structlog.get_logger(__name__)

# HTTP status → error, for answers that carry no PAP document (PROTOCOLS.md §5.1: 401, 404).
_HTTP_ERRORS: dict[int, type[ChannelsError]] = {
    401: AuthenticationError,
    403: AuthenticationError,
    404: ConfigurationError,
    429: RemoteThrottled,
    503: RemoteThrottled,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class PapSettings:
    """How to reach the PPG and what to ask of it (all settable as ``from_url`` query parameters)."""

    url: str  # the PPG's http(s) URL, without credentials
    username: str | None = None
    password: str | None = None
    auth: str = "basic"  # "basic" (Authorization header) or "query" (?username=&password=, Kannel)
    ppg_host: str | None = None  # the @<ppg> part of addresses; default the URL's host
    pi_domain: str = "telco-channels"
    content_format: str = "xml"  # "xml" (text/vnd.wap.si, the PPG compiles) or "wbxml" (compiled here)
    application_id: str | None = None  # X-Wap-Application-Id on the content part
    qos: QualityOfService = field(default_factory=QualityOfService)
    timeout: float = 30.0
    concurrency: int = 64
    notify: str | None = None  # "host:port" to listen for result notifications
    notify_url: str | None = None  # advertised URL, if not http://<notify>/pap-notify
    name: str = "pap"


_BOOL = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


def settings_from_url(url: str, **overrides: Any) -> PapSettings:
    """``pap+http://user:pass@host:port/path?auth=basic&notify=127.0.0.1:0&format=xml&...``"""
    parts = urlsplit(url)
    scheme = parts.scheme.removeprefix("pap+")
    if parts.scheme not in ("pap+http", "pap+https", "http", "https") or not parts.hostname:
        raise ConfigurationError(f"PAP URL must be pap+http://host:port/path, not {url!r}")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
    fields: dict[str, Any] = {
        "url": urlunsplit((scheme, netloc, parts.path or "/", "", "")),
        "username": unquote(parts.username) if parts.username else os.environ.get("PAP_USERNAME"),
        "password": unquote(parts.password) if parts.password else os.environ.get("PAP_PASSWORD"),
    }
    qos: dict[str, Any] = {}
    for key, value in query.items():
        if key in ("priority", "delivery_method", "network", "bearer"):
            qos[key] = value or None
        elif key in ("network_required", "bearer_required"):
            qos[key] = _flag(key, value)
        elif key in ("timeout",):
            fields[key] = _number(key, value, float)
        elif key in ("concurrency",):
            fields[key] = _number(key, value, int)
        elif key == "format":
            fields["content_format"] = value
        elif key in ("auth", "ppg_host", "pi_domain", "application_id", "notify", "notify_url", "name"):
            fields[key] = value
        else:
            raise ConfigurationError(f"PAP URL: unknown parameter {key!r}")
    fields["qos"] = QualityOfService(**qos)
    fields.update(overrides)
    settings = PapSettings(**fields)
    if settings.auth not in ("basic", "query"):
        raise ConfigurationError(f"PAP URL: auth must be basic or query, not {settings.auth!r}")
    if settings.content_format not in ("xml", "wbxml"):
        raise ConfigurationError(f"PAP URL: format must be xml or wbxml, not {settings.content_format!r}")
    return settings


def _flag(key: str, value: str) -> bool:
    try:
        return _BOOL[value.lower()]
    except KeyError:
        raise ConfigurationError(f"PAP URL: {key} must be true or false, not {value!r}") from None


def _number(key: str, value: str, kind: type[float] | type[int]) -> Any:
    try:
        number = kind(value)
    except ValueError:
        raise ConfigurationError(f"PAP URL: {key} must be a number, not {value!r}") from None
    if number <= 0:
        raise ConfigurationError(f"PAP URL: {key} must be positive")
    return number


def pap_address(msisdn: str, ppg_host: str) -> PapAddress:
    """``+<digits>`` for an E.164 number (a leading ``00`` or ``+`` is kept as international)."""
    digits = msisdn.strip().replace(" ", "").replace("-", "")
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    address = PapAddress(digits if digits.startswith("+") else "+" + digits, "PLMN", ppg_host)
    address.validate()
    return address


def _http_error(status: int) -> ChannelsError:
    cls = _HTTP_ERRORS[status]
    text = f"PPG answered HTTP {status}"
    return cls(text, code=str(status)) if issubclass(cls, SendRejected) else cls(text)


class PapClient:
    """Channel(WAP_PUSH) via a PPG. Use ``async with PapClient.from_url(url) as ch`` (or let the
    Dispatcher close it)."""

    kind = ChannelKind.WAP_PUSH

    def __init__(self, settings: PapSettings, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self.settings = settings
        self.name = settings.name
        self.clock = clock
        self._http: KeepAlivePool | None = None
        self._runner: web.AppRunner | None = None
        self._notify_to: str | None = settings.notify_url
        self._events: asyncio.Queue[Event | None] = asyncio.Queue()
        self._start_lock = asyncio.Lock()
        self._closed = False
        self._headers: dict[str, str] = {}
        self._params: dict[str, str] = {}
        if settings.username is not None:
            if settings.auth == "query":
                self._params = {"username": settings.username, "password": settings.password or ""}
            else:
                token = base64.b64encode(f"{settings.username}:{settings.password or ''}".encode()).decode()
                self._headers["Authorization"] = f"Basic {token}"
        self._boundary = "pap-" + uuid.uuid4().hex  # one per client: see pap.build_push_body
        self._ppg_host = settings.ppg_host or (urlsplit(settings.url).hostname or "ppg")

    @classmethod
    def from_url(cls, url: str, *, clock: Clock = SYSTEM_CLOCK, **overrides: Any) -> PapClient:
        return cls(settings_from_url(url, **overrides), clock=clock)

    async def __aenter__(self) -> PapClient:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    @property
    def notify_url(self) -> str | None:
        """Where result notifications are received (after ``start()``)."""
        return self._notify_to

    async def start(self) -> None:
        async with self._start_lock:
            if self._closed:
                raise ChannelClosed("PAP client is closed")
            if self._http is not None:
                return
            if self.settings.notify:
                await self._start_listener(self.settings.notify)
            url = self.settings.url
            if self._params:  # Kannel's query credentials (PROTOCOLS.md §5.1)
                url += ("&" if urlsplit(url).query else "?") + urlencode(self._params)
            self._http = KeepAlivePool(
                url, headers=self._headers, limit=self.settings.concurrency, timeout=self.settings.timeout,
                connect_timeout=self.settings.timeout, label=f"PPG {self.settings.url}", keepalive=30.0,
            )
            log.info("pap.client.started", url=self.settings.url, notify=self._notify_to)

    async def _start_listener(self, where: str) -> None:
        host, _, port = where.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigurationError(f"PAP notify must be host:port, not {where!r}")
        app = web.Application(client_max_size=1 << 20)
        app.router.add_post("/pap-notify", self._on_notification)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, int(port))
        await site.start()
        bound = self._runner.addresses[0]
        if self._notify_to is None:
            self._notify_to = f"http://{host}:{bound[1]}/pap-notify"

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()
        self._events.put_nowait(None)
        log.info("pap.client.closed")

    # -- sending ---------------------------------------------------------------------------------

    def build_request(self, message: Message) -> tuple[str, bytes, str]:
        """(push-id, body, Content-Type) for a message; pure apart from the boundary."""
        push = message.content
        if not isinstance(push, WapPush):
            raise ContentRejected(f"PAP sends WapPush content, not {type(push).__name__}", name="content")
        address = pap_address(message.to, self._ppg_host)
        push_id = f"{message.id}@{self.settings.pi_domain}"
        control = pap.render(
            PushMessage(
                push_id=push_id, addresses=(str(address),), qos=self.settings.qos, notify_to=self._notify_to
            )
        )
        content, content_type = (
            push_xml(push) if self.settings.content_format == "xml" else compile_push(push)
        )
        headers = (
            {"X-Wap-Application-Id": self.settings.application_id} if self.settings.application_id else None
        )
        body, multipart_type = pap.build_push_body(
            control, content, content_type, headers=headers, boundary=self._boundary
        )
        return push_id, body, multipart_type

    async def send(self, message: Message) -> SendResult:
        if self._http is None:
            await self.start()
        assert self._http is not None
        push_id, body, content_type = self.build_request(message)
        status, _, answer = await self._http.post(content_type, body)
        self._check(status, answer, push_id)
        log.debug("pap.push.accepted", push_id=push_id, to=mask_msisdn(message.to))
        return SendResult(
            message_id=message.id,
            channel=ChannelKind.WAP_PUSH,
            remote_ids=(push_id,),
            accepted_at=self.clock.now(),
        )

    def _check(self, status: int, answer: bytes, push_id: str) -> None:
        if status in _HTTP_ERRORS and not answer.lstrip().startswith(b"<"):
            raise _http_error(status)
        try:
            doc = pap.parse(answer)
        except RemoteProtocolError as exc:
            if status in _HTTP_ERRORS:
                raise _http_error(status) from exc
            if status >= 500:
                raise RemoteTemporaryError(f"PPG answered HTTP {status}") from exc
            raise OutcomeUnknown(f"PPG answered HTTP {status} without a PAP document: {exc}") from exc
        if isinstance(doc, pap.PushResponse):
            if doc.push_id and doc.push_id != push_id:
                raise OutcomeUnknown(f"PPG answered for push-id {doc.push_id!r}, sent {push_id!r}")
            if not pap.is_success(doc.code):
                raise pap.error_for(doc.code, doc.desc)
            return
        if isinstance(doc, pap.BadMessageResponse):
            raise pap.error_for(doc.code, doc.desc)
        raise OutcomeUnknown(f"PPG answered with {type(doc).__name__}")

    # -- notifications -------------------------------------------------------------------------------

    async def _on_notification(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            doc = pap.parse(body)
            if not isinstance(doc, pap.ResultNotification):
                raise RemoteProtocolError("expected resultnotification-message", status=2000)
        except RemoteProtocolError as exc:
            log.warning("pap.notification.malformed", error=str(exc))
            bad = pap.BadMessageResponse(code=exc.status or 2000, desc=str(exc))
            return web.Response(status=400, body=pap.render(bad), content_type="application/xml")
        self._events.put_nowait(self._receipt(doc))
        answer = pap.ResultNotificationResponse(push_id=doc.push_id, address=doc.address, code=1000)
        return web.Response(body=pap.render(answer), content_type="application/xml")

    def _receipt(self, doc: pap.ResultNotification) -> DeliveryReceipt:
        state = pap.MESSAGE_STATES.get(doc.message_state.lower(), DeliveryState.UNKNOWN)
        failed = state is not DeliveryState.DELIVERED and not pap.is_success(doc.code)
        return DeliveryReceipt(
            channel=ChannelKind.WAP_PUSH,
            state=state,
            remote_id=doc.push_id,
            at=doc.event_time or self.clock.now(),
            error_code=str(doc.code) if failed else None,
            detail={"message_state": doc.message_state, "code": doc.code, "desc": doc.desc or ""},
            gateway=self.name,
        )

    async def events(self) -> AsyncIterator[Event]:
        """Receipts from result notifications, until the client is closed."""
        while (event := await self._events.get()) is not None:
            yield event
        self._events.put_nowait(None)
