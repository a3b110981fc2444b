"""An IVR gateway simulator implementing the Asterisk ARI subset of PROTOCOLS.md §7 over aiohttp.

REST: originate (``POST /ari/channels``), ``GET /ari/channels[/{id}]``, ``answer``, ``play`` (with or
without a playback id) → PlaybackStarted/Finished, ``DELETE /ari/playbacks/{id}``, ``dtmf`` and hang
up (``DELETE /ari/channels/{id}?reason=``); one events WebSocket per application
(``GET /ari/events?app=A``) carrying ChannelStateChange, ChannelVarset (AMD), StasisStart,
ChannelDtmfReceived, ChannelHangupRequest, StasisEnd and ChannelDestroyed with its Q.850 cause. The
events are encoded by the adapter's own codec (:mod:`channels.ivr.events`), in the other direction.
Each call goes to a callee drawn from a seeded :class:`~simulators.ivr_model.IvrScenario`; time runs
``speed`` times faster than the wall clock (event timestamps are simulated time), so tests go fast.
Over ``max_channels`` calls in progress an originate ends in congestion (cause 34). The recorder gets
one record per call: outcome, cause, digits pressed, prompts heard, ring time and duration.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import structlog
from aiohttp import WSMsgType, web

from channels.ivr.causes import CAUSE_TEXT, REASON_CAUSE
from channels.ivr.events import AriEvent, ChannelInfo, PlaybackInfo, encode_event
from simulators.ivr_calls import SimCall
from simulators.ivr_model import IvrScenario, draw_callee
from simulators.recorder import Recorder

log = structlog.get_logger(__name__)

_ENDPOINT = re.compile(r"^(?P<tech>[A-Za-z0-9_]+)/(?P<number>\+?[0-9*#]{2,32})(?:@[\w.-]+)?$")


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)


class _Subscriber:
    """One events WebSocket: a queue drained by a writer task, so events keep their order."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[str] = asyncio.Queue()

    async def write(self) -> None:
        while True:
            text = await self.queue.get()
            await self.ws.send_str(text)


class IvrSimulator:
    """An ARI-subset IVR gateway on loopback. ``async with IvrSimulator(...) as sim: sim.url``."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        scenario: IvrScenario | None = None,
        username: str = "tc",
        password: str = "tc",
        app: str = "tc",
        speed: float = 1.0,
        record_path: str | Path | None = None,
        epoch: datetime | None = None,
    ) -> None:
        if not speed > 0:
            raise ValueError("IvrSimulator.speed: must be > 0")
        self.host, self.port = host, port
        self.scenario = scenario or IvrScenario()
        self.username, self.password, self.app = username, password, app
        self.speed = speed
        self.recorder = Recorder(record_path)
        self.epoch = epoch or datetime.now(UTC)
        self.calls: dict[str, SimCall] = {}
        self._playbacks: dict[str, SimCall] = {}
        self._subscribers: dict[str, set[_Subscriber]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._refuse_until = 0.0
        self.originate_latency = 0.0  # wall seconds before answering an originate (fault injection)
        self._runner: web.AppRunner | None = None
        self._t0 = 0.0
        self._seq = 0
        self.active = 0
        self.peak = 0
        self.originated = 0
        self.congested = 0

    # -- lifecycle ---------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        endpoint = quote("PJSIP/{number}@sim", safe="/@{}")
        return (
            f"ari+http://{self.username}:{self.password}@{self.host}:{self.port}/ari"
            f"?app={self.app}&endpoint={endpoint}&channels={self.scenario.max_channels}"
        )

    async def start(self) -> None:
        app = web.Application(middlewares=[self._auth])
        app.add_routes(
            [
                web.get("/ari/events", self._events),
                web.post("/ari/channels", self._originate),
                web.get("/ari/channels", self._list),
                web.get("/ari/channels/{id}", self._get),
                web.delete("/ari/channels/{id}", self._hangup),
                web.post("/ari/channels/{id}/answer", self._answer),
                web.post("/ari/channels/{id}/play", self._play),
                web.post("/ari/channels/{id}/play/{pid}", self._play),
                web.post("/ari/channels/{id}/dtmf", self._dtmf),
                web.delete("/ari/playbacks/{pid}", self._stop),
            ]
        )
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._t0 = asyncio.get_running_loop().time()
        log.info("ivr_sim.started", host=self.host, port=self.port, speed=self.speed)

    async def __aenter__(self) -> IvrSimulator:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._refuse_until = float("inf")  # no new event subscribers while shutting down
        for call in list(self.calls.values()):
            call.cancel_timers()
        self.calls.clear()
        for subs in self._subscribers.values():
            for sub in list(subs):
                await sub.ws.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.recorder.close()

    def stats(self) -> dict[str, Any]:
        return {
            "originated": self.originated,
            "active": self.active,
            "peak_channels": self.peak,
            "congested": self.congested,
            "subscribers": sum(map(len, self._subscribers.values())),
        }

    # -- time and events (used by SimCall) ---------------------------------------------------------

    def sim_now(self) -> float:
        """Simulated seconds since start."""
        return (asyncio.get_running_loop().time() - self._t0) * self.speed

    def timestamp(self) -> datetime:
        return self.epoch + timedelta(seconds=self.sim_now())

    def later(self, seconds: float, fn: Callable[..., None], *args: Any) -> asyncio.TimerHandle:
        """Run ``fn(*args)`` after ``seconds`` of simulated time."""
        return asyncio.get_running_loop().call_later(seconds / self.speed, fn, *args)

    def emit(self, app: str, event: AriEvent) -> None:
        subscribers = self._subscribers.get(app)
        if subscribers:
            text = encode_event(event)
            for sub in subscribers:
                sub.queue.put_nowait(text)

    def ended(self, call: SimCall, record: dict[str, Any]) -> None:
        """A call's channel was destroyed: free its channel and record it."""
        self.calls.pop(call.info.id, None)
        for pid in call.playback_ids:
            self._playbacks.pop(pid, None)
        if not call.congestion:
            self.active -= 1
        self.recorder.record(record)

    # -- fault injection ---------------------------------------------------------------------------

    async def drop_events(self, refuse_for: float = 0.0) -> None:
        """Close every events WebSocket (as a network fault would) and refuse new ones for
        ``refuse_for`` wall seconds; events of that gap are lost, as on a real gateway."""
        self._refuse_until = asyncio.get_running_loop().time() + refuse_for
        for subs in list(self._subscribers.values()):
            for sub in list(subs):
                await sub.ws.close()

    # -- HTTP --------------------------------------------------------------------------------------

    @web.middleware
    async def _auth(self, request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
        user = password = None
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return _error(401, "Authentication required")
        elif "api_key" in request.query:
            user, _, password = request.query["api_key"].partition(":")
        if user != self.username or password != self.password:
            return _error(401, "Authentication required")
        response: web.StreamResponse = await handler(request)
        return response

    async def _events(self, request: web.Request) -> web.StreamResponse:
        app = request.query.get("app", "")
        if not app:
            return _error(400, "Missing parameter app")
        if asyncio.get_running_loop().time() < self._refuse_until:
            return _error(503, "Service unavailable")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        sub = _Subscriber(ws)
        self._subscribers.setdefault(app, set()).add(sub)
        writer = asyncio.create_task(sub.write())
        self._tasks.add(writer)
        try:
            async for msg in ws:
                if msg.type is WSMsgType.ERROR:
                    break
        finally:
            self._subscribers[app].discard(sub)
            writer.cancel()
            self._tasks.discard(writer)
        return ws

    def _channel(self, request: web.Request) -> SimCall | web.Response:
        call = self.calls.get(request.match_info["id"])
        return call if call is not None else _error(404, "Channel not found")

    async def _originate(self, request: web.Request) -> web.Response:
        params = dict(request.query)
        if request.can_read_body:
            try:
                body = json.loads(await request.text() or "{}")
            except ValueError:
                return _error(400, "Request body is not JSON")
            if isinstance(body, dict):
                params.update({k: str(v) for k, v in body.items() if k != "variables"})
        endpoint, app = params.get("endpoint", ""), params.get("app", "")
        match = _ENDPOINT.match(endpoint)
        if match is None:
            return _error(400, f"Invalid endpoint {endpoint!r}" if endpoint else "Endpoint must be specified")
        if not app:
            return _error(400, "Missing parameter app")
        try:
            timeout = float(params.get("timeout", "30"))
        except ValueError:
            return _error(400, "Invalid parameter timeout")
        self._seq += 1
        channel_id = params.get("channelId") or f"{int(self.epoch.timestamp())}.{self._seq}"
        if channel_id in self.calls:
            return _error(409, "Channel with given unique ID already exists")
        number = match["number"].lstrip("+")
        info = ChannelInfo(
            id=channel_id,
            state="Down",
            name=f"{match['tech']}/{number}-{self._seq:08x}",
            caller_number=params.get("callerId", ""),
            connected_number=number,
            creationtime=self.timestamp().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000",
        )
        args = tuple(a for a in params.get("appArgs", "").split(",") if a)
        congestion = self.active >= self.scenario.max_channels
        call = SimCall(
            self,
            info=info,
            app=app,
            args=args,
            endpoint=endpoint,
            number=number,
            callee=draw_callee(self.scenario, channel_id, number),
            timeout=timeout if timeout > 0 else 30.0,
            congestion=congestion,
        )
        self.calls[channel_id] = call
        self.originated += 1
        if congestion:
            self.congested += 1
        else:
            self.active += 1
            self.peak = max(self.peak, self.active)
        call.dial()
        if self.originate_latency:  # fault injection: the answer is late, the call is placed
            await asyncio.sleep(self.originate_latency)
        return web.json_response(info.to_json())

    async def _list(self, request: web.Request) -> web.Response:
        return web.json_response([c.info.to_json() for c in self.calls.values()])

    async def _get(self, request: web.Request) -> web.Response:
        call = self._channel(request)
        return call if isinstance(call, web.Response) else web.json_response(call.info.to_json())

    async def _hangup(self, request: web.Request) -> web.Response:
        call = self._channel(request)
        if isinstance(call, web.Response):
            return call
        reason = request.query.get("reason", "normal")
        cause = REASON_CAUSE.get(reason)
        if cause is None:
            return _error(400, f"Invalid reason {reason!r}")
        call.hangup("app", cause, CAUSE_TEXT.get(cause, ""))
        return web.Response(status=204)

    async def _answer(self, request: web.Request) -> web.Response:
        call = self._channel(request)
        if isinstance(call, web.Response):
            return call
        if not call.in_stasis:
            return _error(409, "Channel not in Stasis application")
        return web.Response(status=204)

    async def _play(self, request: web.Request) -> web.Response:
        call = self._channel(request)
        if isinstance(call, web.Response):
            return call
        if not call.in_stasis:
            return _error(409, "Channel not in Stasis application")
        media = request.query.get("media", "")
        if not media:
            return _error(400, "Missing parameter media")
        self._seq += 1
        pid = request.match_info.get("pid") or request.query.get("playbackId") or f"pb-{self._seq}"
        if pid in self._playbacks:
            return _error(409, "Playback with given ID already exists")
        playback = PlaybackInfo(id=pid, media_uri=media, target_uri=f"channel:{call.info.id}")
        self._playbacks[pid] = call
        call.play(playback)
        return web.json_response(playback.to_json(), status=201)

    async def _stop(self, request: web.Request) -> web.Response:
        pid = request.match_info["pid"]
        call = self._playbacks.get(pid)
        if call is None or not call.stop(pid):
            return _error(404, "Playback not found")
        return web.Response(status=204)

    async def _dtmf(self, request: web.Request) -> web.Response:
        call = self._channel(request)
        if isinstance(call, web.Response):
            return call
        if not call.in_stasis:
            return _error(409, "Channel not in Stasis application")
        if not request.query.get("dtmf"):
            return _error(400, "Missing parameter dtmf")
        call.sent_dtmf += request.query["dtmf"]
        return web.Response(status=204)
