"""A pool of SMPP binds to one account: N transmitting binds (TX or TRX), each with its own window and
TPS, plus optional receiver binds (the TX+RX pair mode), driven as one (PROTOCOLS.md §1.2, §1.5).

Throughput is about binds × window / RTT (farhadi/node-smpp#122), and many SMSCs cap TPS per bind, so
a campaign opens several binds; some SMSCs want submits and receipts on separate binds (TX + RX) rather
than one transceiver. The pool picks, for each message, the bound transmitting link with the least load
(in flight + waiting), so a slow or rebinding link gets less work; every link's receipts and MO reach
one callback. All parts of one message go over one link.
"""

from __future__ import annotations

import asyncio
import itertools

import structlog

from channels.errors import ConfigurationError
from channels.smpp.config import SmppConfig
from channels.smpp.connection import BindMode
from channels.smpp.link import DeliverCallback, SmppLink

log = structlog.get_logger(__name__)


class BindPool:
    """The links of one :class:`~channels.smpp.client.SmppClient`, connected and closed together."""

    def __init__(self, config: SmppConfig, on_deliver: DeliverCallback) -> None:
        modes = [config.bind] * config.binds + [BindMode.RX] * config.receivers
        self.links = [SmppLink(config, mode, index=i, on_deliver=on_deliver) for i, mode in enumerate(modes)]
        self.senders = [link for link in self.links if link.can_send]
        self._turn = itertools.count()

    @property
    def bound(self) -> bool:
        return all(link.bound for link in self.links)

    async def connect(self) -> None:
        """Bind every link; if one cannot, raise its error (the others stay bound: ``connect`` may be
        called again, and ``aclose`` closes them)."""
        results = await asyncio.gather(*(link.connect() for link in self.links), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise errors[0]

    def pick(self) -> SmppLink:
        """The transmitting link to use next: bound first, then least loaded, ties in turn."""
        senders = self.senders
        if len(senders) == 1:
            return senders[0]
        if not senders:
            raise ConfigurationError("this SMPP client has only receiver binds: it cannot send")
        start = next(self._turn) % len(senders)
        best = senders[start]
        best_key = (not best.bound, best.load)
        for offset in range(1, len(senders)):
            link = senders[(start + offset) % len(senders)]
            key = (not link.bound, link.load)
            if key < best_key:
                best, best_key = link, key
        return best

    async def aclose(self, *, drain_timeout: float = 5.0) -> None:
        # Every link gets its clean unbind even if one fails; a failure is logged, not hidden.
        results = await asyncio.gather(
            *(link.aclose(drain_timeout=drain_timeout) for link in self.links), return_exceptions=True
        )
        for link, result in zip(self.links, results, strict=True):
            if isinstance(result, Exception):
                log.warning("smpp.link.close_failed", link=link.name, error=repr(result))
