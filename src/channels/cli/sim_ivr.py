"""``telco-channels simulate ivr``: the IVR gateway simulator (Asterisk ARI subset) in the foreground."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import click

from channels.cli.common import configure_logging, run_until_interrupted
from simulators.ivr import IvrSimulator
from simulators.ivr_model import IvrScenario


def _range(spec: str, what: str) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in spec.split(","))
    except ValueError as exc:
        raise click.BadParameter(f"{spec!r}: expected MIN,MAX", param_hint=what) from exc
    return low, high


def _digits(spec: str) -> dict[str, float]:
    """``1=0.36,2=0.24,none=0.4`` → what a person presses → weight (``none``: nothing)."""
    out: dict[str, float] = {}
    for item in filter(None, (s.strip() for s in spec.split(";" if ";" in spec else ","))):
        keys, _, weight = item.rpartition("=")
        try:
            out["" if keys == "none" else keys.replace("+", ",")] = float(weight)
        except ValueError as exc:
            raise click.BadParameter(f"{item!r}: expected DIGITS=WEIGHT", param_hint="--digits") from exc
    return out


def build_scenario(
    *,
    seed: int,
    channels: int,
    answer: float,
    busy: float,
    no_answer: float,
    rejected: float,
    failed: float,
    machine: float,
    ring_time: str,
    digits: str,
    digit_delay: str,
    prompt_seconds: float,
    hangup_mid_prompt: float,
) -> IvrScenario:
    try:
        return IvrScenario(
            seed=seed,
            max_channels=channels,
            answer=answer,
            busy=busy,
            no_answer=no_answer,
            rejected=rejected,
            failed=failed,
            machine=machine,
            ring_time=_range(ring_time, "--ring-time"),
            digits=_digits(digits),
            digit_delay=_range(digit_delay, "--digit-delay"),
            prompt_seconds=prompt_seconds,
            hangup_mid_prompt=hangup_mid_prompt,
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


@click.command("ivr")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8088, show_default=True, type=int, help="HTTP port (0: any free port).")
@click.option("--user", default="tc", show_default=True, help="ARI user (HTTP Basic or api_key).")
@click.option("--password", default="tc", show_default=True, help="ARI password.")
@click.option("--app", default="tc", show_default=True, help="Stasis application named in the printed URL.")
@click.option("--channels", default=30, show_default=True, help="Trunk channels; beyond: congestion (34).")
@click.option("--answer", default=0.43, show_default=True, help="Share of calls answered.")
@click.option("--busy", default=0.12, show_default=True, help="Share busy (cause 17).")
@click.option("--no-answer", default=0.30, show_default=True, help="Share ringing out (cause 19).")
@click.option("--rejected", default=0.05, show_default=True, help="Share declined (cause 21).")
@click.option(
    "--failed", default=0.10, show_default=True, help="Share failing (causes 1, 3, 20, 27, 38, 41)."
)
@click.option("--machine", default=0.0, show_default=True, help="Share of answers by a machine (AMD).")
@click.option("--ring-time", default="2,20", show_default=True, help="Seconds ringing before an answer.")
@click.option(
    "--digits",
    default="1=0.36,2=0.24,none=0.40",
    show_default=True,
    help="What people press and how often; 1+1 presses 1 at two prompts in turn.",
)
@click.option("--digit-delay", default="1,6", show_default=True, help="Seconds after a prompt starts.")
@click.option("--prompt-seconds", default=3.0, show_default=True, help="Length of a sound prompt.")
@click.option("--hangup-mid-prompt", default=0.05, show_default=True, help="Share hanging up early.")
@click.option("--speed", default=1.0, show_default=True, help="Simulated seconds per wall second.")
@click.option("--seed", default=0, show_default=True, help="Random seed for callees.")
@click.option("--duration", default=0.0, show_default=True, help="Stop after N seconds (0: at Ctrl-C).")
@click.option("--record", type=click.Path(dir_okay=False, path_type=Path), help="Append JSONL per call.")
@click.option("-v", "--verbose", count=True, help="Debug logging.")
def command(
    host: str,
    port: int,
    user: str,
    password: str,
    app: str,
    channels: int,
    answer: float,
    busy: float,
    no_answer: float,
    rejected: float,
    failed: float,
    machine: float,
    ring_time: str,
    digits: str,
    digit_delay: str,
    prompt_seconds: float,
    hangup_mid_prompt: float,
    speed: float,
    seed: int,
    duration: float,
    record: Path | None,
    verbose: int,
) -> None:
    """Run an IVR gateway simulator: ARI REST + events WebSocket, seeded callees, a JSONL record."""
    configure_logging(verbose)
    scenario = build_scenario(
        seed=seed,
        channels=channels,
        answer=answer,
        busy=busy,
        no_answer=no_answer,
        rejected=rejected,
        failed=failed,
        machine=machine,
        ring_time=ring_time,
        digits=digits,
        digit_delay=digit_delay,
        prompt_seconds=prompt_seconds,
        hangup_mid_prompt=hangup_mid_prompt,
    )
    if not speed > 0:
        raise click.BadParameter("must be > 0", param_hint="--speed")

    async def serve(stop: asyncio.Event) -> None:
        async with IvrSimulator(
            host,
            port,
            scenario=scenario,
            username=user,
            password=password,
            app=app,
            speed=speed,
            record_path=record,
        ) as sim:
            click.echo(f"IVR gateway listening: {sim.url}", err=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), duration or None)
            click.echo(f"IVR gateway stopped: {sim.stats()}", err=True)

    run_until_interrupted(serve)
