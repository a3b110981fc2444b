"""Where ``bench/setup.sh`` puts the peers (``bench/.peers/``), and how to start their processes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
PEERS = BENCH / ".peers"
NODE_MODULES = PEERS / "node" / "node_modules"
PY_TARGET = PEERS / "py"
PY_SPY = PY_TARGET / "bin" / "py-spy"


def node_command(script: str, node_modules: Path | None = None) -> tuple[list[str], dict[str, str]] | None:
    """argv and environment to run one of our node peer scripts, or None if node or smpp is missing."""
    node = shutil.which("node")
    modules = node_modules or NODE_MODULES
    if node is None or not (modules / "smpp" / "package.json").exists():
        return None
    return [node, str(HERE / script)], {**os.environ, "NODE_PATH": str(modules)}


def aiosmpplib_installed() -> bool:
    return any(PY_TARGET.glob("aiosmpplib-*.dist-info"))
