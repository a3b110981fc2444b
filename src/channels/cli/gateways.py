"""Gateway URLs → channel adapters, for the CLI (DESIGN §5 "Gateways are URLs").

The URL's scheme picks the adapter and must suit the channel: ``smpp://`` (SMS, or WAP push in
direct mode as binary SMS), ``wap+smpp://`` (WAP push, direct mode), ``mm7+http(s)://`` (MMS),
``pap+http(s)://`` (WAP push through a PPG), ``ari+http(s)://`` (IVR), ``ussd+smpp://`` (USSD). Each
adapter's ``from_url`` reads the query options and its own credential variables (``SMPP_SYSTEM_ID``/
``SMPP_PASSWORD``, ``MM7_USERNAME``/``MM7_PASSWORD``, ``PAP_USERNAME``/``PAP_PASSWORD``,
``ARI_USERNAME``/``ARI_PASSWORD``); a URL without credentials also takes them from
``TELCO_GATEWAY_USER``/``TELCO_GATEWAY_PASSWORD``, so secrets stay out of shell history. The window
(requests in flight per connection) has a different name in each adapter; :func:`open_channel` maps
one ``window`` onto it. :class:`ChannelPool` spreads one channel kind over several connections;
:class:`DryRunChannel` stands in for a gateway in ``send --dry-run``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from channels.channel import AcceptedHook, Channel
from channels.clock import SYSTEM_CLOCK
from channels.errors import ChannelsError, ConfigurationError
from channels.message import ChannelKind, Message
from channels.receipts import Tracked
from channels.results import Event, SendResult

USER_ENV, PASSWORD_ENV = "TELCO_GATEWAY_USER", "TELCO_GATEWAY_PASSWORD"

Factory = Callable[[str, dict[str, Any]], Channel]


def _smpp(url: str, kw: dict[str, Any]) -> Channel:
    from channels.smpp.client import SmppClient

    return SmppClient.from_url(url, **kw)


def _wap_direct(url: str, kw: dict[str, Any]) -> Channel:
    from channels.wap.direct import WapSmppChannel

    return WapSmppChannel.from_url(url, **kw)


def _mm7(url: str, kw: dict[str, Any]) -> Channel:
    from channels.mm7.client import Mm7Client

    return Mm7Client.from_url(url, **kw)


def _pap(url: str, kw: dict[str, Any]) -> Channel:
    from channels.wap.client import PapClient

    return PapClient.from_url(url, **kw)


def _ari(url: str, kw: dict[str, Any]) -> Channel:
    from channels.ivr.client import IvrClient

    return IvrClient.from_url(url, **kw)


def _ussd(url: str, kw: dict[str, Any]) -> Channel:
    from channels.ussd.client import UssdChannel

    return UssdChannel.from_url(url, **kw)


@dataclass(frozen=True, slots=True)
class Scheme:
    """One URL scheme: the adapter per channel kind it serves, and its name for the window."""

    factories: Mapping[ChannelKind, Factory]
    window: str


_SMPP = Scheme({ChannelKind.SMS: _smpp, ChannelKind.WAP_PUSH: _wap_direct}, "window")
_MM7 = Scheme({ChannelKind.MMS: _mm7}, "connections")
_PAP = Scheme({ChannelKind.WAP_PUSH: _pap}, "concurrency")
_ARI = Scheme({ChannelKind.IVR: _ari}, "channels")
SCHEMES: Mapping[str, Scheme] = {
    "smpp": _SMPP,
    "wap+smpp": Scheme({ChannelKind.WAP_PUSH: _wap_direct}, "window"),
    "mm7+http": _MM7,
    "mm7+https": _MM7,
    "pap+http": _PAP,
    "pap+https": _PAP,
    "ari+http": _ARI,
    "ari+https": _ARI,
    "ussd+smpp": Scheme({ChannelKind.USSD: _ussd}, "window"),
}


def schemes_for(kind: ChannelKind) -> list[str]:
    return [name for name, s in SCHEMES.items() if kind in s.factories]


def with_env_credentials(url: str, env: Mapping[str, str] | None = None) -> str:
    """``url`` with ``TELCO_GATEWAY_USER``/``_PASSWORD`` filled in when it names no user."""
    env = os.environ if env is None else env
    parts = urlsplit(url)
    user = env.get(USER_ENV)
    if parts.username or not user or not parts.hostname:
        return url
    auth = quote(user, safe="") + (":" + quote(env.get(PASSWORD_ENV, ""), safe=""))
    return urlunsplit((parts.scheme, f"{auth}@{parts.netloc}", parts.path, parts.query, parts.fragment))


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, f"{parts.username}:***@{netloc}", parts.path, parts.query, ""))


def open_channel(
    kind: ChannelKind, url: str, *, window: int | None = None, **overrides: Any
) -> Channel:
    """The adapter for ``url`` serving ``kind`` (not yet connected: adapters connect on first use)."""
    scheme_name = urlsplit(url).scheme.lower()
    scheme = SCHEMES.get(scheme_name)
    if scheme is None:
        raise ConfigurationError(
            f"--gateway: scheme {scheme_name + '://' if scheme_name else 'missing'} is not one of "
            f"{', '.join(s + '://' for s in SCHEMES)}"
        )
    factory = scheme.factories.get(kind)
    if factory is None:
        raise ConfigurationError(
            f"--gateway: {scheme_name}:// cannot carry {kind.value}; use "
            f"{' or '.join(s + '://' for s in schemes_for(kind))}"
        )
    if window is not None:
        overrides[scheme.window] = window
    return factory(with_env_credentials(url), overrides)


class ChannelPool:
    """One channel kind over several connections: sends go round-robin, events are merged.

    Every member must carry the pool's ``name`` so receipts correlate whichever bind they come on.
    """

    def __init__(self, members: Sequence[Channel]) -> None:
        if not members:
            raise ConfigurationError("a channel pool needs at least one channel")
        kinds = {m.kind for m in members}
        names = {m.name for m in members}
        if len(kinds) != 1 or len(names) != 1:
            raise ConfigurationError("pooled channels must share one kind and one name")
        self.members = list(members)
        self.kind = members[0].kind
        self.name = members[0].name
        self._next = itertools.cycle(self.members).__next__
        self._events: asyncio.Queue[Event | None] = asyncio.Queue()
        self._pumps: list[asyncio.Task[None]] = []
        self._closed = False

    async def connect(self) -> None:
        """Connect every member that connects ahead of its first send (SMPP binds)."""
        await asyncio.gather(*(m.connect() for m in self.members if hasattr(m, "connect")))

    async def send(self, message: Message) -> SendResult:
        return await self._next().send(message)

    async def _pump(self, member: Channel) -> None:
        async for event in member.events():
            self._events.put_nowait(event)

    async def events(self) -> AsyncIterator[Event]:
        if not self._pumps and not self._closed:
            self._pumps = [asyncio.create_task(self._pump(m)) for m in self.members]
        while (event := await self._events.get()) is not None:
            yield event

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        await asyncio.gather(*(m.aclose() for m in self.members), return_exceptions=True)
        for task in self._pumps:
            task.cancel()
        for task in self._pumps:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._events.put_nowait(None)


def open_pool(kind: ChannelKind, url: str, connections: int, *, window: int | None = None) -> Channel:
    """``connections`` adapters for ``url`` as one channel (one adapter when ``connections`` is 1)."""
    if connections < 1:
        raise ConfigurationError("--connections: must be >= 1")
    first = open_channel(kind, url, window=window)
    if connections == 1:
        return first
    rest = [open_channel(kind, url, window=window, name=first.name) for _ in range(connections - 1)]
    return ChannelPool([first, *rest])


async def connect(channel: Channel) -> None:
    """Connect (bind, start the receivers) ahead of the first send, where the adapter can."""
    for name in ("connect", "start"):
        method = getattr(channel, name, None)
        if method is not None:
            await method()
            return


class DryRunChannel:
    """``--dry-run``: accepts every message at once; the rest of the pipeline runs as for real."""

    def __init__(self, kind: ChannelKind) -> None:
        self.kind = kind
        self.name = "dry-run"
        self._count = 0
        self._closed = asyncio.Event()

    async def send(self, message: Message) -> SendResult:
        self._count += 1
        return SendResult(message_id=message.id, channel=self.kind, remote_ids=(f"dry-{self._count:x}",),
                          accepted_at=SYSTEM_CLOCK.now())  # fmt: skip

    async def send_batch(
        self, messages: Sequence[Message], on_accepted: AcceptedHook | None = None
    ) -> list[SendResult | ChannelsError]:
        return [await self.send(m) for m in messages]

    async def events(self) -> AsyncIterator[Event]:
        await self._closed.wait()
        return
        yield  # an async generator that ends when the channel closes

    async def aclose(self) -> None:
        self._closed.set()


class NoReceipts:
    """Receipt store for ``--dry-run``: nothing will ever report, so nothing is kept."""

    def add(self, tracked: Tracked, keys: list[tuple[str, str]]) -> None:
        return None

    def lookup(self, gateway: str, key: str) -> Tracked | None:
        return None

    def get(self, message_id: str) -> Tracked | None:
        return None

    def update(self, tracked: Tracked) -> None:
        return None

    def due(self, now: datetime) -> list[Tracked]:
        return []

    def remove(self, message_id: str) -> None:
        return None
