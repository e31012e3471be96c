"""AISYM core: what the edge, cloud and sim_env packages share.

- :mod:`aisym.park`: the park description (assets, tags, exchanges, climate, market);
- :mod:`aisym.contract`: the telemetry contract (MQTT topics, JSON payloads, InfluxDB mapping);
- :mod:`aisym.services`: run Mosquitto and InfluxDB as plain local processes;
- :mod:`aisym.cli`: the ``aisym`` command line.
"""

__version__ = "0.1.0"
