"""Errors of the cloud side (ingestor, dashboards). Each names the setting, file or field at fault."""

from __future__ import annotations


class CloudError(Exception):
    """Base of the errors raised by :mod:`cloud`."""


class ConfigError(CloudError):
    """A setting that is missing or contradictory, e.g. both ``AISYM_MQTT_PASSWORD`` and ``..._FILE``."""


class PushError(CloudError):
    """Grafana refused a dashboard or a datasource (the message names which, and the HTTP status)."""
