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
    ("frequency: grid.frequency", "frequency: grid.freq",
     "no tag 'grid.freq' in park kraakoya; grid has: energy_import, frequency, import_power"),
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


KALUNDBORG = Path(__file__).resolve().parents[3] / "aisym" / "parks" / "kalundborg.yaml"
PLC_V2 = """id: test_plc_v2
manufacturer: test
model: PLC of a v2 park, values in the device's own units
registers:
  - {name: power_w, fc: 3, address: 0, type: float32, unit: W}
  - {name: heat_kw, fc: 3, address: 2, type: float32, unit: kW}
  - {name: temp_c, fc: 3, address: 4, type: float32, unit: degC}
  - {name: flow_sp, fc: 3, address: 6, type: float32, unit: Nm3/h, write_fc: 16, min: 0, max: 3000}
  - {name: flow_sp_low, fc: 3, address: 8, type: float32, unit: Nm3/h, write_fc: 16, min: 0, max: 1000}
"""


def v2_config(tmp_path: Path, tags: dict[str, str], writes: dict[str, str] | None = None) -> Path:
    (tmp_path / "test_plc_v2.yaml").write_text(PLC_V2)
    lines = ["node: gw-bioenergi", "park: kalundborg", f"park_file: {KALUNDBORG}", f"profiles_dir: {tmp_path}"]
    lines += ["buses:", "  plc: {type: tcp, host: 127.0.0.1}", "devices:"]
    mapping = ", ".join(f"{k}: {v}" for k, v in tags.items())
    lines += [f"  - {{id: plc, bus: plc, profile: test_plc_v2, unit_id: 1, tags: {{{mapping}}}}}"]
    if writes:
        lines += ["setpoints:", "  writes:"] + [f"    {tag}: {target}" for tag, target in writes.items()]
    path = tmp_path / "gw.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_v2_park_validates_tags_units_and_setpoint_bounds(tmp_path):
    # a kW tag wired to a W register and an MW tag to a kW register convert, by pint
    r = load_config(v2_config(tmp_path, {"power_w": "digester.power", "heat_kw": "asv6.dh_out"},
                              {"upgrader.flow_setpoint": "plc.flow_sp"}))
    dev = r.config.devices[0]
    assert r.park.park.id == "kalundborg" and r.park.tags["asv6.dh_out"].unit == "MW"
    assert r.factor(dev, "power_w") == 1e-3 and r.factor(dev, "heat_kw") == pytest.approx(1e-3)
    assert r.write_target("upgrader.flow_setpoint")[2].factor == 1.0
    # a degC register cannot feed a kW tag
    with pytest.raises(ConfigError) as e:
        load_config(v2_config(tmp_path, {"temp_c": "wwtp.power"}))
    assert f"{tmp_path}/gw.yaml:8:74: devices[0].tags.temp_c: temp_c is in degC but wwtp.power in kW" in str(e.value)
    # tags are the v2 park's own; setpoints only to its controllable tags, within its bounds
    with pytest.raises(ConfigError, match=r"no tag 'digester\.powr' in park kalundborg; digester has: biogas_out, ch4, power"):
        load_config(v2_config(tmp_path, {"power_w": "digester.powr"}))
    with pytest.raises(ConfigError, match=r"'digester\.power' is not a controllable tag of the park; controllable: upgrader"):
        load_config(v2_config(tmp_path, {"power_w": "digester.power"}, {"digester.power": "plc.flow_sp"}))
    bounds = r"safe default 1500 Nm3/h of upgrader\.flow_setpoint is outside the limits \[0, 1000\]"
    with pytest.raises(ConfigError, match=bounds):
        load_config(v2_config(tmp_path, {"power_w": "digester.power"}, {"upgrader.flow_setpoint": "plc.flow_sp_low"}))


NODE_V2 = """node: sensor-digester
park: kalundborg
mqtt: {host: 127.0.0.1, port: 1883, username: sensor-digester}
channels:
  - {kind: ds18b20, tag: digester.temp, pin: 13, rom: 28ff641e83160349}
  - {kind: analog, tag: gas_holder.level, pin: 34, signal: 4-20mA, cal: [[12850, 0], [64200, 100]]}
"""


def test_a_node_build_validates_against_a_v2_park(tmp_path):
    from aisym.park.graph import load_graph
    from edge.node.build import build_config, load_node

    path = tmp_path / "node.yaml"
    path.write_text(NODE_V2)
    spec, park, profiles = load_node(path, load_graph(KALUNDBORG))
    cfg = build_config(spec, park, profiles)
    assert [(c["tag"], c["unit"]) for c in cfg["channels"]] == [("digester.temp", "degC"), ("gas_holder.level", "%")]
    path.write_text(NODE_V2.replace("tag: digester.temp,", "tag: digester.temperature,"))
    where = r"node\.yaml:5:\d+: channels\[0\]\.tag: no tag 'digester\.temperature' in park kalundborg"
    with pytest.raises(ConfigError, match=where):
        load_node(path, load_graph(KALUNDBORG))
