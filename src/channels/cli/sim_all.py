"""``telco-channels simulate all``: the five gateway simulators in one process, on consecutive ports.

SMSC (SMPP 3.4) on ``--base-port``, MMSC (MM7) on +1, PPG (PAP 2.0) on +2, IVR (ARI subset) on +3,
USSD gateway (SMPP 3.4) on +4; ``--base-port 0`` takes any free ports. Each gateway's URL is printed
on stdout, one ``name url`` line each, ready for ``--gateway``. Scenarios come from a TOML file with
one table per simulator, keyed by the fields of its scenario class (``[smsc] receipt_delay = 0.2``,
``[ivr] answer = 0.6``...), and every simulator records what it received to ``--record-dir``
(``smsc.jsonl``...), decoded to what the subscriber would see. Ctrl-C stops them all cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import tomllib
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from channels.cli.common import configure_logging, run_until_interrupted
from channels.results import DeliveryState
from simulators.ivr import IvrSimulator
from simulators.ivr_model import IvrScenario
from simulators.mmsc import MmscSimulator
from simulators.mmsc_model import MmscScenario
from simulators.ppg import PpgScenario, PpgSimulator
from simulators.smsc import SmscScenario, SmscSimulator
from simulators.ussd import UssdGatewaySimulator, UssdScenario

NAMES = ("smsc", "mmsc", "ppg", "ivr", "ussd")  # port order
SCENARIOS: Mapping[str, type] = {
    "smsc": SmscScenario, "mmsc": MmscScenario, "ppg": PpgScenario, "ivr": IvrScenario, "ussd": UssdScenario,
}  # fmt: skip


def _convert(cls: type, name: str, value: Any) -> Any:
    """A TOML value as the scenario field wants it: tuples from arrays, delivery states as keys."""
    hint = typing.get_type_hints(cls).get(name)
    text = str(hint)
    if isinstance(value, list):
        return frozenset(value) if "frozenset" in text else tuple(value)
    if isinstance(value, dict) and "DeliveryState" in text:
        return {DeliveryState(str(k).lower()): float(v) for k, v in value.items()}
    if isinstance(value, dict) and "Mapping[int" in text:
        return {int(k): v for k, v in value.items()}
    return value


def load_scenarios(path: Path | None, seed: int) -> dict[str, Any]:
    """Each simulator's scenario: its class defaults, the seed, then the file's table for it."""
    tables: dict[str, Any] = {}
    if path is not None:
        try:
            tables = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise click.BadParameter(f"{path}: {exc}", param_hint="--scenario") from exc
    unknown = set(tables) - set(NAMES)
    if unknown:
        raise click.BadParameter(f"unknown table(s) {sorted(unknown)}; expected {list(NAMES)}",
                                 param_hint="--scenario")  # fmt: skip
    out: dict[str, Any] = {}
    for name, cls in SCENARIOS.items():
        table = dict(tables.get(name, {}))
        fields = {f.name for f in dataclasses.fields(cls)}
        bad = set(table) - fields
        if bad:
            raise click.BadParameter(f"[{name}] has no setting {sorted(bad)}", param_hint="--scenario")
        values = {"seed": seed, **{k: _convert(cls, k, v) for k, v in table.items()}}
        try:
            out[name] = cls(**values)
        except (TypeError, ValueError) as exc:
            raise click.BadParameter(f"[{name}]: {exc}", param_hint="--scenario") from exc
    return out


def _port(base: int, offset: int) -> int:
    return base + offset if base else 0


def _record(directory: Path | None, name: str) -> Path | None:
    return directory / f"{name}.jsonl" if directory is not None else None


async def start_all(
    stack: contextlib.AsyncExitStack,
    *,
    host: str,
    base_port: int,
    scenarios: Mapping[str, Any],
    record_dir: Path | None = None,
    vasp_url: str | None = None,
    ppg_to_smsc: bool = False,
) -> dict[str, Any]:
    """Start the five simulators inside ``stack``; returns them by name (each has ``url``).
    ``record_dir`` must exist."""
    sims: dict[str, Any] = {}
    sims["smsc"] = await stack.enter_async_context(SmscSimulator(
        host, _port(base_port, 0), scenario=scenarios["smsc"], record_path=_record(record_dir, "smsc")))
    sims["mmsc"] = await stack.enter_async_context(MmscSimulator(
        host=host, port=_port(base_port, 1), scenario=scenarios["mmsc"], vasp_url=vasp_url,
        record_path=_record(record_dir, "mmsc")))
    sims["ppg"] = await stack.enter_async_context(PpgSimulator(
        host, _port(base_port, 2), scenario=scenarios["ppg"], record_path=_record(record_dir, "ppg"),
        smsc=sims["smsc"].url if ppg_to_smsc else None))
    sims["ivr"] = await stack.enter_async_context(IvrSimulator(
        host, _port(base_port, 3), scenario=scenarios["ivr"], record_path=_record(record_dir, "ivr")))
    sims["ussd"] = await stack.enter_async_context(UssdGatewaySimulator(
        host, _port(base_port, 4), scenario=scenarios["ussd"], record_path=_record(record_dir, "ussd")))
    return sims  # fmt: skip


@click.command("all")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--base-port", default=2775, show_default=True, type=int,
              help="SMSC port; MMSC +1, PPG +2, IVR +3, USSD +4 (0: any free ports).")
@click.option("--scenario", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="TOML: one table per simulator ([smsc], [mmsc], [ppg], [ivr], [ussd]).")
@click.option("--record-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Append what each simulator received to DIR/<name>.jsonl.")
@click.option("--vasp-url", help="Where the MMSC posts delivery reports and MO (http://host:port/path).")
@click.option("--ppg-to-smsc", is_flag=True, help="The PPG delivers pushes as binary SMS through the SMSC.")
@click.option("--seed", default=0, show_default=True, help="Random seed for every scenario.")
@click.option("--duration", default=0.0, show_default=True, help="Stop after N seconds (0: at Ctrl-C).")
@click.option("-v", "--verbose", count=True, help="Debug logging.")
def command(
    host: str, base_port: int, scenario: Path | None, record_dir: Path | None, vasp_url: str | None,
    ppg_to_smsc: bool, seed: int, duration: float, verbose: int,
) -> None:  # fmt: skip
    """Run all five gateway simulators and print the URL of each."""
    configure_logging(verbose)
    scenarios = load_scenarios(scenario, seed)
    if record_dir is not None:
        record_dir.mkdir(parents=True, exist_ok=True)

    async def serve(stop: asyncio.Event) -> None:
        async with contextlib.AsyncExitStack() as stack:
            sims = await start_all(stack, host=host, base_port=base_port, scenarios=scenarios,
                                   record_dir=record_dir, vasp_url=vasp_url,
                                   ppg_to_smsc=ppg_to_smsc)  # fmt: skip
            for name in NAMES:
                click.echo(f"{name:<5} {sims[name].url}")
            click.echo("simulators running; Ctrl-C stops them", err=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), duration or None)
            for name in NAMES:
                click.echo(f"{name} stopped: {sims[name].stats()}", err=True)

    run_until_interrupted(serve)
