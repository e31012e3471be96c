#!/usr/bin/env bash
# The main job: set up, validate the park description and print its assets, tags and exchanges.
# Usage: scripts/run.sh [PARK.yaml]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/aisym park show "$@"
