"""The park's controller: measured state in, setpoints out over MQTT (``aisym control``)."""
