#!/usr/bin/env bash
# Install the benchmark's peers into bench/.peers/ (git-ignored), from the registries, pinned:
#   node/  npm "smpp" 0.5.1 (node-smpp: its client and its server are peers of ours)
#   py/    aiosmpplib 0.7.4 (an asyncio ESME from PyPI) and py-spy 0.4.3 (the sampling profiler)
# The project's venv is left alone: the peer processes put py/ on their path themselves.
# Idempotent: what is installed at the pinned version is not installed again.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
peers="$here/.peers"
mkdir -p "$peers/node" "$peers/py"
python="${PYTHON:-python3}"

if [ ! -f "$peers/node/node_modules/smpp/package.json" ] \
    || ! grep -q '"version": "0.5.1"' "$peers/node/node_modules/smpp/package.json"; then
    command -v npm >/dev/null || { echo "setup: npm is needed (apt-get install nodejs npm)" >&2; exit 1; }
    npm install --prefix "$peers/node" --no-audit --no-fund --loglevel=error smpp@0.5.1
fi

if [ ! -d "$peers/py/aiosmpplib-0.7.4.dist-info" ] || [ ! -x "$peers/py/bin/py-spy" ]; then
    "$python" -m pip install --quiet --disable-pip-version-check --upgrade \
        --target "$peers/py" aiosmpplib==0.7.4 py-spy==0.4.3
fi

echo "setup: peers ready in $peers"
