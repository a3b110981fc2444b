"""Helpers shared by the CLI commands: logging set-up, running a server until Ctrl-C, parsing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable

import click
import structlog

from channels.results import DeliveryState


def configure_logging(verbose: int = 0) -> None:
    """The CLI, not the library, decides where logs go: stderr, info by default, debug with -v."""
    level = logging.DEBUG if verbose > 0 else logging.INFO
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


def quiet_logging() -> None:
    """Only warnings and errors (for commands whose stdout is the report)."""
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


def install_signal_handlers(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> list[int]:
    """SIGINT and SIGTERM call ``callback``; returns the signals installed. Where the loop cannot
    take signal handlers (NotImplementedError on platforms without them, RuntimeError off the main
    thread) nothing is installed and Ctrl-C still raises KeyboardInterrupt as usual."""
    installed: list[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, callback)
            installed.append(sig)
    return installed


def run_until_interrupted(start: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run ``start(stop)`` until SIGINT/SIGTERM sets ``stop``; exits cleanly on Ctrl-C."""

    async def main() -> None:
        stop = asyncio.Event()
        install_signal_handlers(asyncio.get_running_loop(), stop.set)
        await start(stop)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


def parse_outcomes(spec: str) -> dict[DeliveryState, float]:
    """``delivered=0.9,undeliverable=0.08,expired=0.02`` → weights by state."""
    out: dict[DeliveryState, float] = {}
    for item in filter(None, (s.strip() for s in spec.split(","))):
        name, _, weight = item.partition("=")
        try:
            out[DeliveryState(name.strip().lower())] = float(weight or 1)
        except ValueError as exc:
            choices = ", ".join(s.value for s in DeliveryState)
            raise click.BadParameter(f"{item!r}: expected STATE=WEIGHT with STATE one of {choices}") from exc
    if not out:
        raise click.BadParameter("no outcome given")
    return out
