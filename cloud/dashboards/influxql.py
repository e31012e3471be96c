"""An InfluxQL target for grafana-foundation-sdk, which ships no InfluxDB query type (its issue #447).

Grafana's InfluxDB datasource reads a target as ``{"refId", "datasource", "query", "rawQuery": true,
"resultFormat", "alias"}``; with ``rawQuery`` the text is sent as written, after Grafana replaces
its macros (``$timeFilter``, ``$__interval``). InfluxQL, not Flux or SQL: it is the one language
InfluxDB 1.x, 2.x (DBRP mapping) and 3.x all answer on ``/query``.
"""

from __future__ import annotations

from typing import Literal

from grafana_foundation_sdk.cog import builder, variants
from grafana_foundation_sdk.models.dashboard import DataSourceRef

DATASOURCE_UID = "aisym-influxdb"
DATASOURCE = DataSourceRef(type_val="influxdb", uid=DATASOURCE_UID)
ResultFormat = Literal["time_series", "table", "logs"]


class InfluxQLQuery(variants.Dataquery):
    """One raw InfluxQL target.

    :param query: InfluxQL; may use ``$timeFilter`` and ``$__interval``
    :param alias: legend pattern (``$tag_node``, ``$col``, ``$m``)
    :param ref_id: the target's letter within its panel
    :param result_format: ``time_series`` for graphs and stats, ``table`` for tables
    """

    def __init__(
        self,
        query: str,
        alias: str = "",
        ref_id: str = "A",
        result_format: ResultFormat = "time_series",
        datasource: DataSourceRef = DATASOURCE,
    ):
        self.query = query
        self.alias = alias
        self.ref_id = ref_id
        self.result_format = result_format
        self.datasource = datasource

    def to_json(self) -> dict[str, object]:
        return {
            "refId": self.ref_id,
            "datasource": self.datasource.to_json(),
            "query": self.query,
            "rawQuery": True,
            "resultFormat": self.result_format,
            "alias": self.alias,
        }


class InfluxQL(builder.Builder[InfluxQLQuery]):
    """Builder for :class:`InfluxQLQuery`, so it plugs into ``panel.with_target(...)`` like the SDK's own."""

    def __init__(self, query: str, alias: str = "", ref_id: str = "A", result_format: ResultFormat = "time_series"):
        self._internal = InfluxQLQuery(query, alias, ref_id, result_format)

    def build(self) -> InfluxQLQuery:
        return self._internal


def quote_ident(name: str) -> str:
    """``"name"`` with InfluxQL identifier escaping."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def quote_str(value: str) -> str:
    """``'value'`` with InfluxQL string escaping."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
