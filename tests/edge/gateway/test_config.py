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
    # issue 10, finding 11: one unit id per serial line; strict numbers
    ("unit_id: 3", "unit_id: 2", "unit id 2 is already used on serial bus rs485 by ras-heat-meter"),
    ("unit_id: 3", "unit_id: true", "a number is required, not the boolean true"),
    ("poll_s: 10", "poll_s: true", "a number is required, not the boolean true"),
    ("port: 502", "port: true", "a number is required, not the boolean true"),
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


PLC = """id: test_plc
manufacturer: test
model: PLC with setpoints in several units
registers:
  - {name: feedback, fc: 3, address: 2, type: float32, unit: kW}
  - {name: temp_c, fc: 3, address: 10, type: float32, unit: degC, write_fc: 16}
  - {name: power_w, fc: 3, address: 12, type: float32, unit: W, write_fc: 16}
  - {name: temp_k, fc: 3, address: 14, type: float32, unit: K, write_fc: 16, min: 284.15, max: 288.15}
  - {name: temp_k_narrow, fc: 3, address: 16, type: float32, unit: K, write_fc: 16, min: 287.15, max: 288.15}
"""


def plc_config(tmp_path: Path, writes: dict[str, str]) -> Path:
    (tmp_path / "test_plc.yaml").write_text(PLC)
    lines = ["node: gw-test", "park: kraakoya", f"profiles_dir: {tmp_path}", "buses:", "  plc: {type: tcp, host: 127.0.0.1}"]
    lines += ["devices:", "  - {id: plc, bus: plc, profile: test_plc, unit_id: 1, tags: {feedback: chp.power_el}}"]
    lines += ["setpoints:", "  writes:"] + [f"    {tag}: {target}" for tag, target in writes.items()]
    path = tmp_path / "gw.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_setpoint_units_must_convert_and_device_limits_must_hold_the_safe_default(tmp_path):
    # finding 8: a kW setpoint wired to a degC register was accepted and written unconverted
    with pytest.raises(ConfigError) as e:
        load_config(plc_config(tmp_path, {"chp.power_setpoint": "plc.temp_c"}))
    line = next(x for x in str(e.value).splitlines() if "setpoints.writes" in x)
    assert line.strip().startswith(f"{tmp_path}/gw.yaml:10:25: setpoints.writes.chp.power_setpoint: "), line
    assert "chp.power_setpoint is in kW but test_plc.temp_c in degC: no conversion" in line
    # kW -> W and degC -> K convert: the write and the read-back go through the conversion
    r = load_config(plc_config(tmp_path, {"chp.power_setpoint": "plc.power_w", "ras.temp_setpoint": "plc.temp_k"}))
    _dev, _reg, conv = r.write_target("chp.power_setpoint")
    assert (conv.factor, conv.offset, conv.to_device(50.0)) == (1e-3, 0.0, 50_000.0)
    _dev, _reg, conv = r.write_target("ras.temp_setpoint")
    assert conv.to_device(13.0) == pytest.approx(286.15) and conv.to_park(286.15) == pytest.approx(13.0)
    # a device range (14-15 degC) without the park's safe default (13 degC) would refuse the fallback
    with pytest.raises(ConfigError, match=r"safe default 13 degC of ras.temp_setpoint is outside the limits \[14, 15\] degC"):
        load_config(plc_config(tmp_path, {"ras.temp_setpoint": "plc.temp_k_narrow"}))
