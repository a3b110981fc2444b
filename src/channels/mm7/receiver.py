"""The VASP's HTTP endpoint for MMSC-originated MM7 requests (3GPP TS 23.140 §8.7.2, §8.7.3).

An MMSC posts DeliveryReportReq and DeliverReq to the VASP's URL and retries until it gets a
``*Rsp`` with Status 1000 (PROTOCOLS.md §4.3). This is a thin aiohttp.web server around the pure
:func:`~channels.mm7.inbound.handle_mmsc_request`: it reads the body, hands the decoded event to
``on_event`` (which may wait: a full event queue slows the MMSC down rather than dropping reports)
and writes the answer. It listens on a given host/port (port 0: a free one) and exposes its ``url``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType

import structlog
from aiohttp import web

from channels.clock import SYSTEM_CLOCK, Clock
from channels.errors import ConfigurationError, TransportError
from channels.mm7.inbound import handle_mmsc_request
from channels.results import DeliveryReceipt, Event

log = structlog.get_logger(__name__)

MAX_REQUEST_BYTES = 8 * 1024 * 1024  # an MO MMS with media fits comfortably


class Mm7Receiver:
    """aiohttp server for DeliveryReportReq / DeliverReq; an async context manager."""

    def __init__(
        self,
        on_event: Callable[[Event], Awaitable[None]],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/mm7",
        clock: Clock = SYSTEM_CLOCK,
        gateway: str | None = None,
        service_code: str | None = None,
    ) -> None:
        self._on_event = on_event
        self.host = host
        self.port = port
        self.path = path or "/"
        self._clock = clock
        self._gateway = gateway
        self._service_code = service_code
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        if self._runner is None:
            raise ConfigurationError("receiver: not started, no URL yet")
        return f"http://{self.host}:{self.port}{self.path}"

    async def start(self) -> None:
        if self._runner is not None:
            return
        app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        app.router.add_post(self.path, self._handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise TransportError(f"receiver: cannot listen on {self.host}:{self.port}: {exc}") from exc
        if self.port == 0:
            self.port = int(runner.addresses[0][1])
        self._runner = runner
        log.info("mm7.receiver.started", url=self.url)

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        result = handle_mmsc_request(
            request.headers.get("Content-Type", ""),
            body,
            self._clock.now(),
            gateway=self._gateway,
            service_code=self._service_code,
        )
        answer = result.answer
        if result.event is not None:
            await self._on_event(result.event)
            kind = "report" if isinstance(result.event, DeliveryReceipt) else "deliver"
            log.debug(f"mm7.receiver.{kind}")
        else:
            log.warning("mm7.receiver.bad_request", http_status=answer.http_status)
        return web.Response(
            status=answer.http_status, body=answer.body, headers={"Content-Type": answer.content_type}
        )

    async def aclose(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Mm7Receiver:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
