"""Upload the generated dashboards to a Grafana over its HTTP API (grafana-client), with a token.

Idempotent: the datasource is created or updated by its uid, the folder created if missing, and
each dashboard saved with ``overwrite: true`` under its fixed uid, so pushing twice changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import yaml

from ..errors import PushError
from ..ingest.config import secret


def push(url: str, token: str, folder: Path, grafana_folder: str = "AISYM") -> Iterator[str]:
    """Push the datasource and every ``*.json`` of ``folder``; yields one line per object pushed.

    :param url: Grafana base URL (``http://grafana:3000``)
    :param token: a service-account token (Bearer)
    :param folder: the output of ``aisym dashboards build``
    :param grafana_folder: title of the Grafana folder the dashboards go into
    :raises PushError: Grafana refused something (the message names it and the HTTP status)
    """
    from grafana_client import GrafanaApi
    from grafana_client.client import GrafanaClientError, GrafanaException

    boards = sorted(folder.glob("*.json"))
    ds_file = folder / "provisioning" / "datasources" / "aisym.yaml"
    if not boards or not ds_file.exists():
        raise PushError(f"{folder}: no dashboards or no provisioning/datasources/aisym.yaml; run 'aisym dashboards build'")
    api = GrafanaApi.from_url(url, credential=token)
    ds = _datasource(ds_file)
    what = f"datasource {ds['uid']}"
    try:
        try:
            api.datasource.get_datasource_by_uid(ds["uid"])
            api.datasource.update_datasource_by_uid(ds["uid"], ds)
            yield f"updated {what}"
        except GrafanaClientError as e:
            if e.status_code != 404:
                raise
            api.datasource.create_datasource(ds)
            yield f"created {what}"
        folder_uid = "aisym-" + "".join(ch if ch.isalnum() else "-" for ch in grafana_folder.lower())[:30]
        what = f"folder {grafana_folder!r}"
        try:
            api.folder.get_folder(folder_uid)
        except GrafanaClientError as e:
            if e.status_code != 404:
                raise
            api.folder.create_folder(grafana_folder, uid=folder_uid)
            yield f"created {what}"
        for path in boards:
            what = f"dashboard {path.name}"
            board = json.loads(path.read_text())
            api.dashboard.update_dashboard(
                {"dashboard": board, "folderUid": folder_uid, "overwrite": True, "message": "aisym dashboards push"}
            )
            yield f"pushed {what} (uid {board.get('uid')})"
    except GrafanaException as e:
        raise PushError(f"Grafana at {url} refused {what}: HTTP {e.status_code}: {e.message}") from None
    except Exception as e:  # connection refused, DNS, TLS: grafana-client lets niquests' errors through
        if isinstance(e, PushError):
            raise
        raise PushError(f"Grafana at {url} unreachable while pushing {what}: {e}") from None


def _datasource(path: Path) -> dict:
    """The provisioned datasource, with the ``$VAR`` placeholders Grafana would expand filled from our env."""
    ds = dict(yaml.safe_load(path.read_text())["datasources"][0])
    ds.pop("editable", None)
    user, password = secret("INFLUX_USER"), secret("INFLUX_PASSWORD")
    if user:
        ds["user"] = user
    else:
        ds.pop("user", None)
    if password:
        ds["secureJsonData"] = {"password": password}
    else:
        ds.pop("secureJsonData", None)
    return ds
