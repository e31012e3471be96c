"""Secrets from the environment: ``AISYM_<NAME>`` or a file named by ``AISYM_<NAME>_FILE`` (systemd
credentials, Docker secrets), never both. Shared by the cloud services and the CLIs that read
InfluxDB (``aisym match --telemetry``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


class SecretError(ValueError):
    """A secret set twice, unreadable, or missing where required; the message names the variable."""


def secret(name: str, env: Mapping[str, str] | None = None, required: bool = False) -> str | None:
    """The value of ``AISYM_<name>`` or the stripped content of the file ``AISYM_<name>_FILE``.

    :raises SecretError: both are set, the file cannot be read, or a required secret is missing
    """
    env = os.environ if env is None else env
    var, file_var = f"AISYM_{name}", f"AISYM_{name}_FILE"
    value, path = env.get(var), env.get(file_var)
    if value is not None and path is not None:
        raise SecretError(f"both {var} and {file_var} are set: keep one")
    if path is not None:
        try:
            return Path(path).read_text().strip()
        except OSError as e:
            raise SecretError(f"{file_var}={path}: cannot read the secret: {e.strerror}") from None
    if not value and required:
        raise SecretError(f"{var} (or {file_var}, a file holding it) is required")
    return value
