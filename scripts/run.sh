#!/usr/bin/env bash
# The main job: set up a fresh machine, then run the park in the loop for a simulated week
# (the twin served as Modbus/OPC UA devices, the gateway, Mosquitto, InfluxDB, the ingestor and
# the controller, all on 127.0.0.1 with authentication) and write its report and dashboards.
# Usage: scripts/run.sh [PARK.yaml] [aisym demo options, e.g. --hours 24 --out demo-out]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/aisym demo "$@"
