"""Gateway configs: the sample validates; each kind of mistake is named with its file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.gateway.config import load_config, parse_config
from edge.profiles import ConfigError

SAMPLE = Path(__file__).resolve().parents[3] / "edge" / "gateway" / "sample.yaml"


def test_sample_config_matches_the_default_park():
    r = load_config(SAMPLE)
    assert r.config.node == "gw-plantroom" and len(r.config.devices) == 5
    grid = r.config.devices[0]
    assert r.factor(grid, "total_active_power") == 1e-3  # W -> kW from the units
    assert r.factor(grid, "frequency") == 1.0


def mutated(old: str, new: str) -> str:
    text = SAMPLE.read_text()
    assert old in text, old
    return text.replace(old, new, 1)


# (text in the sample, replacement, expected message); the error must point at the replaced line
CASES = [
    ("frequency: grid.frequency", "frequency: grid.freq", "no tag 'grid.freq' in park kraakoya; grid has: import_power"),
    ("ph: ras.ph", "ph_value: ras.ph", "profile seeed_sensecap_s_ph_01 has no value 'ph_value'; it has: temperature, ph"),
    ("profile: tuf_2000m", "profile: tuf_3000", "no such device profile; shipped profiles:"),
    ("flow_rate: ras.makeup_flow", "flow_rate: ras.heat_in", "flow_rate is in m3/h but ras.heat_in in kW"),
    ("bus: chp_plc", "bus: plc2", "no bus 'plc2'; buses: rs485, chp_plc"),
    ("heat_power: ras.heat_in", "heat_power: grid.frequency", "is already fed by devices.0.tags"),
    ("chp.power_setpoint: chp.setpoint", "chp.power_setpoint: chp.feedback", "is read-only"),
    ("chp.power_setpoint: chp.setpoint", "chp.power_el: chp.setpoint", "not a controllable tag"),
    ("password_file: /etc/aisym/mqtt-password", "password: s3cret", "'password' must not be written"),
    ("park: kraakoya", "park: other_park", "the park description is 'kraakoya', not 'other_park'"),
    ("unit_id: 3", "unit_id: 0", "Input should be greater than or equal to 1 (got 0)"),
    ("baudrate: 9600", "baudrate: 9601", "Input should be 1200, 2400"),
    ("poll_s: 10", "pol_s: 10", "unknown field (check its spelling)"),
    ("  - id: ras-ph", "  - id: grid-meter", "device id 'grid-meter' is used twice"),
]
# a model-level refusal points at the mapping it is about (here: the broker section)
AT = {"password: s3cret": "host: cloud.example.org"}


@pytest.mark.parametrize("old,new,message", CASES, ids=[c[2][:30] for c in CASES])
def test_bad_configs_are_located(old, new, message):
    text = mutated(old, new)
    at = AT.get(new, new)
    with pytest.raises(ConfigError) as e:
        parse_config(text, "gw.yaml")
    msg = str(e.value)
    assert message in msg, msg
    occurrences = [i for i, line in enumerate(text.splitlines(), 1) if at in line]
    assert any(f"gw.yaml:{n}:" in msg for n in occurrences), msg


def test_yaml_errors_and_empty_documents(tmp_path):
    with pytest.raises(ConfigError, match=r"gw\.yaml:\d+:\d+: <document>: YAML syntax"):
        parse_config("node: a\npark: kraakoya\ndevices: [\n", "gw.yaml")
    with pytest.raises(ConfigError, match="the document is empty"):
        parse_config("", "gw.yaml")
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match=r"found duplicate key 'node'"):
        parse_config("node: a\nnode: b\npark: kraakoya\n", "gw.yaml")
