"""Tag ownership: a node may report only its own tags (from the ownership file, gateway and node configs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cloud.errors import ConfigError
from cloud.ingest.ownership import load_ownership
from tests.conftest import PARK_ID

from .helpers import PARK, TS0, publish_all, publisher, seqs_in_influx, wait_for

ROOT = Path(__file__).resolve().parents[2]
GATEWAY_SAMPLE = ROOT / "edge" / "gateway" / "sample.yaml"
NODE_SAMPLE = ROOT / "edge" / "node" / "sample.yaml"


def _tm(node: str, tags: list[str], seq0: int) -> bytes:
    readings = [
        {"tag": t, "value": PARK.tags[t].min, "unit": PARK.tags[t].unit, "ts": TS0 + s, "quality": "good", "seq": s}
        for s, t in enumerate(tags, start=seq0)
    ]
    return json.dumps({"v": 1, "park": PARK_ID, "node": node, "readings": readings}).encode()


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "ownership.yaml"
    p.write_text(text)
    return p


def test_readings_for_tags_a_node_does_not_own_are_dead_lettered(mosquitto, influxdb, influx, make_ingestor, tmp_path):
    own = _write(
        tmp_path,
        f"park: {PARK_ID}\nnodes:\n  node-a: [heat_store.soc, heat_store.heat_flow]\n  node-b: ['chp.*']\n"
        f"node_configs: [{NODE_SAMPLE}]\n",
    )
    ing = make_ingestor(mosquitto, influxdb.url, influx.database, ownership_file=own)
    wait_for(lambda: ing.connected, 5, "ingestor connected")
    sent = {  # node -> [(payload, expected: None = stored, else (field, code, fragment))]
        "sensor-node": [
            (_tm("sensor-node", ["ras.ph", "heat_store.temp_top"], 0), None),
            (_tm("sensor-node", ["ras.ph", "chp.power_el"], 10), ("readings[1].tag", "belongs to node 'node-b'")),
        ],
        "node-a": [
            (_tm("node-a", ["heat_store.soc"], 0), None),
            (_tm("node-a", ["digester.temp"], 10), ("readings[0].tag", "'digester.temp' is assigned to no node")),
        ],
        "gw-test": [(_tm("gw-test", ["ras.ph"], 0), ("topic", "'gw-test' is not a node of"))],
    }
    for node, items in sent.items():
        pub = publisher(mosquitto, node, node)
        publish_all(pub, node, [p for p, _ in items])
        pub.close()
    refused = [(p, e) for items in sent.values() for p, e in items if e]
    letters = lambda: [d for d in ing.store.dead_letters(100) if d.topic.endswith("/telemetry")]  # noqa: E731
    wait_for(lambda: len(letters()) >= len(refused), 10, "dead letters")
    by_payload = {d.payload: d for d in letters()}
    for payload, (field, fragment) in refused:
        d = by_payload[payload]
        assert d.field == field and fragment in d.reason and d.code in ("ownership", "unknown_node"), (d.field, d.reason)
    assert seqs_in_influx(influx, "sensor-node") == [0, 1]
    assert seqs_in_influx(influx, "node-a") == [0]
    assert seqs_in_influx(influx, "gw-test") == []


def test_ownership_from_gateway_config_and_wildcards(tmp_path):
    own = load_ownership(_write(tmp_path, f"nodes:\n  node-b: ['digester.*']\ngateway_configs: [{GATEWAY_SAMPLE}]\n"), PARK)
    assert own.owner_of["grid.frequency"] == "gw-plantroom" and own.owner_of["digester.ph"] == "node-b"
    assert own.problem("gw-plantroom", "grid.frequency") is None
    assert "belongs to node 'gw-plantroom', not 'node-b'" in own.problem("node-b", "grid.frequency")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("nodes:\n  a: [ras.ph]\n  b: [ras.ph]\n", "tag 'ras.ph' is claimed by nodes 'a' and 'b'"),
        ("nodes:\n  node-a: [ras.colour]\n", "ownership.yaml:2:11: nodes.node-a: no tag 'ras.colour' in park kraakoya"),
        ("nodes:\n  node-a: [nothing.*]\n", "no tag 'nothing.*'"),
        ("park: otherpark\n", "ownership.yaml:1:7: park: the park description is 'kraakoya', not 'otherpark'"),
        ("nodes:\n  Node A: [ras.ph]\n", "nodes.Node A: String should match pattern"),
        ("nodez: {}\n", "unknown field"),
        (f"gateway_configs: [{GATEWAY_SAMPLE}]\nnode_configs: [{NODE_SAMPLE}]\n", "is claimed by nodes"),
        ("gateway_configs: [missing.yaml]\n", "gateway config missing.yaml"),
    ],
)
def test_ownership_file_errors_name_the_file_and_field(tmp_path, text, words):
    with pytest.raises(ConfigError) as info:
        load_ownership(_write(tmp_path, text), PARK)
    assert words in str(info.value)


def test_cli_refuses_a_bad_ownership_file_before_touching_state(tmp_path):
    from typer.testing import CliRunner

    from aisym.cli import app

    own = _write(tmp_path, "nodes:\n  node-a: [ras.colour]\n")
    state = tmp_path / "state"
    args = ["ingest", "--ownership", str(own), "--state-dir", str(state)]
    r = CliRunner().invoke(app, args, env={"AISYM_MQTT_PASSWORD": "x"})
    assert r.exit_code == 2 and "ownership.yaml:2:11: nodes.node-a: no tag 'ras.colour'" in r.output
    assert not state.exists()
