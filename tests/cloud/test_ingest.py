"""Ingest through the real Mosquitto into the real InfluxDB: counts, seqs, gaps, health series."""

from __future__ import annotations

from tests.conftest import PARK_ID

from .helpers import messages, publish_all, publisher, seqs_in_influx, telemetry, wait_for


def test_n_readings_in_exactly_n_points_out(mosquitto, influxdb, influx, make_ingestor, unique_id):
    ing = make_ingestor(mosquitto, influxdb.url, influx.database)
    wait_for(lambda: ing.connected, 5, "ingestor connected")
    pub = publisher(mosquitto, "node-a", f"{unique_id}-pub")
    n_msgs, per = 200, 25
    publish_all(pub, "node-a", messages("node-a", n_msgs, per))
    pub.close()
    n = n_msgs * per
    wait_for(lambda: ing.counters.acks >= n_msgs, 20, "all messages acked")
    assert seqs_in_influx(influx, "node-a") == list(range(n))
    assert ing.counters.points_written >= n
    assert ing.counters.dead_letters == 0
    assert ing.processor.tracker.duplicates_total == 0
