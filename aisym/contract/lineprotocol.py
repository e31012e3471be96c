"""Mapping of contract messages to InfluxDB line protocol (v1 ``/write``, ``precision=ms``).

Telemetry: one point per reading.

| line protocol | from                          | example                    |
|---------------|-------------------------------|----------------------------|
| measurement   | asset id (tag before the dot) | ``heat_store``             |
| tag ``company`` | the park's owner of the asset | ``park_energy``          |
| tag ``node``  | message ``node``              | ``gw-plantroom``           |
| tag ``park``  | message ``park``              | ``kraakoya``               |
| tag ``signal`` | tag name after the dot (``tag`` is an InfluxQL keyword) | ``temp_top`` |
| tag ``unit``  | reading ``unit``              | ``degC``                   |
| field ``value`` | float, absent when null     | ``61.2``                   |
| field ``quality`` | string                    | ``"good"``                 |
| field ``seq`` | integer                       | ``1041i``                  |
| field ``ts_synced`` | boolean, only when false | ``false``                 |
| timestamp     | reading ``ts``, ms            | ``1732370000000``          |

Point identity is measurement + tag set + timestamp, and every tag value is fixed per series, so a
replayed reading overwrites itself instead of being stored twice. Series count is assets × tags
× nodes: low and bounded by the park description.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..park import ParkView
from .payload import Health, Telemetry

PRECISION = "ms"
TELEMETRY_TAG_KEYS = ("company", "node", "park", "signal", "unit")

_MEAS = str.maketrans({",": r"\,", " ": r"\ ", "\n": r"\n"})
_TAG = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\n": r"\n"})


def _fmt_float(x: float) -> str:
    r = repr(float(x))
    return r if ("." in r or "e" in r) else r + ".0"


def _fmt_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def point(measurement: str, tags: dict[str, str], fields: dict[str, float | int | str | bool], ts_ms: int) -> str:
    """One line of line protocol. Tags are sorted (InfluxDB's preferred order); empty tags are left out."""
    tag_part = "".join(f",{k.translate(_TAG)}={v.translate(_TAG)}" for k, v in sorted(tags.items()) if v != "")
    field_parts = []
    for k, v in fields.items():
        if isinstance(v, bool):
            s = "true" if v else "false"
        elif isinstance(v, int):
            s = f"{v}i"
        elif isinstance(v, float):
            s = _fmt_float(v)
        else:
            s = _fmt_str(v)
        field_parts.append(f"{k.translate(_TAG)}={s}")
    if not field_parts:
        raise ValueError(f"point {measurement} at {ts_ms} has no field")
    return f"{measurement.translate(_MEAS)}{tag_part} {','.join(field_parts)} {ts_ms}"


def telemetry_points(msg: Telemetry, park: ParkView | None = None) -> Iterator[str]:
    """Line protocol for every reading of a telemetry message."""
    company_of = park.company_of if park is not None else {}
    for r in msg.readings:
        asset, name = r.tag.split(".", 1)
        fields: dict[str, float | int | str | bool] = {}
        if r.value is not None:
            fields["value"] = float(r.value)
        fields["quality"] = r.quality
        fields["seq"] = r.seq
        if not r.ts_synced:
            fields["ts_synced"] = False
        tags = {"company": company_of.get(asset, ""), "node": msg.node, "park": msg.park, "signal": name, "unit": r.unit}
        yield point(asset, tags, fields, r.ts)


def health_points(msg: Health, park_id: str) -> Iterator[str]:
    """A node's counters as one ``node_health`` point (every counter a float field)."""
    if msg.counters:
        yield point("node_health", {"park": park_id, "node": msg.node}, {k: float(v) for k, v in msg.counters.items()}, msg.ts)


def check_against_park(msg: Telemetry, park: ParkView) -> Iterable[tuple[str, str]]:
    """(field, reason) for each reading that the park does not know or measures in another unit."""
    if msg.park != park.park.id:
        yield "park", f"message is for park {msg.park!r}, this is {park.park.id!r}"
        return
    for i, r in enumerate(msg.readings):
        tag = park.tags.get(r.tag)
        if tag is None:
            yield f"readings[{i}].tag", f"no tag {r.tag!r} in park {park.park.id}"
        elif tag.unit != r.unit:
            yield f"readings[{i}].unit", f"{r.tag} is measured in {tag.unit!r}, not {r.unit!r}"


def range_slack(low: float, high: float) -> float:
    """The rounding a converted value may carry past its tag's bounds (the gateway's own rule)."""
    return 1e-9 * max(1.0, abs(low), abs(high))


def range_problem(value: float | None, low: float, high: float) -> str | None:
    """Why a ``good`` value is not one of its tag's ``[low, high]`` (None: it is, or it has no value).

    The gateway marks a value outside its tag's min/max ``out_of_range`` itself, so a ``good`` one
    out there comes from a broken converter, a wrong device or a lying sender.
    """
    slack = range_slack(low, high)
    if value is not None and not low - slack <= value <= high + slack:
        return f"{value!r} is outside the tag's range [{low:g}, {high:g}] but marked good"
    return None


def check_ranges(msg: Telemetry, park: ParkView) -> Iterable[tuple[str, str]]:
    """(field, reason) for each ``good`` reading whose value lies outside its tag's min/max in ``park``.

    Tags the park does not know are :func:`check_against_park`'s to report; they are skipped here.
    The ingestor and the controller refuse such a message with code ``out_of_range``.
    """
    tags = park.tags
    for i, r in enumerate(msg.readings):
        if r.quality != "good" or r.value is None:
            continue
        tag = tags.get(r.tag)
        if tag is not None and not tag.min <= r.value <= tag.max:  # the common case costs one comparison
            why = range_problem(r.value, tag.min, tag.max)
            if why:
                yield f"readings[{i}].value", f"{r.tag}: {why}"
