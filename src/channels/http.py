"""The HTTP edges MM7 and PAP share: posting prepared bodies on keep-alive connections, and serving one
POST endpoint, both on aiohttp's HTTP/1.1 machinery.

**Posting.** An MM7 VASP or a PAP push initiator posts one prepared body after another to a single
URL, with the same few headers each time. ``aiohttp.ClientSession`` spends some 430 thousand
instructions on each such POST (URL and header merging, cookies, proxies, redirects, traces, a request
object, a response object, a write task, two timers); that was most of the client's CPU per message
in figure 6, and no session setting removes it (measured: DummyCookieJar, no auto headers, no
decompression, no total timer change it by 0-6%). :class:`KeepAlivePool` keeps the part of that work
these posts need: ``limit`` keep-alive connections (asyncio transports, TCP_NODELAY as asyncio sets
it, TLS for https), each request written at once from a head prepared per client (RFC 9112 §3, §6.2:
request line, Host, the client's fixed fields, Content-Type and Content-Length), and each answer read
by **aiohttp's own response parser** (``aiohttp.http.HttpResponseParser``, llhttp): status line,
fields, Content-Length, chunked and read-until-close bodies, gzip/deflate, ``Connection: close`` and
HTTP/1.0 all handled there. About 75 thousand instructions a request (one timer for the pool, not one
per request: see :meth:`KeepAlivePool._check_deadlines`). The errors say what is known
of the request's fate: :class:`~channels.errors.ConnectTimeout` / :class:`~channels.errors.TransportError`
when nothing was written, :class:`~channels.errors.OutcomeUnknown` once the request was written
(no answer within ``timeout``, the connection lost, an answer that is not HTTP). A POST is never
re-sent on another connection (RFC 9110 §9.2.2: it is not idempotent).

**Serving.** :func:`serve_post` runs ``aiohttp.web.Server`` (aiohttp's parser, ``BaseRequest`` and
response writer) without an ``Application``: for one path its router, match info and middleware chain
are overhead. The handler checks path and method itself and answers as the router would: 404 for
another path, 405 with ``Allow: POST`` for another method (RFC 9110 §15.5.5, §15.5.6).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.base_protocol import BaseProtocol
from aiohttp.http import HttpResponseParser, RawResponseMessage
from aiohttp.http_parser import RawRequestMessage
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler

from channels.errors import ConnectTimeout, OutcomeUnknown, TransportError

Reply = tuple[int, str, bytes]  # status, Content-Type ("" if none), body
_READ_LIMIT = 1 << 16  # the parser's chunk size for bodies (aiohttp's default read_bufsize)


def _field(name: str, value: str) -> bytes:
    """One header field; a CR or LF in it would end the field early (RFC 9112 §5: header injection)."""
    if "\r" in value or "\n" in value or "\r" in name or "\n" in name or ":" in name:
        raise ValueError(f"header {name!r}: CR, LF (or ':' in the name) cannot be sent")
    return f"{name}: {value}\r\n".encode("latin-1")


class _Connection(BaseProtocol):
    """One keep-alive connection: at most one request in flight, its answer read by aiohttp's parser.

    ``answer`` is the in-flight request's future; :meth:`data_received` resolves it with the reply, or
    with OutcomeUnknown when the bytes are not an HTTP answer or the connection is lost first."""

    def __init__(self, loop: asyncio.AbstractEventLoop, label: str) -> None:
        super().__init__(loop)
        # read_until_eof: an answer without a length ends when the connection does (RFC 9112 §6.3)
        self._parser: Any = HttpResponseParser(self, loop, _READ_LIMIT, read_until_eof=True)
        self._label = label
        self.answer: asyncio.Future[Reply] | None = None
        self.reusable = True  # False once closed, broken or told to close (Connection: close)
        self.idle_since = 0.0
        self.deadline = 0.0  # when the in-flight request's answer is overdue (the loop's clock)

    # The whole answer is read into memory, as ``ClientResponse.read()`` does: no flow control.
    def pause_reading(self) -> None:
        pass

    def resume_reading(self, resume_parser: bool = True) -> None:
        pass

    def data_received(self, data: bytes) -> None:
        try:
            messages, _, _ = self._parser.feed_data(data)
        except Exception as exc:  # llhttp refused the bytes: not an HTTP/1.1 answer
            self._fail(OutcomeUnknown(f"{self._label}: the answer is not HTTP/1.1: {exc!r}"))
            return
        for message, payload in messages:
            self._answered(message, payload)

    def _answered(self, message: RawResponseMessage, payload: StreamReader) -> None:
        if message.code < 200:  # interim (100 Continue, 103): the final answer follows (RFC 9110 §15.2)
            return
        answer = self.answer
        if answer is None:  # an answer nobody asked for: the connection's state is unknown
            self._fail(None)
            return
        if message.should_close:
            self.reusable = False

        def settle() -> None:
            if answer.done():
                return
            try:
                body = payload.read_nowait(-1)
            except Exception as exc:  # the body ended early (ContentLengthError, TransferEncodingError)
                self._fail(OutcomeUnknown(f"{self._label}: the answer was cut short: {exc!r}"))
                return
            self.answer = None
            answer.set_result((message.code, message.headers.get("Content-Type", ""), body))

        payload.on_eof(settle)  # at once when the body is complete, else when its last bytes arrive

    def connection_lost(self, exc: BaseException | None) -> None:
        self.reusable = False
        if self.answer is not None and not self.answer.done():
            # an answer read until the connection closes (no length: RFC 9112 §6.3 point 8); one cut
            # short raises here and is settled as lost just below
            with contextlib.suppress(Exception):
                self._parser.feed_eof()
        self._fail(OutcomeUnknown(f"{self._label}: the connection was lost before the answer"))
        super().connection_lost(exc)

    def _fail(self, error: OutcomeUnknown | None) -> None:
        self.reusable = False
        answer, self.answer = self.answer, None
        if answer is not None and not answer.done() and error is not None:
            answer.set_exception(error)
        if self.transport is not None:
            self.transport.close()


class KeepAlivePool:
    """Keep-alive HTTP/1.1 connections to the origin of ``url``, for POSTs of prepared bodies.

    ``headers`` go on every request (Authorization, SOAPAction, ...), the request target is ``url``'s
    path and query. ``timeout`` bounds the wait for an answer once the request is written;
    ``connect_timeout`` the opening of a connection; a connection idle for ``keepalive`` seconds is
    closed instead of reused (servers close idle connections, and a POST written as one closes
    its connection is lost); ``label`` starts every error message."""

    def __init__(
        self, url: str, *, headers: Mapping[str, str], limit: int, timeout: float,
        connect_timeout: float, label: str, keepalive: float = 15.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"expected an http(s)://host URL, got {url!r}")
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._ssl: ssl.SSLContext | None = None
        if parts.scheme == "https":
            self._ssl = ssl_context or ssl.create_default_context()
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = f"[{self._host}]" if ":" in self._host else self._host
        if parts.port is not None:
            host += f":{parts.port}"
        head = [f"POST {target} HTTP/1.1\r\n".encode("latin-1"), _field("Host", host)]
        head.extend(_field(k, v) for k, v in headers.items())
        self._head = b"".join(head)
        self._heads: dict[str, bytes] = {}  # Content-Type → the head up to Content-Length
        self._limit, self._timeout, self._connect_timeout = limit, timeout, connect_timeout
        self._keepalive = keepalive
        # answers are awaited ``timeout`` seconds, give or take a tick (a tenth of it, at most 1 s)
        self._tick = min(1.0, timeout / 10)
        self._busy: set[_Connection] = set()  # connections awaiting an answer
        self._ticker: asyncio.TimerHandle | None = None
        self._label = label
        self._idle: list[_Connection] = []
        self._waiters: deque[asyncio.Future[_Connection | None]] = deque()
        self._open = 0  # connections open or opening
        self._closed = False

    async def post(self, content_type: str, body: bytes) -> Reply:
        """POST ``body``; the answer's status, Content-Type and body, whatever the status."""
        head = self._heads.get(content_type)
        if head is None:
            if len(self._heads) >= 64:  # bounded: a client sends a handful of distinct types
                self._heads.clear()
            head = self._heads[content_type] = self._head + _field("Content-Type", content_type)
        conn = self._take_idle() or await self._acquire()
        assert conn.transport is not None
        loop = conn._loop
        answer: asyncio.Future[Reply] = loop.create_future()
        conn.answer = answer
        conn.transport.write(b"%sContent-Length: %d\r\n\r\n%s" % (head, len(body), body))
        conn.deadline = loop.time() + self._timeout
        busy = self._busy
        busy.add(conn)
        if self._ticker is None:
            self._ticker = loop.call_later(self._tick, self._check_deadlines)
        try:
            reply = await answer
        except BaseException:
            busy.discard(conn)
            conn._fail(None)  # timed out, lost or cancelled: its state is unknown, never reused
            self._release(conn)
            raise
        busy.discard(conn)
        self._release(conn)
        return reply

    def _take_idle(self) -> _Connection | None:
        """The most recently used idle connection (the least likely to have been closed by the
        server); those idle past ``keepalive`` or closed meanwhile are dropped on the way."""
        idle = self._idle
        if idle:
            oldest = idle[-1]._loop.time() - self._keepalive
            while idle:
                conn = idle.pop()
                if conn.reusable and conn.idle_since > oldest:
                    return conn
                conn._fail(None)
                self._open -= 1
        return None

    def _check_deadlines(self) -> None:
        """The pool's one timer, every ``_tick`` while answers are awaited: one timer for all requests
        instead of one per request (arming and cancelling a timer per request cost a quarter of a
        post; the cancelled timers also pile up in the loop's heap for ``timeout`` seconds)."""
        self._ticker = None
        if not self._busy:
            return
        loop = next(iter(self._busy))._loop
        now = loop.time()
        for conn in [c for c in self._busy if c.deadline <= now]:
            conn._fail(OutcomeUnknown(f"{self._label}: no answer within the timeout"))
        if self._busy:  # a closed pool's requests in flight still time out
            self._ticker = loop.call_later(self._tick, self._check_deadlines)

    async def _acquire(self) -> _Connection:
        """A connection when none is idle: a new one within ``limit``, else the next one released."""
        if self._closed:
            raise TransportError(f"{self._label}: the connection pool is closed")
        if self._open >= self._limit:
            waiter: asyncio.Future[_Connection | None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                handed = await waiter
            except BaseException:
                if not waiter.done():
                    self._waiters.remove(waiter)
                elif not waiter.cancelled() and waiter.exception() is None:
                    # handed a connection (or a slot) just as we were cancelled: pass it on
                    late = waiter.result()
                    if late is not None:
                        self._release(late)
                    else:
                        self._hand_over(None)
                raise
            if handed is not None:
                return handed
        self._open += 1  # a slot: ours, or handed over by a connection that closed
        try:
            return await self._connect()
        except BaseException:
            self._open -= 1
            self._hand_over(None)
            raise

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._connect_timeout):
                _, conn = await loop.create_connection(
                    lambda: _Connection(loop, self._label), self._host, self._port, ssl=self._ssl,
                    server_hostname=self._host if self._ssl is not None else None,
                )
        except TimeoutError as exc:
            where = f"{self._host}:{self._port}"
            raise ConnectTimeout(f"{self._label}: connecting to {where} timed out") from exc
        except OSError as exc:
            where = f"{self._host}:{self._port}"
            raise TransportError(f"{self._label}: cannot connect to {where}: {exc}") from exc
        return conn

    def _release(self, conn: _Connection) -> None:
        if conn.reusable and not self._closed:
            if not self._hand_over(conn):
                conn.idle_since = conn._loop.time()
                self._idle.append(conn)
            return
        if conn.transport is not None:
            conn.transport.close()
        self._open -= 1
        self._hand_over(None)  # a waiter may open a connection in its place

    def _hand_over(self, conn: _Connection | None) -> bool:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return True
        return False

    async def close(self) -> None:
        """Close the idle connections (one in use closes when its request ends) and refuse new posts."""
        self._closed = True
        if self._ticker is not None and not self._busy:
            self._ticker.cancel()
            self._ticker = None
        idle, self._idle = self._idle, []
        for conn in idle:
            if conn.transport is not None:
                conn.transport.close()
        self._open -= len(idle)
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(TransportError(f"{self._label}: the connection pool is closed"))
        self._waiters.clear()


class SessionPoster:
    """The same posts through a caller's ``aiohttp.ClientSession`` (its proxies, traces, TLS settings:
    whatever the caller set it up for), with the same errors as :class:`KeepAlivePool`. The session
    stays the caller's: :meth:`close` leaves it open."""

    def __init__(self, session: aiohttp.ClientSession, url: str, *, headers: Mapping[str, str], label: str):
        self._session, self._url, self._headers, self._label = session, url, dict(headers), label

    async def post(self, content_type: str, body: bytes) -> Reply:
        headers = {**self._headers, "Content-Type": content_type}
        try:
            async with self._session.post(self._url, data=body, headers=headers) as resp:
                return resp.status, resp.headers.get("Content-Type", ""), await resp.read()
        except aiohttp.ConnectionTimeoutError as exc:
            raise ConnectTimeout(f"{self._label}: connecting to {self._url} timed out") from exc
        except aiohttp.ClientConnectorError as exc:
            raise TransportError(f"{self._label}: cannot connect to {self._url}: {exc}") from exc
        except TimeoutError as exc:
            raise OutcomeUnknown(f"{self._label}: no answer within the timeout") from exc
        except aiohttp.ClientError as exc:
            raise OutcomeUnknown(f"{self._label}: connection lost after the request was sent: {exc}") from exc

    async def close(self) -> None:
        pass


# -- serving ---------------------------------------------------------------------------------------

Handler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]


async def serve_post(
    handler: Handler, *, host: str, port: int, path: str, client_max_size: int
) -> tuple[web.ServerRunner, int]:
    """Serve ``handler`` for POST ``path`` on ``host:port`` (0: a free port); the runner (its
    ``cleanup()`` stops the server) and the bound port."""
    loop = asyncio.get_running_loop()

    def request(
        message: RawRequestMessage, payload: StreamReader, protocol: RequestHandler,
        writer: AbstractStreamWriter, task: asyncio.Task[None],
    ) -> web.BaseRequest:
        return web.BaseRequest(
            message, payload, protocol, writer, task, loop, client_max_size=client_max_size
        )

    async def route(req: web.BaseRequest) -> web.StreamResponse:
        if req.path != path:
            return web.Response(status=404, text="404: Not Found")
        if req.method != "POST":
            return web.Response(status=405, text="405: Method Not Allowed", headers={"Allow": "POST"})
        return await handler(req)

    server = web.Server(route, request_factory=request, access_log=None)
    runner = web.ServerRunner(server, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner, int(runner.addresses[0][1])
