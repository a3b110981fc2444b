"""``telco-channels simulate <gateway>``: run a gateway simulator in the foreground.

Each simulator contributes one click command, defined beside its CLI options in
``channels/cli/sim_<name>.py``; the table below lists them (module, attribute), imported lazily so
``--help`` stays fast.
"""

from __future__ import annotations

import importlib

import click

_SIMULATORS: dict[str, tuple[str, str]] = {
    "smsc": ("channels.cli.sim_smsc", "command"),
    "ppg": ("channels.cli.sim_ppg", "command"),
    "mmsc": ("channels.cli.sim_mmsc", "command"),
    "ussd": ("channels.cli.sim_ussd", "command"),
    "ivr": ("channels.cli.sim_ivr", "command"),
    "all": ("channels.cli.sim_all", "command"),
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*_SIMULATORS, *self.commands])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        target = _SIMULATORS.get(cmd_name)
        if target is None:
            return None
        command = getattr(importlib.import_module(target[0]), target[1])
        assert isinstance(command, click.Command)
        return command


@click.group(cls=_LazyGroup)
def simulate() -> None:
    """Run a gateway simulator (SMSC, MMSC, PPG, IVR, USSD) on loopback."""
