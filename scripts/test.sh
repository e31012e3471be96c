#!/usr/bin/env bash
# Run the whole AISYM test suite on a fresh machine: set up, lint, then pytest against the
# real Mosquitto, InfluxDB, pymodbus, asyncua and MicroPython. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/ruff check .
exec .venv/bin/python -m pytest -q -ra "$@"
