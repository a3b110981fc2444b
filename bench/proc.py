"""The line protocol between the harness and the processes it starts, both sides.

Every server the bench starts (our simulators, node-smpp's server, the raw ceiling server) prints one
JSON line ``{"port": N}`` on stdout once it listens, serves until its stdin closes, then prints one last
JSON line with its CPU time and counters. Every load process prints ``{"event": "timed"}`` when its
warm-up is over (the harness starts a profiler then) and one JSON result line at the end. Anything
else goes to stderr. Client and server are always separate processes (the figures say so), so the two
cores are one each and neither's CPU shows in the other's figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import resource
import sys
import time
from collections.abc import Callable, Coroutine
from typing import Any, cast

import structlog


class RawProtocol(asyncio.Protocol):
    """The bench's raw protocols: ``transport`` kept as a writable transport once connected (cast, not
    checked: uvloop's transports are not ``asyncio.Transport`` subclasses)."""

    transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)


def emit(**fields: Any) -> None:
    """One JSON line to the harness."""
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def quiet_logging() -> None:
    """How a production application runs the library: INFO and above, to stderr. The per-message
    lines are debug, so they cost one no-op call each (DESIGN §2.7)."""
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )


def cpu_seconds() -> float:
    """This process's user + system CPU time."""
    return time.process_time()


def peak_rss_kib() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


async def until_stdin_closes() -> None:
    """Return when the harness closes our stdin (how it stops a server)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while await reader.read(4096):
        pass


def run_esme(doc: str, run: Callable[[argparse.Namespace], Coroutine[Any, Any, dict[str, Any]]]) -> None:
    """The command line every peer ESME of figure 4 shares: parse, run one load, emit its figures."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--warmup", type=int, default=2_000)
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--timeout", type=float, default=120.0)
    emit(**asyncio.run(run(parser.parse_args())))
