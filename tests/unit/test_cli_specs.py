"""The CLI's compact specs (rates, durations, caps, quiet hours) and campaign config files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
import pytest
from click.testing import CliRunner

from channels.cli.specs import (
    apply_config,
    load_config,
    parse_cap,
    parse_duration,
    parse_quiet_hours,
    parse_rate,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30.0), ("250ms", 0.25), ("5m", 300.0), ("1.5h", 5400.0), ("2d", 172800.0), ("10", 10.0)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "s", "10 parsecs", "-3s", "1e3"])
def test_bad_durations_name_the_option(text: str) -> None:
    with pytest.raises(click.BadParameter, match="duration") as info:
        parse_duration(text, "--wait-receipts")
    assert info.value.param_hint == "--wait-receipts"


@pytest.mark.parametrize(
    ("text", "per_second"),
    [("500/s", 500.0), ("500", 500.0), ("30000/min", 500.0), ("3600/h", 1.0), ("10/10s", 1.0), ("2/s", 2)],
)
def test_rates(text: str, per_second: float) -> None:
    assert parse_rate(text) == pytest.approx(per_second)


@pytest.mark.parametrize("text", ["fast", "0/s", "-5/s", "5/lightyear"])
def test_bad_rates(text: str) -> None:
    with pytest.raises(click.BadParameter):
        parse_rate(text)


def test_contact_caps() -> None:
    day = parse_cap("3/day")
    assert (day.limit, day.period) == (3, "day")
    rolling = parse_cap("1/24h")
    assert (rolling.limit, rolling.period) == (1, timedelta(hours=24))
    for bad in ("three/day", "3", "0/day", "3/fortnight"):
        with pytest.raises(click.BadParameter) as info:
            parse_cap(bad)
        assert info.value.param_hint == "--max-per-subscriber"


def shanghai(hour: int, minute: int = 0, day: int = 5) -> datetime:
    """2026-01-05 is a Monday."""
    return datetime(2026, 1, day, hour, minute, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)


def test_quiet_hours_by_weekday_presets_and_bare_windows() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    spec = parse_quiet_hours("mon-fri=09:30-12:00,14:00-17:00;sat=10:00-11:00")
    assert spec.is_open(shanghai(10).astimezone(tz))
    assert not spec.is_open(shanghai(13).astimezone(tz))
    assert spec.is_open(shanghai(10, 30, day=10).astimezone(tz))  # Saturday
    assert not spec.is_open(shanghai(10, 30, day=11).astimezone(tz))  # Sunday: not named, closed
    operator = parse_quiet_hours("operator")
    assert not operator.is_open(shanghai(10, day=10).astimezone(tz))  # weekends closed
    daily = parse_quiet_hours("08:00-21:00", ("2026-01-05",))
    assert not daily.is_open(shanghai(10).astimezone(tz))  # a holiday
    assert daily.is_open(shanghai(10, day=6).astimezone(tz))


def test_quiet_hours_from_a_toml_table() -> None:
    spec = parse_quiet_hours({"mon-fri": "09:00-10:00", "holidays": ["2026-01-06"]})
    tz = ZoneInfo("Asia/Shanghai")
    assert spec.is_open(shanghai(9, 30).astimezone(tz))
    assert not spec.is_open(shanghai(9, 30, day=6).astimezone(tz))


@pytest.mark.parametrize("text", ["mon-fri=9-17", "funday=09:00-10:00", "mon=17:00-09:00", "sat="])
def test_bad_quiet_hours(text: str) -> None:
    with pytest.raises(click.BadParameter, match="quiet hours"):
        parse_quiet_hours(text)


@click.command()
@click.option("--rate")
@click.option("--job", "job_path")
@click.option("--quiet-hours")
@click.option("--concurrency", default=64, type=int)
@click.option("--config", "config_path")
@click.pass_context
def probe(ctx: click.Context, /, **params: Any) -> None:
    apply_config(ctx, params, load_config(Path(params["config_path"])))
    click.echo(repr(sorted(params.items())))


def test_config_fills_what_the_command_line_left_at_its_default(tmp_path: Path) -> None:
    config = tmp_path / "campaign.toml"
    config.write_text(
        'rate = "100/s"\njob = "a.sqlite"\nconcurrency = "8"\n[quiet_hours]\n"mon-fri" = "09:00-17:00"\n'
    )
    result = CliRunner().invoke(probe, ["--config", str(config), "--rate", "5/s"])
    assert result.exit_code == 0, result.output
    out = dict(eval(result.output))  # the repr of a sorted item list
    assert out["rate"] == "5/s"  # the command line wins
    assert out["job_path"] == "a.sqlite"  # found by its option name
    assert out["concurrency"] == 8  # converted by the option's type
    assert out["quiet_hours"] == {"mon-fri": "09:00-17:00"}


def test_config_refuses_unknown_settings_and_bad_toml(tmp_path: Path) -> None:
    config = tmp_path / "campaign.toml"
    config.write_text('speed = "fast"\n')
    result = CliRunner().invoke(probe, ["--config", str(config)])
    assert result.exit_code == 2 and "unknown setting 'speed'" in result.output
    config.write_text("rate = \n")
    result = CliRunner().invoke(probe, ["--config", str(config)])
    assert result.exit_code == 2 and "campaign.toml" in result.output
