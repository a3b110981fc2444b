#!/usr/bin/env bash
# The benchmark of issue 10, start to finish: install the peers (bench/setup.sh), then every figure with
# warm-up and several rounds, one table of medians and ratios on stdout (progress on stderr).
#   bench/run.sh                      full run (5 rounds; about 10 minutes on 2 busy cores)
#   bench/run.sh --profile            plus one py-spy profile of our client, our SMSC and MM7
#   bench/run.sh --smoke              CI mode: one small round of everything, a proof that it runs
#   bench/run.sh --only clients --reps 3   (see python -m bench --help)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${VIRTUAL_ENV:-}" ] && [ -f .venv/bin/activate ]; then
    # shellcheck disable=SC1091
    . .venv/bin/activate
fi
bash bench/setup.sh >&2
exec python -m bench "$@"
