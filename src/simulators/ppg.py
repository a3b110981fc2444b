"""A push proxy gateway simulator: PAP 2.0 over HTTP in, WAP push as binary SMS out (WAP-247, WAP-249).

It accepts ``multipart/related`` PAP requests on ``path`` (basic-auth or ``?username=&password=``
credentials, as Kannel's PPG), validates the control entity and content with the same codecs the
client uses (``channels.wap.pap``, ``si``, ``sl``), and answers push-response with 1001 or the code
that names the fault, in an HTTP 202 like Kannel (PROTOCOLS.md §5.1). Accepted pushes are recorded as
the handset would show them and, with ``smsc`` set, forwarded as binary SMS through
:class:`~channels.wap.direct.WapSmppChannel` to any SMPP server (our SMSC simulator included). When
the push asked for it (``ppg-notify-requested-to``) a resultnotification-message follows: from the
SMS delivery receipts when forwarding, else from the scenario's seeded outcome mix.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import random
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp
import structlog
from aiohttp import web

from channels.errors import ChannelsError, RemoteProtocolError
from channels.http import serve_post
from channels.message import ChannelKind, Message, mask_msisdn
from channels.receipts import ReceiptTracker
from channels.results import DeliveryReceipt, DeliveryState
from channels.wap import pap
from channels.wap.direct import WapSmppChannel
from simulators.ppg_model import Verdict, evaluate, notification, record_of
from simulators.recorder import Recorder

log = structlog.get_logger(__name__)
_MAX_PARTS = 3  # control, content, capabilities (WAP-247 §8)


@dataclass(frozen=True, slots=True, kw_only=True)
class PpgScenario:
    """How the simulated PPG behaves. Seeded: the same scenario gives the same outcomes."""

    seed: int = 0
    latency: float = 0.0  # seconds before each answer
    http_status: int = 202  # Kannel answers 202 whatever the PAP outcome
    error_share: float = 0.0  # share of valid pushes answered with error_code
    error_code: int = 3000
    notify: bool = True  # post resultnotification-message when the push asks for it
    notify_delay: float = 0.0  # seconds before a notification (without an SMSC)
    outcomes: Mapping[DeliveryState, float] = field(default_factory=lambda: {DeliveryState.DELIVERED: 1.0})


class PpgSimulator:
    """``async with PpgSimulator(port=0) as ppg: PapClient.from_url(ppg.url)``."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        path: str = "/pap",
        scenario: PpgScenario | None = None,
        username: str | None = None,
        password: str | None = None,
        smsc: str | None = None,
        sender: str = "1234",
        esm_class: int = 0x40,
        record_path: str | Path | None = None,
        sender_name: str = "telco-channels PPG simulator",
    ) -> None:
        self.host, self.port, self.path = host, port, path
        self.scenario = scenario or PpgScenario()
        self.username, self.password = username, password
        self.smsc_url, self.sender, self.esm_class = smsc, sender, esm_class
        self.sender_name = sender_name
        self.recorder = Recorder(record_path)
        self.rng = random.Random(self.scenario.seed)
        self._expected_auth = (
            "Basic " + base64.b64encode(f"{username}:{password or ''}".encode()).decode()
            if username
            else None
        )
        self._runner: web.ServerRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self._smsc: WapSmppChannel | None = None
        self._tracker = ReceiptTracker(receipt_timeout=timedelta(minutes=10))
        self._awaiting: dict[str, tuple[Verdict, datetime]] = {}  # forwarded message id → push
        self._seen: dict[str, None] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.accepted = self.refused = self.forwarded = self.notified = 0

    @property
    def url(self) -> str:
        """The ``pap+http://`` URL :meth:`PapClient.from_url` accepts."""
        creds = f"{self.username}:{self.password or ''}@" if self.username else ""
        return f"pap+http://{creds}{self.host}:{self.port}{self.path}"

    def stats(self) -> dict[str, int]:
        return {
            "accepted": self.accepted,
            "refused": self.refused,
            "forwarded": self.forwarded,
            "notified": self.notified,
        }

    async def __aenter__(self) -> PpgSimulator:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def start(self) -> None:
        self._runner, self.port = await serve_post(
            self._on_push, host=self.host, port=self.port, path=self.path, client_max_size=4 << 20
        )
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        if self.smsc_url:
            channel = WapSmppChannel.from_url(
                self.smsc_url, default_sender=self.sender, esm_class=self.esm_class, name="ppg-smsc"
            )
            await channel.client.connect()
            self._smsc = channel
            self._spawn(self._pump_receipts(channel))
        self._spawn(self._expire_loop())
        log.info("ppg.started", host=self.host, port=self.port, smsc=bool(self.smsc_url))

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._smsc is not None:
            await self._smsc.aclose()
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.recorder.close()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- PAP in ----------------------------------------------------------------------------------

    def _authorised(self, request: web.BaseRequest) -> bool:
        if self._expected_auth is None:
            return True
        if request.headers.get("Authorization") == self._expected_auth:
            return True
        q = request.query
        return q.get("username") == self.username and q.get("password", "") == (self.password or "")

    def _answer(self, doc: pap.PapDocument) -> web.Response:
        return web.Response(
            status=self.scenario.http_status, body=pap.render(doc), content_type="application/xml"
        )

    async def _on_push(self, request: web.BaseRequest) -> web.Response:
        if not self._authorised(request):
            return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="wappush"'})
        if self.scenario.latency:
            await asyncio.sleep(self.scenario.latency)
        try:
            body, message = await _read_push(request)
            if not isinstance(message, pap.PushMessage):
                raise RemoteProtocolError(f"{type(message).__name__} is not supported", status=3001)
        except RemoteProtocolError as exc:
            self.refused += 1
            log.debug("ppg.push.bad", error=str(exc))
            return self._answer(pap.BadMessageResponse(code=exc.status or 2000, desc=str(exc)))
        verdict = evaluate(message, body, seen=self._seen)
        if verdict.accepted and self.scenario.error_share and self.rng.random() < self.scenario.error_share:
            verdict = Verdict(self.scenario.error_code, pap.code_name(self.scenario.error_code), message)
        now = datetime.now(UTC)
        self.recorder.record(record_of(verdict, body, now))
        if verdict.accepted:
            self.accepted += 1
            self._seen[message.push_id] = None
            if self._smsc is not None or (message.notify_to and self.scenario.notify):
                self._spawn(self._deliver(verdict, now))
        else:
            self.refused += 1
        log.debug("ppg.push.answered", push_id=message.push_id, code=verdict.code)
        return self._answer(
            pap.PushResponse(
                push_id=message.push_id,
                code=verdict.code,
                desc=verdict.desc,
                sender_address=self.path,
                sender_name=self.sender_name,
                reply_time=now,
            )
        )

    # -- push out ----------------------------------------------------------------------------------

    async def _deliver(self, verdict: Verdict, received: datetime) -> None:
        if self._smsc is None:
            states, weights = list(self.scenario.outcomes), list(self.scenario.outcomes.values())
            state = self.rng.choices(states, weights)[0]
            if self.scenario.notify_delay:
                await asyncio.sleep(self.scenario.notify_delay)
            await self._notify(verdict, state, received)
            return
        assert verdict.push is not None and verdict.msisdn is not None
        message = Message(
            to=verdict.msisdn,
            kind=ChannelKind.WAP_PUSH,
            content=verdict.push,
            id=verdict.message.push_id,
            sender=self.sender,
        )
        try:
            result = await self._smsc.send(message)
        except ChannelsError as exc:
            log.warning("ppg.forward.failed", push_id=message.id, to=mask_msisdn(message.to), error=str(exc))
            await self._notify(verdict, DeliveryState.UNDELIVERABLE, received)
            return
        self.forwarded += 1
        self._awaiting[message.id] = (verdict, received)
        for final in self._tracker.register(self._smsc.name, result, datetime.now(UTC)):
            await self._on_final(final)

    async def _pump_receipts(self, channel: WapSmppChannel) -> None:
        async for event in channel.events():
            if isinstance(event, DeliveryReceipt):
                for final in self._tracker.on_receipt(event, datetime.now(UTC)):
                    await self._on_final(final)

    async def _expire_loop(self) -> None:
        while True:
            await asyncio.sleep(5.0)
            for final in self._tracker.expire(datetime.now(UTC)):
                await self._on_final(final)

    async def _on_final(self, receipt: DeliveryReceipt) -> None:
        if not receipt.final or receipt.message_id is None:
            return
        waiting = self._awaiting.pop(receipt.message_id, None)
        if waiting is not None:
            await self._notify(waiting[0], receipt.state, waiting[1])

    async def _notify(self, verdict: Verdict, state: DeliveryState, received: datetime) -> None:
        target = verdict.message.notify_to
        if not target or not self.scenario.notify or self._http is None:
            return
        doc = notification(
            verdict, state, sender_name=self.sender_name, received=received, now=datetime.now(UTC)
        )
        try:
            async with self._http.post(
                target, data=pap.render(doc), headers={"Content-Type": "application/xml"}
            ) as response:
                await response.read()
                self.notified += 1
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("ppg.notify.failed", push_id=verdict.message.push_id, error=str(exc))


async def _read_push(request: web.BaseRequest) -> tuple[pap.PushBody, pap.PapDocument]:
    """Split and check the multipart/related body and parse its control entity with the shared codec
    (``pap.read_push``: a learned whole-body shape, else the std-lib parser's reading of the MIME by a
    canonical-shape reader ~5x cheaper than that parser, ``channels.mm7.multipart``, and the XML)."""
    content_type = request.headers.get("Content-Type", "")
    if not content_type.lower().startswith("multipart/related"):
        raise RemoteProtocolError(
            f"PAP: body is {content_type or 'untyped'}, not multipart/related", status=2000
        )
    return pap.read_push(content_type, await request.read(), max_parts=_MAX_PARTS)
