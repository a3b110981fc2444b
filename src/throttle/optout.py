"""Opt-outs and blocked numbers: the subscribers a campaign must never reach.

Two lists, checked before anything is reserved. The opt-out store is fed by subscribers' replies
(MO messages whose text is an opt-out keyword: STOP, TD, 退订…, matched leniently by
:mod:`channels.inbound`, which also catches full-width and stray-punctuation replies) and by the user;
it lives in a throttle store so every worker sees it. The blocked list is the operators' "sensitive
numbers" file filtered before group sends (PROTOCOLS.md §9): one number per line, ``#`` comments.
Feed the store from replies with ``await policy.observe(event)`` for each ``Dispatcher.events()`` item.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import cast

import structlog

from channels.clock import SYSTEM_CLOCK, Clock
from channels.errors import ConfigurationError
from channels.inbound import KeywordMatcher, is_opt_out
from channels.message import Message, mask_msisdn
from channels.policy import ALLOW, Decide, Decision, Reject
from channels.results import InboundMessage
from throttle.dedup import to_us
from throttle.numbers import Numbers
from throttle.stores.base import OptOutStore, SyncOptOutStore

log = structlog.get_logger(__name__)

OPTED_OUT = Reject("opted_out: subscriber opted out")
BLOCKED = Reject("blocked: number is on the blocked list")


def load_blocked(path: str | Path, numbers: Numbers | None = None) -> frozenset[str]:
    """Read a blocked-numbers file: one number per line; blank lines and ``#`` comments ignored."""
    numbers = numbers or Numbers()
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigurationError(f"blocked list {path}: {exc.strerror or exc}") from exc
    keys: set[str] = set()
    for lineno, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        key = numbers.key(text)
        if not key:
            raise ConfigurationError(f"blocked list {path}:{lineno}: {text!r} is not a number")
        keys.add(key)
    return frozenset(keys)


class OptOutPolicy:
    """Reject blocked numbers and subscribers who opted out.

    ``exempt_transactional=True`` lets transactional messages (one-time codes) reach opted-out
    subscribers; blocked numbers are never reached.
    """

    def __init__(
        self,
        store: OptOutStore,
        *,
        blocked: Iterable[str] = (),
        numbers: Numbers | None = None,
        keywords: KeywordMatcher | None = None,
        exempt_transactional: bool = False,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.store = store
        self.numbers = numbers or Numbers()
        self.blocked = frozenset(k for k in (self.numbers.key(b) for b in blocked) if k)
        self.keywords = keywords
        self.exempt_transactional = exempt_transactional
        self.clock = clock
        # channels.policy.SyncPolicy: a store in this process is asked with a plain call.
        self._sync_store = cast(SyncOptOutStore, store)  # read only when evaluate_sync is set
        self.evaluate_sync: Decide | None = (
            self._evaluate_sync if isinstance(store, SyncOptOutStore) else None
        )

    async def evaluate(self, message: Message, now: datetime) -> Decision:
        return (await self.evaluate_many((message,), now))[0]

    async def evaluate_many(self, messages: Sequence[Message], now: datetime) -> list[Decision]:
        keys = self.numbers.keys_to(messages)
        return self._decisions(messages, keys, await self.store.contains(keys))

    def _evaluate_sync(self, messages: Sequence[Message], now: datetime) -> list[Decision]:
        keys = self.numbers.keys_to(messages)
        return self._decisions(messages, keys, self._sync_store.contains_sync(keys))

    def _decisions(
        self, messages: Sequence[Message], keys: Sequence[str], opted: list[bool]
    ) -> list[Decision]:
        blocked = self.blocked
        if not any(opted) and blocked.isdisjoint(keys):  # the usual chunk: nobody to refuse
            return [ALLOW] * len(keys)
        out: list[Decision] = []
        for m, key, is_out in zip(messages, keys, opted, strict=True):
            if key in blocked:
                out.append(BLOCKED)
            elif is_out and not (self.exempt_transactional and m.transactional):
                out.append(OPTED_OUT)
            else:
                out.append(ALLOW)
        return out

    async def rollback(self, message: Message) -> None:
        return None

    def rollback_sync(self, messages: Sequence[Message]) -> None:
        return None  # nothing was reserved

    async def opt_out(self, numbers: Iterable[str], source: str = "user") -> None:
        keys = [k for k in (self.numbers.key(n) for n in numbers) if k]
        await self.store.add(keys, to_us(self.clock.now()), source)

    async def opt_in(self, numbers: Iterable[str]) -> None:
        await self.store.remove([k for k in (self.numbers.key(n) for n in numbers) if k])

    async def is_opted_out(self, number: str) -> bool:
        return (await self.store.contains([self.numbers.key(number)]))[0]

    async def observe(self, event: object) -> bool:
        """Feed a Dispatcher event: a reply that is an opt-out keyword opts its sender out.
        Returns True when it did. Other events are ignored."""
        if not isinstance(event, InboundMessage):
            return False
        if self.keywords is not None:
            hit = is_opt_out(event.text, self.keywords)
        else:
            hit = event.opt_out or is_opt_out(event.text)
        if not hit:
            return False
        key = self.numbers.key(event.sender)
        if not key:
            return False
        await self.store.add([key], to_us(event.at), f"mo:{event.keyword or event.text[:16]}")
        log.debug("throttle.optout.recorded", subscriber=mask_msisdn(key), channel=event.channel.value)
        return True
