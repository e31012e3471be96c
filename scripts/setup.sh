#!/usr/bin/env bash
# Set up a fresh machine for AISYM: Debian services (Mosquitto, InfluxDB, socat) and a venv
# in .venv with every extra. Idempotent: re-running skips what is already there.
# Usage: scripts/setup.sh            (source it or run it; prints the venv's python)
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for bin in mosquitto:mosquitto influxd:influxdb socat:socat mosquitto_passwd:mosquitto chromium:chromium; do
  command -v "${bin%%:*}" >/dev/null 2>&1 || [ -x "/usr/sbin/${bin%%:*}" ] || need_apt+=("${bin##*:}")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]} from Debian" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq mosquitto mosquitto-clients influxdb influxdb-client socat chromium >/dev/null
fi
# The workbench's tests check its translations with msgfmt (tests/workbench/test_i18n.py) and run
# its tenancy tests on a real PostgreSQL too (tests/workbench/test_postgres.py; no service is started);
# the action plan's PDF is checked page by page through poppler's pdftoppm and pdftotext.
if ! command -v msgfmt >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
    || ! command -v pdftoppm >/dev/null 2>&1; then
  echo "setup: installing gettext, postgresql and poppler-utils from Debian" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq gettext postgresql poppler-utils >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  "$PY" -m venv .venv
fi
stamp=.venv/.aisym-installed
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing aisym and its dependencies into .venv (torch==2.13.0 pinned in the same command)" >&2
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  # torch is pinned in the same pip command as stable-baselines3, or pip pulls a CUDA build.
  .venv/bin/python -m pip install -q "torch==2.13.0" -e ".[all]"
  # The forecasts' libraries (the `forecast` extra) beside PyPSA: statsforecast 2.1.1 and fugue
  # 0.9.7 declare pandas<3, PyPSA 1.4 needs pandas>=3, so pip cannot resolve both. The parts used
  # (statsforecast's numpy-level MSTL/AutoARIMA) run on pandas 3.1 (tests/sim_env/test_forecast.py):
  # their own dependencies the normal way, then the two capped packages without theirs.
  .venv/bin/python -m pip install -q coreforecast==0.0.20 utilsforecast==0.2.17 triad==1.0.4 adagio==0.2.6 \
    lightgbm==4.7.0 statsmodels==0.15.0 cloudpickle threadpoolctl
  .venv/bin/python -m pip install -q --no-deps statsforecast==2.1.1 fugue==0.9.7 pmdarima==2.1.1 eemeter==4.1.1
  # Board stubs share file names, so the Pico W's go apart (tests/edge/firmware/test_types.py).
  rm -rf .venv/stubs/micropython-rp2-rpi-pico-w-stubs
  .venv/bin/python -m pip install -q --no-deps --target .venv/stubs/micropython-rp2-rpi-pico-w-stubs \
    "micropython-rp2-rpi-pico-w-stubs>=1.24"
  echo "$want" > "$stamp"
fi
