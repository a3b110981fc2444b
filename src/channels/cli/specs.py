"""Parsing the CLI's compact specs: rates, durations, contact caps, quiet hours, campaign config files.

``--rate 500/s`` (also ``/min``, ``/h``), ``--duration 30s`` (``ms``, ``s``, ``m``, ``h``),
``--max-per-subscriber 3/day`` (a calendar day in the subscriber's zone, or a rolling ``24h``,
``7d``...), ``--quiet-hours "mon-fri=09:30-12:00,14:00-17:00;sat=10:00-12:00"`` (the allowed windows,
by weekday, in the recipient's local time; presets ``operator`` (PROTOCOLS.md §9's 2009 group-send
windows) and ``tcpa`` (8 am-9 pm)). Errors name the option and show what was expected.
A ``campaign.toml`` gives the same options by name; the command line wins over it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from channels.errors import ConfigurationError
from throttle.dedup import ContactCap
from throttle.quiet_hours import OPERATOR_GROUP_SEND, TCPA, Schedule

_UNITS = {"ms": 0.001, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_NUMBER_UNIT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$")
PRESETS: Mapping[str, Mapping[str, str]] = {"operator": OPERATOR_GROUP_SEND, "tcpa": TCPA}


def parse_duration(text: str, option: str = "--duration") -> float:
    """``30s``, ``250ms``, ``5m``, ``1.5h``, ``2d`` or plain seconds → seconds."""
    m = _NUMBER_UNIT.match(text.lower())
    if m is None or (m.group(2) or "s") not in _UNITS:
        raise click.BadParameter(
            f"{text!r}: expected a duration such as 30s, 500ms, 5m or 2h", param_hint=option
        )
    return float(m.group(1)) * _UNITS[m.group(2) or "s"]


def parse_rate(text: str, option: str = "--rate") -> float:
    """``500/s``, ``30000/min``, ``1000/h`` or a plain number (per second) → messages per second."""
    count, _, per = text.partition("/")
    try:
        n = float(count)
    except ValueError:
        raise click.BadParameter(f"{text!r}: expected N/s, N/min or N/h", param_hint=option) from None
    seconds = parse_duration("1" + per if per and not per[0].isdigit() else per or "1s", option)
    if not n > 0 or not seconds > 0:
        raise click.BadParameter(f"{text!r}: the rate must be positive", param_hint=option)
    return n / seconds


def parse_cap(text: str, option: str = "--max-per-subscriber") -> ContactCap:
    """``3/day`` (calendar day, subscriber's zone), ``1/24h``, ``5/7d`` (rolling) → ContactCap."""
    count, _, period = text.partition("/")
    if not count.strip().isdigit() or not period:
        raise click.BadParameter(f"{text!r}: expected N/day or N/DURATION such as 3/day or 1/24h",
                                 param_hint=option)  # fmt: skip
    try:
        if period.strip().lower() in ("day", "d"):
            return ContactCap(int(count), "day")
        return ContactCap(int(count), timedelta(seconds=parse_duration(period, option)))
    except ConfigurationError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from exc


def parse_quiet_hours(spec: str | Mapping[str, Any], holidays: tuple[str, ...] = ()) -> Schedule:
    """A preset name, ``DAYS=WINDOWS;DAYS=WINDOWS``, bare windows (every day) or a TOML table."""
    table: dict[str, str] = {}
    if isinstance(spec, Mapping):
        extra = spec.get("holidays", ())
        holidays = (*holidays, *(str(h) for h in extra))
        table = {str(k): str(v) for k, v in spec.items() if k != "holidays"}
    elif spec.strip().lower() in PRESETS:
        table = dict(PRESETS[spec.strip().lower()])
    else:
        for group in filter(None, (g.strip() for g in spec.split(";"))):
            days, eq, windows = group.rpartition("=")
            table[days.strip() if eq else "daily"] = windows.strip()
    try:
        return Schedule.parse(table, holidays)
    except (ConfigurationError, ValueError) as exc:
        raise click.BadParameter(f"{exc}", param_hint="--quiet-hours") from exc


def load_config(path: Path) -> dict[str, Any]:
    """A campaign TOML file: keys named as the options (``max_per_subscriber`` or ``max-per-subscriber``)."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise click.BadParameter(f"{path}: {exc.strerror or exc}", param_hint="--config") from exc
    except tomllib.TOMLDecodeError as exc:
        raise click.BadParameter(f"{path}: {exc}", param_hint="--config") from exc
    return {key.replace("-", "_"): value for key, value in data.items()}


def apply_config(ctx: click.Context, params: dict[str, Any], config: Mapping[str, Any]) -> None:
    """Fill ``params`` from ``config`` where the command line left an option at its default."""
    known: dict[str, click.Parameter] = {}
    for p in ctx.command.params:
        for name in (p.name, *(o.lstrip("-").replace("-", "_") for o in p.opts)):
            if name:
                known[name] = p
    for key, value in config.items():
        param = known.get(key)
        if param is None or param.name is None or isinstance(param, click.Argument) or key == "config":
            raise click.BadParameter(f"unknown setting {key!r}", param_hint="--config")
        key = param.name
        if ctx.get_parameter_source(key) not in (
            click.core.ParameterSource.DEFAULT,
            click.core.ParameterSource.DEFAULT_MAP,
        ):
            continue
        if isinstance(value, Mapping | list) and key == "quiet_hours":
            params[key] = value
        else:
            params[key] = param.type_cast_value(ctx, value)
