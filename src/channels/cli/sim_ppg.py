"""``telco-channels simulate ppg``: the PAP 2.0 push proxy gateway simulator in the foreground."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from channels.cli.common import configure_logging, parse_outcomes, run_until_interrupted
from simulators.ppg import PpgScenario, PpgSimulator


@click.command("ppg")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8082, show_default=True, type=int, help="TCP port (0: any free port).")
@click.option("--path", default="/pap", show_default=True, help="URL path of the PAP endpoint.")
@click.option("--username", default=None, help="Require these credentials (basic auth or query).")
@click.option("--password", default=None, help="Password for --username.")
@click.option("--smsc", default=None, help="Forward pushes as binary SMS to this smpp:// URL.")
@click.option("--sender", default="1234", show_default=True, help="Source address of forwarded SMS.")
@click.option(
    "--esm-class", default="0x40", show_default=True, help="esm_class of forwarded SMS (Kannel: 0x43)."
)
@click.option("--latency", default=0.0, show_default=True, help="Seconds before each answer.")
@click.option("--http-status", default=202, show_default=True, help="HTTP status of PAP answers.")
@click.option(
    "--error-share", default=0.0, show_default=True, help="Share of pushes refused with --error-code."
)
@click.option("--error-code", default=3000, show_default=True, help="PAP code for --error-share refusals.")
@click.option("--no-notify", is_flag=True, help="Never post resultnotification-message.")
@click.option("--notify-delay", default=0.0, show_default=True, help="Seconds before a notification.")
@click.option(
    "--outcomes",
    default="delivered=1",
    show_default=True,
    help="Notification outcome mix without --smsc, e.g. delivered=0.9,undeliverable=0.1.",
)
@click.option("--seed", default=0, show_default=True, help="Random seed for errors and outcomes.")
@click.option("--record", type=click.Path(dir_okay=False, path_type=Path), help="Append JSONL records here.")
@click.option("-v", "--verbose", count=True, help="Debug logging.")
def command(
    host: str,
    port: int,
    path: str,
    username: str | None,
    password: str | None,
    smsc: str | None,
    sender: str,
    esm_class: str,
    latency: float,
    http_status: int,
    error_share: float,
    error_code: int,
    no_notify: bool,
    notify_delay: float,
    outcomes: str,
    seed: int,
    record: Path | None,
    verbose: int,
) -> None:
    """Run a PAP push proxy gateway: validates pushes, answers PAP codes, forwards SI/SL as SMS."""
    configure_logging(verbose)
    try:
        esm = int(esm_class, 0)
    except ValueError as exc:
        raise click.BadParameter(f"{esm_class!r} is not a number", param_hint="--esm-class") from exc
    scenario = PpgScenario(
        seed=seed,
        latency=latency,
        http_status=http_status,
        error_share=error_share,
        error_code=error_code,
        notify=not no_notify,
        notify_delay=notify_delay,
        outcomes=parse_outcomes(outcomes),
    )

    async def serve(stop: asyncio.Event) -> None:
        async with PpgSimulator(
            host,
            port,
            path=path,
            scenario=scenario,
            username=username,
            password=password,
            smsc=smsc,
            sender=sender,
            esm_class=esm,
            record_path=record,
        ) as ppg:
            click.echo(f"PPG listening: {ppg.url}", err=True)
            await stop.wait()
            click.echo(f"PPG stopped: {ppg.stats()}", err=True)

    run_until_interrupted(serve)
