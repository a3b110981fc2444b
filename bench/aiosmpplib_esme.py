"""Figure 4's second peer: aiosmpplib 0.7.4 (PyPI), an asyncio SMPP ESME library, used as documented.

``python -m bench.aiosmpplib_esme --port N --messages M --warmup W --window 64`` (needs
``bench/setup.sh``: aiosmpplib lives in ``bench/.peers/py``, not in the project's environment). Messages
go into its broker as ``SubmitSm`` with a ``log_id``; the library sends, correlates responses and
correlates receipts to the ``log_id`` itself (its SimpleCorrelator). It has no window, so a rate limiter
(its documented extension point) holds ``window`` submits in flight, released by the hook on each
submit_sm_resp. Receipts count when the hook sees a DeliverSm receipt carrying a ``log_id``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

from bench.peers import PY_TARGET
from bench.proc import cpu_seconds, emit, run_esme

sys.path.append(str(PY_TARGET))

from aiosmpplib import (  # type: ignore[import-not-found,unused-ignore]
    ESME,
    AbstractHook,
    AbstractRateLimiter,
    DeliverSm,
    PhoneNumber,
    SmppCommandStatus,
    SubmitSm,
    SubmitSmResp,
)
from aiosmpplib.broker import SimpleBroker  # type: ignore[import-not-found,unused-ignore]
from aiosmpplib.log import WARNING  # type: ignore[import-not-found,unused-ignore]


class Window(AbstractRateLimiter):  # type: ignore[misc]
    """At most ``size`` submit_sm without a response."""

    def __init__(self, size: int) -> None:
        self.free = size
        self.freed = asyncio.Event()

    async def limit(self) -> None:
        while self.free <= 0:
            self.freed.clear()
            await self.freed.wait()
        self.free -= 1

    def release(self) -> None:
        self.free += 1
        self.freed.set()


class Counting(AbstractHook):  # type: ignore[misc]
    def __init__(self, window: Window) -> None:
        self.window = window
        self.accepted = self.refused = self.correlated = self.uncorrelated = 0
        self.progress = asyncio.Event()

    async def sending(self, smpp_message: Any, pdu: bytes, client_id: str) -> None:
        return None

    async def received(self, smpp_message: Any, pdu: bytes, client_id: str) -> None:
        if isinstance(smpp_message, SubmitSmResp):
            self.window.release()
            if smpp_message.command_status == SmppCommandStatus.ESME_ROK:
                self.accepted += 1
            else:
                self.refused += 1
        elif isinstance(smpp_message, DeliverSm) and smpp_message.is_receipt():
            if smpp_message.log_id:
                self.correlated += 1
            else:
                self.uncorrelated += 1
        self.progress.set()

    async def send_error(self, smpp_message: Any, error: Exception, client_id: str) -> None:
        self.window.release()
        self.refused += 1
        self.progress.set()


async def send_all(esme: Any, hook: Counting, first: int, count: int, timeout: float) -> None:
    """Enqueue ``count`` messages; return when each is answered and each accepted one's receipt came."""
    answered0, accepted0 = hook.accepted + hook.refused, hook.accepted
    receipts0 = hook.correlated + hook.uncorrelated
    for index in range(first, first + count):
        await esme.broker.enqueue(
            SubmitSm(
                short_message="hi",
                source=PhoneNumber("12345"),
                destination=PhoneNumber(str(8613800000000 + index)),
                log_id=f"m{index}",
            )
        )
    deadline = time.monotonic() + timeout

    def finished() -> bool:
        answered = hook.accepted + hook.refused - answered0
        receipts = hook.correlated + hook.uncorrelated - receipts0
        return answered >= count and receipts >= hook.accepted - accepted0

    while not finished():
        hook.progress.clear()
        await asyncio.wait_for(hook.progress.wait(), max(0.01, deadline - time.monotonic()))


async def run(args: argparse.Namespace) -> dict[str, Any]:
    window = Window(args.window)
    hook = Counting(window)
    esme = ESME(
        smsc_host="127.0.0.1",
        smsc_port=args.port,
        system_id="bench",
        password="secret",
        hook=hook,
        rate_limiter=window,
        broker=SimpleBroker(maxsize=args.warmup + args.messages + 1),
        log_level=WARNING,
    )
    starter = asyncio.create_task(esme.start())
    try:
        await send_all(esme, hook, 0, args.warmup, args.timeout)
        emit(event="timed")
        accepted, refused, correlated = hook.accepted, hook.refused, hook.correlated
        t0, c0 = time.perf_counter(), cpu_seconds()
        await send_all(esme, hook, args.warmup, args.messages, args.timeout)
        wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    finally:
        await esme.stop()
        starter.cancel()
    return {
        "messages": args.messages,
        "sent": hook.accepted - accepted,
        "refused": hook.refused - refused,
        "receipts": hook.correlated - correlated,
        "uncorrelated": hook.uncorrelated,
        "seconds": wall,
        "cpu": cpu,
    }


def main() -> None:
    run_esme(__doc__ or "", run)


if __name__ == "__main__":
    main()
