"""``telco-channels simulate ussd``: the USSD gateway simulator (SMPP 3.4, SMSC role) in the foreground."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from channels.cli.common import configure_logging, run_until_interrupted
from simulators.ussd import UssdGatewaySimulator, UssdScenario


def parse_choices(spec: str) -> dict[str, float]:
    """``1=0.7,2=0.2,0=0.1`` → weights by option key (empty: uniform)."""
    out: dict[str, float] = {}
    for item in filter(None, (s.strip() for s in spec.split(","))):
        key, _, weight = item.partition("=")
        try:
            out[key.strip()] = float(weight or 1)
        except ValueError as exc:
            raise click.BadParameter(f"{item!r}: expected KEY=WEIGHT, e.g. 1=0.7") from exc
    return out


def parse_delay(spec: str) -> tuple[float, float]:
    """``0.5`` or ``0.2-1.5`` (seconds) → (min, max)."""
    low, _, high = spec.partition("-")
    try:
        return float(low), float(high or low)
    except ValueError as exc:
        raise click.BadParameter(f"{spec!r}: expected SECONDS or MIN-MAX") from exc


@click.command("ussd")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=2776, show_default=True, type=int, help="TCP port (0: any free port).")
@click.option("--system-id", default="test", show_default=True, help="Account system_id accepted on bind.")
@click.option("--password", default="secret", show_default=True, help="Account password.")
@click.option(
    "--profile",
    default="standard",
    show_default=True,
    type=click.Choice(["standard", "6d", "mica"]),
    help="Gateway dialect: op codes and session key.",
)
@click.option("--answer-delay", default="0.2-1.5", show_default=True, help="Seconds a handset takes.")
@click.option("--choices", default="", help="Answer weights, e.g. 1=0.7,2=0.2,0=0.1.")
@click.option("--abort-rate", default=0.0, show_default=True, help="Share of screens the subscriber aborts.")
@click.option("--timeout-rate", default=0.0, show_default=True, help="Share of screens left unanswered.")
@click.option("--dial", "dial_codes", multiple=True, help="Service code handsets dial (repeatable).")
@click.option("--dial-every", default=0.0, show_default=True, help="Seconds between such dials (0: never).")
@click.option("--subscribers", default="8613900", show_default=True, help="Prefix of dialling numbers.")
@click.option("--dialogue-timeout", default=200.0, show_default=True, help="Network ends dialogues after.")
@click.option("--latency", default=0.0, show_default=True, help="Seconds before each submit_sm_resp.")
@click.option("--seed", default=0, show_default=True, help="Random seed for handsets.")
@click.option("--record", type=click.Path(dir_okay=False, path_type=Path), help="Append transcripts (JSONL).")
@click.option("-v", "--verbose", count=True, help="Debug logging.")
def command(
    host: str,
    port: int,
    system_id: str,
    password: str,
    profile: str,
    answer_delay: str,
    choices: str,
    abort_rate: float,
    timeout_rate: float,
    dial_codes: tuple[str, ...],
    dial_every: float,
    subscribers: str,
    dialogue_timeout: float,
    latency: float,
    seed: int,
    record: Path | None,
    verbose: int,
) -> None:
    """Run a USSD gateway over SMPP 3.4 whose simulated handsets answer menus, time out or abort,
    and dial service codes; one JSONL transcript per dialogue."""
    configure_logging(verbose)
    try:
        scenario = UssdScenario(
            seed=seed,
            profile=profile,
            answer_delay=parse_delay(answer_delay),
            choices=parse_choices(choices),
            abort_rate=abort_rate,
            timeout_rate=timeout_rate,
            dialogue_timeout=dialogue_timeout,
            response_latency=latency,
            dial_codes=dial_codes,
            dial_interval=dial_every,
            subscribers=subscribers,
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc

    async def serve(stop: asyncio.Event) -> None:
        async with UssdGatewaySimulator(
            host, port, accounts={system_id: password}, scenario=scenario, record_path=record
        ) as gateway:
            click.echo(f"USSD gateway listening: {gateway.url}", err=True)
            await stop.wait()
            click.echo(f"USSD gateway stopped: {gateway.stats()}", err=True)

    run_until_interrupted(serve)
