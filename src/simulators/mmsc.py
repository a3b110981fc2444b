"""An MMSC simulator speaking MM7 (3GPP TS 23.140 §8.7, SOAP 1.1 over HTTP; PROTOCOLS.md §4).

It accepts SubmitReq in every REL-5/REL-6 profile (echoing the request's namespace and MM7Version),
validates it with the same codec the adapter uses (required elements, ``cid:`` references, media
types, size), answers SubmitRsp with a MessageID or the right RSErrorRsp, and records what each
subscriber would see. Then it plays the handset side from a seeded scenario
(:mod:`simulators.mmsc_model`): DeliveryReportReq posted to the VASP's URL after a delay with an
outcome mix, storage expiry (48 h) and notification validity (24 h) with optional re-notification,
and subscriber replies as DeliverReq. Simulated time comes from a clock: scaled
(``time_scale=3600``: an hour a second) or moved by hand with :meth:`MmscSimulator.advance`.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import structlog
from aiohttp import web

from channels.clock import Clock
from channels.errors import ConfigurationError
from channels.http import serve_post
from channels.mm7.envelope import Address, Mm7FormatError
from channels.mm7.messages import Status, SubmitRsp
from channels.mm7.mime import MmContent
from channels.mm7.mm import mm_text
from channels.mm7.profiles import Mm7Profile, get_profile
from channels.mm7.request import Answer, answer, fault, open_request
from channels.mm7.status import SUCCESS
from simulators.mmsc_model import (
    AcceptedSubmit,
    MmscScenario,
    Planned,
    ScaledClock,
    pick_error,
    plan_recipient,
    validate_submit,
)
from simulators.mmsc_post import Job, post_job
from simulators.recorder import Recorder, Row

log = structlog.get_logger(__name__)

POST_CONCURRENCY = 32


_ACCEPTED = Status.of(SUCCESS)


def _submit_record(row: Row) -> dict[str, Any]:
    """The record of an accepted SubmitReq from its row (``MmscSimulator._accept``): a flat tuple the
    collector does not track while it waits in the recorder (a datetime is no container either: its
    text is written when the record is read)."""
    (at, message_id, tid, release, version, vaspid, vasid, service_code, sender, to, subject, text,
     linked_id, parts, size, delivery_report) = row
    return {
        "at": at.isoformat(), "message_id": message_id, "transaction_id": tid, "release": release,
        "version": version, "vaspid": vaspid, "vasid": vasid, "service_code": service_code, "from": sender,
        "to": list(to), "subject": subject, "text": text, "linked_id": linked_id,
        "parts": [{"content_type": c, "size": n, "content_id": cid} for c, n, cid in parts],
        "size": size, "delivery_report": delivery_report,
    }


@dataclass(order=True)
class _Entry:
    at: datetime
    seq: int
    job: Job = field(compare=False)


class MmscSimulator:
    """An MM7 MMSC on loopback. ``async with MmscSimulator(port=0) as sim: sim.url``."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/mm7",
        scenario: MmscScenario | None = None,
        username: str | None = "vasp",
        password: str | None = "secret",
        profile: str | Mm7Profile | None = None,
        vaspid: str = "vasp01",
        vasid: str = "svc01",
        service_code: str = "svc-01",
        vasp_url: str | None = None,
        clock: Clock | None = None,
        time_scale: float = 1.0,
        record_path: str | Path | None = None,
        report_retries: int = 3,
        report_retry_after: float = 60.0,
        relay_server_id: str = "mmsc-sim",
    ) -> None:
        self.host, self.port, self.path = host, port, path
        self.scenario = scenario or MmscScenario()
        self.username, self.password = username, password
        self._basic = aiohttp.encode_basic_auth(username, password or "") if username is not None else None
        self.profile = profile if isinstance(profile, Mm7Profile) else get_profile(profile)
        self.vaspid, self.vasid, self.service_code = vaspid, vasid, service_code
        self.clock: Clock = clock if clock is not None else ScaledClock(time_scale)
        self.time_scale = getattr(self.clock, "scale", time_scale)
        self.recorder = Recorder(record_path, expand=_submit_record)
        # the MM last described for the record (its text, parts, size): a campaign shares one
        self._described: tuple[MmContent, str, tuple[tuple[str, int, str | None], ...], int] | None = None
        self.reports: list[dict[str, Any]] = []  # every DeliveryReportReq/DeliverReq we posted
        self.counters: Counter[str] = Counter()
        if report_retry_after <= 0 or report_retries < 0:
            raise ConfigurationError("report_retry_after must be > 0 and report_retries >= 0")
        self.report_retries, self.report_retry_after = report_retries, report_retry_after
        self.relay_server_id = relay_server_id
        self._vasp_urls: dict[str | None, str] = {None: vasp_url} if vasp_url else {}
        self._rng = random.Random(self.scenario.seed)
        self._ids = itertools.count(1)
        self._seq = itertools.count()
        self._heap: list[_Entry] = []
        self._poke = asyncio.Event()
        self._fire_lock = asyncio.Lock()
        self._post_slots = asyncio.Semaphore(POST_CONCURRENCY)
        self._runner: web.ServerRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._timer: asyncio.Task[None] | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The gateway URL :meth:`channels.mm7.Mm7Client.from_url` accepts."""
        auth = ""
        if self.username:
            auth = f"{quote(self.username, safe='')}:{quote(self.password or '', safe='')}@"
        query = urlencode({"profile": self.profile.release, "vaspid": self.vaspid, "vasid": self.vasid,
                           "service_code": self.service_code})
        return f"mm7+http://{auth}{self.host}:{self.port}{self.path}?{query}"

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.port}{self.path}"

    def register_vasp(self, url: str, vaspid: str | None = None) -> None:
        """Where to post reports and MO for ``vaspid`` (None: every VASP without its own URL)."""
        if not url.startswith(("http://", "https://")):
            raise ConfigurationError(f"vasp url: expected http(s)://…, got {url!r}")
        self._vasp_urls[vaspid] = url

    async def start(self) -> None:
        if self._runner is not None:
            return
        self._runner, self.port = await serve_post(
            self._handle, host=self.host, port=self.port, path=self.path, client_max_size=16 * 1024 * 1024
        )
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._timer = asyncio.create_task(self._timer_loop())
        log.info("mmsc.started", url=self.http_url, profile=self.profile.release)

    async def aclose(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
            self._timer = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        self.recorder.close()

    async def __aenter__(self) -> MmscSimulator:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # -- MM7 server --------------------------------------------------------------------------------

    def _authorised(self, request: web.BaseRequest) -> bool:
        if self.username is None:
            return True
        header = request.headers.get("Authorization", "")
        if header == self._basic:  # what a client sends every time: no decoding needed
            return True
        try:
            auth = aiohttp.BasicAuth.decode(header, encoding="utf-8")
        except ValueError:
            return False
        return bool(auth.login == self.username and auth.password == (self.password or ""))

    async def _handle(self, request: web.BaseRequest) -> web.Response:
        self.counters["requests"] += 1
        if not self._authorised(request):
            self.counters["unauthorised"] += 1
            return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="MMSC"'})
        body = await request.read()
        lo, hi = self.scenario.latency
        if hi > 0:
            await asyncio.sleep(self._rng.uniform(lo, hi))
        result = self._submit(request.headers.get("Content-Type", ""), body)
        return web.Response(status=result.http_status, body=result.body,
                            headers={"Content-Type": result.content_type})

    def _submit(self, content_type: str, body: bytes) -> Answer:
        profile, tid = self.profile, ""
        try:
            req = open_request(content_type, body)
            profile, tid = req.profile, req.transaction_id
            accepted = validate_submit(req.decode(), req.soap, self.scenario)
            refused = pick_error(self._rng, self.scenario.errors)
            if refused is not None:
                raise Mm7FormatError("refused by scenario", status=refused)
        except (Mm7FormatError, ValueError) as exc:
            error = exc if isinstance(exc, Mm7FormatError) else Mm7FormatError(f"malformed request: {exc}")
            self.counters[f"status_{error.status}"] += 1
            return fault(profile, tid, error)
        message_id = f"MM{next(self._ids):010X}"
        self.counters["accepted"] += 1
        self._accept(accepted, message_id, tid)
        return answer(profile, tid, SubmitRsp(status=_ACCEPTED, message_id=message_id))

    def _accept(self, sub: AcceptedSubmit, message_id: str, tid: str) -> None:
        req, now = sub.req, self.clock.now()
        recipients = (*req.to, *req.cc, *req.bcc)
        described = self._described
        if described is None or described[0] is not sub.content:  # once per distinct MM
            content = sub.content
            parts = tuple((p.content_type, len(p.data), p.content_id) for p in content.parts)
            described = self._described = (content, mm_text(content), parts, content.size)
        self.recorder.record_row((
            now, message_id, tid, sub.profile.release, sub.profile.version, req.vaspid,
            req.vasid, req.service_code, req.sender.value if req.sender else None,
            tuple([a.value for a in recipients]), req.subject, described[1], req.linked_id, described[2],
            described[3], bool(req.delivery_report),
        ))
        for recipient in recipients:
            for planned in plan_recipient(self.scenario, self._rng, now, req.expiry):
                if planned.kind == "report" and not req.delivery_report:
                    continue
                self._schedule(Job(planned=planned, message_id=message_id, recipient=recipient,
                                   vasp_address=req.sender, vaspid=req.vaspid, vasid=req.vasid,
                                   profile=sub.profile, subject=req.subject))

    # -- simulated time ----------------------------------------------------------------------------

    def _schedule(self, job: Job, at: datetime | None = None) -> None:
        heapq.heappush(self._heap, _Entry(at or job.planned.at, next(self._seq), job))
        self._poke.set()

    @property
    def pending(self) -> int:
        """Reports and replies not yet posted."""
        return len(self._heap)

    async def advance(self, delta: float | timedelta) -> None:
        """Move simulated time on (needs an advanceable clock) and post everything now due."""
        advance = getattr(self.clock, "advance", None)
        if advance is None:
            raise ConfigurationError("advance: this simulator's clock cannot be moved by hand")
        advance(delta)
        await self.run_due()

    async def run_due(self) -> None:
        """Post every report/reply due by now, in time order per message; returns when done."""
        async with self._fire_lock:
            while self._heap and self._heap[0].at <= self.clock.now():
                batch: dict[str, list[_Entry]] = {}
                while self._heap and self._heap[0].at <= self.clock.now():
                    entry = heapq.heappop(self._heap)
                    batch.setdefault(entry.job.message_id, []).append(entry)
                await asyncio.gather(*(self._run_chain(chain) for chain in batch.values()))

    async def _run_chain(self, chain: list[_Entry]) -> None:
        for entry in chain:
            async with self._post_slots:
                await self._post(entry.job)

    async def _timer_loop(self) -> None:
        while True:
            self._poke.clear()
            await self.run_due()
            timeout: float | None = 1.0
            if self._heap and self.time_scale > 0:
                ahead = (self._heap[0].at - self.clock.now()).total_seconds() / self.time_scale
                timeout = min(max(ahead, 0.0), 1.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poke.wait(), timeout)

    # -- MMSC → VASP -------------------------------------------------------------------------------

    def _vasp_url(self, vaspid: str | None) -> str | None:
        return self._vasp_urls.get(vaspid) or self._vasp_urls.get(None)

    async def _post(self, job: Job) -> bool:
        url = self._vasp_url(job.vaspid)
        ok = False
        if url is not None and self._session is not None:
            ok = await post_job(self._session, url, job, f"mmsc-{next(self._ids)}", self.relay_server_id)
        self.reports.append({**job.describe(), "url": url, "posted": ok})
        self.counters[f"{job.planned.kind}_{'posted' if ok else 'failed'}"] += 1
        if not ok and job.attempts < self.report_retries:
            job.attempts += 1
            self._schedule(job, self.clock.now() + timedelta(seconds=self.report_retry_after))
        return ok

    async def deliver(
        self, sender: str, text: str, *, to: str | None = None, subject: str | None = None,
        linked_id: str | None = None, vaspid: str | None = None,
    ) -> bool:
        """Originate a subscriber MMS (DeliverReq) to the VASP now; True if it answered 1000."""
        job = Job(
            planned=Planned(self.clock.now(), "reply", text=text), message_id="", linked_id=linked_id,
            recipient=Address.guess(sender), vasp_address=Address.guess(to) if to else None,
            vaspid=vaspid, vasid=None, profile=self.profile, subject=subject, reply_subject=subject,
        )
        url = self._vasp_url(vaspid)
        if url is None or self._session is None:
            raise ConfigurationError("deliver: no VASP URL registered (register_vasp) or not started")
        ok = await post_job(self._session, url, job, f"mmsc-{next(self._ids)}", self.relay_server_id)
        self.reports.append({**job.describe(), "url": url, "posted": ok})
        return ok

    def stats(self) -> dict[str, Any]:
        return {**self.counters, "pending": self.pending, "records": self.recorder.count}

