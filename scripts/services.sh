#!/usr/bin/env bash
# Local Mosquitto + InfluxDB as plain processes under .aisym/services (no systemd needed).
#   scripts/services.sh install   apt-get install mosquitto influxdb socat
#   scripts/services.sh up        start both (password file, per-account ACL, TLS with a local CA, InfluxDB auth)
#   scripts/services.sh up --tls-only    the same without a plain MQTT listener (see docs/services.md)
#   scripts/services.sh check USER TOPIC [--subscribe]   what the ACL lets USER publish or receive
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
