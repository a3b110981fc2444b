"""``telco-channels simulate smsc``: the SMPP 3.4 SMSC simulator in the foreground."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from channels.cli.common import configure_logging, parse_outcomes, run_until_interrupted
from simulators.smsc import SmscScenario, SmscSimulator


@click.command("smsc")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=2775, show_default=True, type=int, help="TCP port (0: any free port).")
@click.option("--system-id", default="test", show_default=True, help="Account system_id accepted on bind.")
@click.option("--password", default="secret", show_default=True, help="Account password.")
@click.option("--latency", default=0.0, show_default=True, help="Seconds before each submit_sm_resp.")
@click.option("--max-tps", default=0.0, show_default=True, help="Submits/s per account; more: RTHROTTLED.")
@click.option("--receipt-delay", default=0.05, show_default=True, help="Seconds from submit to receipt.")
@click.option(
    "--outcomes",
    default="delivered=1",
    show_default=True,
    help="Receipt outcome mix, e.g. delivered=0.9,undeliverable=0.08,expired=0.02.",
)
@click.option("--no-receipts", is_flag=True, help="Never send delivery receipts.")
@click.option("--error-every", default=0, show_default=True, help="Fail every Nth submit (--error-status).")
@click.option("--error-status", default="0x08", show_default=True, help="command_status for --error-every.")
@click.option("--decimal-ids", is_flag=True, help="Message ids in decimal instead of hex.")
@click.option("--seed", default=0, show_default=True, help="Random seed for outcomes.")
@click.option("--record", type=click.Path(dir_okay=False, path_type=Path), help="Append JSONL records here.")
@click.option("-v", "--verbose", count=True, help="Debug logging.")
def command(
    host: str,
    port: int,
    system_id: str,
    password: str,
    latency: float,
    max_tps: float,
    receipt_delay: float,
    outcomes: str,
    no_receipts: bool,
    error_every: int,
    error_status: str,
    decimal_ids: bool,
    seed: int,
    record: Path | None,
    verbose: int,
) -> None:
    """Run an SMPP 3.4 SMSC simulator: binds, submit_sm, throttling, receipts, a JSONL record."""
    configure_logging(verbose)
    scenario = SmscScenario(
        seed=seed,
        response_latency=latency,
        max_tps=max_tps,
        receipts=not no_receipts,
        receipt_delay=receipt_delay,
        outcomes=parse_outcomes(outcomes),
        error_every=error_every,
        error_status=int(error_status, 0),
        hex_ids=not decimal_ids,
    )

    async def serve(stop: asyncio.Event) -> None:
        async with SmscSimulator(
            host, port, accounts={system_id: password}, scenario=scenario, record_path=record
        ) as smsc:
            click.echo(f"SMSC listening: {smsc.url}", err=True)
            await stop.wait()
            click.echo(f"SMSC stopped: {smsc.stats()}", err=True)

    run_until_interrupted(serve)
