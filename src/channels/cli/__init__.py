"""The ``telco-channels`` command: the composition root, the one place that imports ``channels``,
``throttle`` and ``simulators`` together."""

from channels.cli.main import main

__all__ = ["main"]
