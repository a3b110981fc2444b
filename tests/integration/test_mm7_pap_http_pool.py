"""channels.http: the keep-alive pool MM7 and PAP post on, against scripted HTTP servers on 127.0.0.1,
and the one-path server the MMSC and PPG simulators run on.

Each scripted server reads whole requests (head, then Content-Length bytes) and answers each with the
bytes its script gives, so a test controls exactly what the pool sees: keep-alive or close, chunked,
no length, nothing at all, garbage.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiohttp
import pytest

from channels.errors import ConnectTimeout, OutcomeUnknown, TransportError
from channels.http import KeepAlivePool, SessionPoster, serve_post

pytestmark = pytest.mark.timeout(30)

OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 5\r\n\r\n<ok/>"
Script = Callable[[bytes], bytes | None]  # a request (head and body) → the answer (None: say nothing)


@dataclass
class Scripted:
    port: int
    requests: list[bytes] = field(default_factory=list)
    connections: int = 0
    open_now: int = 0
    most_open: int = 0


@asynccontextmanager
async def scripted(script: Script, *, close_after: bool = False) -> AsyncIterator[Scripted]:
    """A server answering each request with ``script(request)``; ``close_after``: then it closes."""
    state: Scripted

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections += 1
        state.open_now += 1
        state.most_open = max(state.most_open, state.open_now)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                request = head + await reader.readexactly(length)
                state.requests.append(request)
                answer = script(request)
                if answer is not None:
                    writer.write(answer)
                    await writer.drain()
                if close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            state.open_now -= 1
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    state = Scripted(server.sockets[0].getsockname()[1])
    async with server:
        yield state


@asynccontextmanager
async def posting(
    script: Script, *, close_after: bool = False, **kw: object
) -> AsyncIterator[tuple[Scripted, KeepAlivePool]]:
    """A scripted server and a pool posting to it, closed on the way out."""
    async with scripted(script, close_after=close_after) as server:
        p = pool(server.port, **kw)
        try:
            yield server, p
        finally:
            await p.close()


def pool(port: int, **kw: object) -> KeepAlivePool:
    settings: dict[str, object] = {
        "headers": {"Authorization": "Basic dTpw", "SOAPAction": '""'}, "limit": 4, "timeout": 5.0,
        "connect_timeout": 5.0, "label": "TEST",
    }
    settings.update(kw)
    return KeepAlivePool(f"http://127.0.0.1:{port}/mm7?x=1", **settings)  # type: ignore[arg-type]


async def test_request_bytes_and_keep_alive() -> None:
    async with posting(lambda _: OK) as (server, p):
        for _ in range(3):
            assert await p.post("text/xml; charset=utf-8", b"<a/>") == (200, "text/xml", b"<ok/>")
    assert server.connections == 1  # one connection, kept alive for all three
    assert server.requests[0] == (
        b"POST /mm7?x=1 HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Basic dTpw\r\nSOAPAction: \"\"\r\n"
        b"Content-Type: text/xml; charset=utf-8\r\nContent-Length: 4\r\n\r\n<a/>" % server.port
    )


async def test_concurrent_posts_share_at_most_limit_connections() -> None:
    async with posting(lambda _: OK, limit=3) as (server, p):
        replies = await asyncio.gather(*(p.post("text/xml", b"x" * i) for i in range(40)))
    assert [r[0] for r in replies] == [200] * 40
    assert server.most_open <= 3 and len(server.requests) == 40
    assert sorted(len(r.partition(b"\r\n\r\n")[2]) for r in server.requests) == list(range(40))


async def test_connection_close_answer_is_not_reused() -> None:
    close = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi"
    async with posting(lambda _: close, close_after=True) as (server, p):
        assert await p.post("text/xml", b"1") == (200, "", b"hi")
        assert await p.post("text/xml", b"2") == (200, "", b"hi")
    assert server.connections == 2


async def test_chunked_gzip_and_until_close_bodies() -> None:
    chunked = b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n<ab\r\n2\r\nc>\r\n0\r\n\r\n"
    packed = gzip.compress(b"<zipped/>")
    zipped = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(packed) + packed
    async with posting(lambda _: chunked) as (server, p):
        assert await p.post("text/xml", b"1") == (202, "", b"<abc>")
    async with posting(lambda _: zipped) as (server, p):
        assert await p.post("text/xml", b"1") == (200, "", b"<zipped/>")
    until_close = b"HTTP/1.0 500 Oops\r\nContent-Type: text/xml\r\n\r\n<fault/>"
    async with posting(lambda _: until_close, close_after=True) as (server, p):
        assert await p.post("text/xml", b"1") == (500, "text/xml", b"<fault/>")
        assert await p.post("text/xml", b"2") == (500, "text/xml", b"<fault/>")
    assert server.connections == 2


async def test_interim_answers_are_skipped() -> None:
    interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + OK
    async with posting(lambda _: interim) as (server, p):
        assert await p.post("text/xml", b"1") == (200, "text/xml", b"<ok/>")
        assert await p.post("text/xml", b"2") == (200, "text/xml", b"<ok/>")
    assert server.connections == 1


async def test_no_answer_in_time_is_outcome_unknown_and_the_connection_dropped() -> None:
    async with posting(lambda req: None if req.endswith(b"\r\n\r\n1") else OK, timeout=0.2) as (server, p):
        with pytest.raises(OutcomeUnknown, match="TEST: no answer within the timeout"):
            await p.post("text/xml", b"1")
        assert await p.post("text/xml", b"2") == (200, "text/xml", b"<ok/>")  # on a new connection
    assert server.connections == 2


async def test_lost_cut_short_or_garbled_answers_are_outcome_unknown() -> None:
    async with posting(lambda _: None, close_after=True) as (server, p):
        with pytest.raises(OutcomeUnknown, match="lost before the answer"):
            await p.post("text/xml", b"1")
    short = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"
    async with posting(lambda _: short, close_after=True) as (server, p):
        with pytest.raises(OutcomeUnknown):
            await p.post("text/xml", b"1")
    async with posting(lambda req: b"SMPP?\x00\x01\r\n\r\n" if req.endswith(b"\n1") else OK) as (server, p):
        with pytest.raises(OutcomeUnknown, match="not HTTP"):
            await p.post("text/xml", b"1")
        assert await p.post("text/xml", b"2") == (200, "text/xml", b"<ok/>")
    assert server.connections == 2  # the garbled connection was not reused


async def test_unreachable_is_transport_error_and_connect_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    p = pool(port)
    with pytest.raises(TransportError, match="TEST: cannot connect") as info:
        await p.post("text/xml", b"1")
    assert info.value.retriable and not isinstance(info.value, ConnectTimeout)

    async def hang(*args: object, **kw: object) -> None:
        await asyncio.sleep(60)

    loop = asyncio.get_running_loop()
    monkeypatch.setattr(loop, "create_connection", hang)
    p = pool(port, connect_timeout=0.05, limit=1)
    with pytest.raises(ConnectTimeout):
        await p.post("text/xml", b"1")
    with pytest.raises(ConnectTimeout):  # the failed attempt gave its slot back
        await p.post("text/xml", b"1")


async def test_a_waiter_cancelled_gives_no_slot_away() -> None:
    answers: asyncio.Queue[bytes] = asyncio.Queue()

    def script(req: bytes) -> bytes | None:
        answers.put_nowait(req)
        return None

    async with posting(script, limit=1, timeout=0.5) as (server, p):
        first = asyncio.create_task(p.post("text/xml", b"1"))
        await answers.get()  # the only connection is busy
        second = asyncio.create_task(p.post("text/xml", b"2"))
        await asyncio.sleep(0.01)
        second.cancel()
        with pytest.raises(asyncio.CancelledError):
            await second
        with pytest.raises(OutcomeUnknown):
            await first
        third = asyncio.create_task(p.post("text/xml", b"3"))
        assert (await answers.get()).endswith(b"3")  # the slot came back: a new connection was opened
        third.cancel()
        with pytest.raises(asyncio.CancelledError):
            await third
    assert server.connections == 2


async def test_idle_connections_past_keepalive_are_replaced() -> None:
    async with posting(lambda _: OK, keepalive=0.05) as (server, p):
        await p.post("text/xml", b"1")
        await asyncio.sleep(0.1)
        await p.post("text/xml", b"2")
    assert server.connections == 2


def test_header_values_cannot_inject_lines() -> None:
    with pytest.raises(ValueError, match="CR, LF"):
        KeepAlivePool("http://h/", headers={"X": "a\r\nEvil: 1"}, limit=1, timeout=1, connect_timeout=1,
                      label="T")


async def test_a_closed_pool_refuses_posts() -> None:
    async with scripted(lambda _: OK) as server:
        p = pool(server.port)
        await p.post("text/xml", b"1")
        await p.close()
        with pytest.raises(TransportError, match="closed"):
            await p.post("text/xml", b"2")
        with pytest.raises(ValueError, match="CR, LF"):
            await pool(server.port).post("text/xml\r\nEvil: 1", b"2")


async def test_serve_post_routes_like_the_router() -> None:
    from aiohttp import web

    async def echo(request: web.BaseRequest) -> web.Response:
        return web.Response(body=await request.read(), content_type="text/plain")

    runner, port = await serve_post(echo, host="127.0.0.1", port=0, path="/pap", client_max_size=10)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"http://127.0.0.1:{port}/pap", data=b"hello") as resp:
                assert (resp.status, await resp.read()) == (200, b"hello")
            async with http.post(f"http://127.0.0.1:{port}/other", data=b"x") as resp:
                assert resp.status == 404
            async with http.get(f"http://127.0.0.1:{port}/pap") as resp:
                assert resp.status == 405 and resp.headers["Allow"] == "POST"
            async with http.post(f"http://127.0.0.1:{port}/pap", data=b"x" * 11) as resp:
                assert resp.status == 413  # client_max_size is the request factory's
    finally:
        await runner.cleanup()


async def test_session_poster_gives_the_pools_errors() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.3)) as session:
        url = f"http://127.0.0.1:{port}/mm7"
        poster = SessionPoster(session, url, headers={"SOAPAction": '""'}, label="T")
        with pytest.raises(TransportError, match="T: cannot connect") as info:
            await poster.post("text/xml", b"1")
        assert info.value.retriable
        async with scripted(lambda req: None if req.endswith(b"\n1") else OK) as server:
            poster = SessionPoster(
                session, f"http://127.0.0.1:{server.port}/mm7", headers={"SOAPAction": '""'}, label="T"
            )
            with pytest.raises(OutcomeUnknown, match="T: no answer within the timeout"):
                await poster.post("text/xml", b"1")
            assert await poster.post("text/xml", b"2") == (200, "text/xml", b"<ok/>")
            await poster.close()
        assert not session.closed  # the caller's session
    assert server.requests[-1].startswith(b"POST /mm7 HTTP/1.1\r\n")
    assert b"\r\nSOAPAction: \"\"\r\n" in server.requests[-1]
