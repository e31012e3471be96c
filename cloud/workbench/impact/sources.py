"""Where each month's amount of an exchange comes from: its meter in InfluxDB, else the park's twin.

- **metered**: the exchange's ``meter_tag`` (``asset.signal``) has good readings in the month.
  Readings are where the ingestor writes them (:mod:`aisym.contract.lineprotocol`: measurement =
  asset, tags ``park`` and ``signal``, fields ``value`` and ``quality``), read through the
  workbench's read-only account (:func:`cloud.workbench.parks.telemetry.influx_from_env`). The
  month's amount is the sum of its hourly means × 1 h, in the tag's unit converted to the flow's
  canonical unit; hours without a reading add nothing, and how many hours had one is reported.
- **twin**: the compiled twin of the park runs its year under the generic rules (the
  ``aisym twin run --strategy rule`` harness, :func:`sim_env.graph.evaluate.evaluate`), one month
  at a time with the stores carried over, and each exchange's ``flow:<id>`` is summed per month of
  the 365-day modelling year.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np

from aisym.park.graph.carriers import FLOW_UNITS, equivalences

MONTH_HOURS = tuple(d * 24 for d in (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31))  # the twin's 8,760 h year


def twin_months(graph, exchange_ids: list[str], *, hours: float = 8760.0, seed: int = 0,
                candidates: list | None = None, progress=None) -> dict[str, list[float | None]]:
    """Each exchange's amount per month of the twin's year (canonical amount; None: month not simulated).

    :param graph: the resolved park
    :param hours: how much of the year to run; only whole months are reported
    :param candidates: :class:`sim_env.graph.sweep.Candidate` s the park also runs (the pipeline's
        running exchanges not yet in its file), added switched on
    :param progress: called with (months done, months to run) after each month
    """
    from sim_env.graph.baselines import make_graph_strategy
    from sim_env.graph.compile import compile_park
    from sim_env.graph.evaluate import evaluate

    mask = None
    if candidates:
        from sim_env.graph.sweep import with_candidates
        from sim_env.match.simulate import park_doc

        cp, masks = with_candidates(park_doc(graph), candidates, graph.id)
        mask = masks.max(axis=0)  # row 0 is the park as it is; each further row switches one candidate on
    else:
        cp = compile_park(graph)
    rules = make_graph_strategy("rule")
    out: dict[str, list[float | None]] = {e: [None] * 12 for e in exchange_ids}
    start, state = 0, None
    todo = sum(1 for i in range(12) if sum(MONTH_HOURS[:i + 1]) <= hours)
    for month, h in enumerate(MONTH_HOURS):
        if start + h > hours:
            break
        res = evaluate(rules, cp, hours=h, start=start, mask=mask, state0=state, exo_seed=seed)
        state = res.levels_end  # the next month starts with the stores where this one left them
        for e in exchange_ids:
            out[e][month] = res.totals.get(f"flow:{e}", 0.0)
        start += h
        if progress is not None:
            progress(month + 1, todo)
    return out


def meter_factor(graph, tag_id: str, carrier) -> float:
    """Canonical flow per unit of the meter tag (through the carrier's density or heating value
    where the park states one). :raises ValueError: a tag that does not measure the flow"""
    from aisym.park.quantity import registry

    tag = graph.tags.get(tag_id)
    if tag is None:
        raise ValueError(f"meter_tag {tag_id}: no such tag in the park")
    want = FLOW_UNITS[carrier.resource]
    ureg = registry()
    q = ureg.Quantity(1.0, tag.unit if tag.unit != "1" else "dimensionless")
    for f in (ureg.Quantity(1.0, "dimensionless"), *(ureg.Quantity(v, u) for v, u in equivalences(carrier))):
        for cand in (q * f, q / f):
            try:
                return float(cand.to(want).magnitude)
            except Exception:  # pint's DimensionalityError: try the next equivalence
                continue
    raise ValueError(f"meter_tag {tag_id}: {tag.unit} does not convert to {want}")


def month_bounds(months: list[tuple[int, int]], tz: str) -> tuple[str, str]:
    """The UTC instants (RFC 3339) from the first month's start to the last month's end, in the park's zone."""
    zone = ZoneInfo(tz)
    (y0, m0), (y1, m1) = months[0], months[-1]
    first = datetime(y0, m0, 1, tzinfo=zone)
    last = datetime(y1, m1, calendar.monthrange(y1, m1)[1], tzinfo=zone)
    end = datetime.fromtimestamp(last.timestamp() + 86400, UTC)
    return first.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), end.strftime("%Y-%m-%dT%H:%M:%SZ")


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def meter_months(client, graph, park_id: str, exchanges: list, months: list[tuple[int, int]],
                 tz: str) -> dict[str, dict[tuple[int, int], tuple[float, int]]]:
    """Each metered exchange's ``{(year, month): (amount, hours with a reading)}`` from InfluxDB.

    Months without a good reading are absent. :raises aisym.influx.InfluxError: InfluxDB refused
    or could not be reached; ValueError: a meter that does not measure its flow
    """
    start, stop = month_bounds(months, tz)
    zone, wanted = ZoneInfo(tz), set(months)
    out: dict[str, dict[tuple[int, int], tuple[float, int]]] = {}
    for x in exchanges:
        if not x.meter_tag:
            continue
        factor = meter_factor(graph, x.meter_tag, x.carrier)
        asset, signal = x.meter_tag.split(".", 1)  # identifiers of the park: checked by its loader
        rows = client.rows(
            f'SELECT mean("value") AS v FROM "{asset}" WHERE "park" = {_quote(park_id)} AND "signal" = {_quote(signal)} '
            f"AND \"quality\" = 'good' AND time >= '{start}' AND time < '{stop}' GROUP BY time(1h) fill(none)")
        sums: dict[tuple[int, int], list[float]] = {}
        for r in rows:
            when = datetime.fromtimestamp(r["time"] / 1000.0, zone)
            key = (when.year, when.month)
            if key in wanted and r["v"] is not None:
                sums.setdefault(key, []).append(r["v"] * factor)  # an hourly mean × 1 h is the hour's amount
        out[x.id] = {k: (float(np.sum(v)), len(v)) for k, v in sums.items()}
    return out
