#!/usr/bin/env bash
# Local Mosquitto + InfluxDB as plain processes under .aisym/services (no systemd needed).
#   scripts/services.sh install   apt-get install mosquitto influxdb socat
#   scripts/services.sh up        start both (password file, per-node ACL, TLS with a local CA)
#   scripts/services.sh status    PIDs and ports
#   scripts/services.sh down      stop both by PID
set -euo pipefail
cd "$(dirname "$0")/.."
cmd=${1:-up}; shift || true
if [ "$cmd" = install ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq mosquitto mosquitto-clients influxdb influxdb-client socat
  exit 0
fi
scripts/setup.sh
exec .venv/bin/aisym services "$cmd" "$@"
