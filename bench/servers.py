"""Our simulators as benchmark servers, one per process: ``python -m bench.servers smsc|mmsc|ppg``.

Each is the simulator exactly as the library ships it (recorder and all), on a free loopback port,
following :mod:`bench.proc`'s line protocol. The SMSC answers at once and sends each receipt right
after its submit_sm_resp (``receipt_delay=0``), so a run's end is the last receipt, not a timer.
``--latency`` holds every submit_sm_resp back (the memory figure keeps messages in flight with it).
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bench.proc import cpu_seconds, emit, peak_rss_kib, quiet_logging, until_stdin_closes
from simulators import MmscSimulator, PpgScenario, PpgSimulator, SmscScenario, SmscSimulator

SMSC_ACCOUNT = ("bench", "secret")
MMSC_ACCOUNT = ("vasp", "secret")
PPG_ACCOUNT = ("pi", "secret")


async def serve_smsc(args: argparse.Namespace) -> dict[str, Any]:
    scenario = SmscScenario(receipts=not args.no_receipts, receipt_delay=0.0, response_latency=args.latency)
    async with SmscSimulator(accounts=dict([SMSC_ACCOUNT]), scenario=scenario) as smsc:
        emit(port=smsc.port, url=smsc.url)
        await until_stdin_closes()
        return smsc.stats()


async def serve_mmsc(args: argparse.Namespace) -> dict[str, Any]:
    user, password = MMSC_ACCOUNT
    async with MmscSimulator(username=user, password=password) as mmsc:
        emit(port=mmsc.port, url=mmsc.url)
        await until_stdin_closes()
        return mmsc.stats()


async def serve_ppg(args: argparse.Namespace) -> dict[str, Any]:
    user, password = PPG_ACCOUNT
    async with PpgSimulator(username=user, password=password, scenario=PpgScenario(notify=False)) as ppg:
        emit(port=ppg.port, url=ppg.url)
        await until_stdin_closes()
        return dict(ppg.stats())


SERVERS = {"smsc": serve_smsc, "mmsc": serve_mmsc, "ppg": serve_ppg}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("server", choices=sorted(SERVERS))
    parser.add_argument("--no-receipts", action="store_true", help="SMSC: no deliver_sm receipts")
    parser.add_argument("--latency", type=float, default=0.0, help="SMSC: seconds before each resp")
    args = parser.parse_args()
    quiet_logging()
    stats = asyncio.run(SERVERS[args.server](args))
    emit(cpu=cpu_seconds(), rss_kib=peak_rss_kib(), stats=stats)


if __name__ == "__main__":
    main()
