"""The Raspberry Pi park gateway: Modbus TCP/RTU and OPC UA in, SQLite spool, MQTT v5 out.

Modules: ``config`` (YAML validated against the park and the device profiles), ``modbus``
(per-device pollers), ``opcua`` (subscriptions), ``spool`` (store-and-forward), ``mqtt``
(uplink with a sliding window), ``setpoints`` (commands, safe defaults), ``gateway`` (wiring),
``cli`` (``aisym gateway scan|probe|validate|run``). See docs/gateway.md.
"""
