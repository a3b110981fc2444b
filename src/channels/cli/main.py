"""Top-level click group; subcommands live in their own modules."""

from __future__ import annotations

import click

from channels.cli.demo import demo
from channels.cli.loadtest import command as loadtest
from channels.cli.send import command as send
from channels.cli.simulate import simulate


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="telco-channels")
def cli() -> None:
    """telco-channels: campaigns over SMS, MMS, WAP push, IVR and USSD, and their gateway simulators."""


cli.add_command(simulate)
cli.add_command(demo)
cli.add_command(send)
cli.add_command(loadtest)


def main() -> None:
    cli(prog_name="telco-channels")
