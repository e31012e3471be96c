"""Batched writes to InfluxDB (v1 ``/write``) that sort failures into "later" and "never".

- **Retryable** (unreachable, 408, 429, 5xx): the caller spills the batch and retries it with
  :class:`Backoff` (exponential, full jitter, at least the server's ``Retry-After``). Telegraf has
  no backoff (#9353) and retries a missing database for ever (#9211): here a 404 "database not
  found" is retryable but backed off, and the database is (re)created when the server allows it.
- **Refused** (any other 4xx: a field type conflict, a line InfluxDB cannot parse, 413 too large):
  the batch is bisected until each refused line is alone, and those lines become dead letters.
  Halves that InfluxDB accepts are written; rewriting a point already stored by a partial write is
  harmless, since a point's identity is its series and time.
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass, field

from aisym.influx import InfluxError, InfluxV1

from .store import DeadLetter


@dataclass
class Backoff:
    """Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter").

    :param initial_s: first ceiling of the wait (s)
    :param max_s: largest ceiling (s)
    """

    initial_s: float = 0.5
    max_s: float = 30.0
    attempts: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def next_wait(self, retry_after: float | None = None) -> float:
        ceiling = min(self.max_s, self.initial_s * 2**self.attempts)
        self.attempts += 1
        wait = self.rng.uniform(ceiling / 2, ceiling)  # half-jitter: never hammer at once
        return max(wait, retry_after or 0.0)

    def reset(self) -> None:
        self.attempts = 0


@dataclass
class WriteResult:
    written: int = 0
    refused: list[DeadLetter] = field(default_factory=list)


class Writer:
    """:param client: the InfluxDB v1 client (its database is created on a 404)"""

    def __init__(self, client: InfluxV1):
        self.client = client
        self.requests = 0

    def write(self, lines: list[str]) -> WriteResult:
        """Write a batch. Raises :class:`InfluxError` (``retryable``) when it should be retried as a whole."""
        try:
            return WriteResult(written=self._post(lines))
        except InfluxError as e:
            if _retryable(e):
                raise
            return self._bisect(lines, e)

    def _post(self, lines: list[str]) -> int:
        self.requests += 1
        try:
            return self.client.write(lines)
        except InfluxError as e:
            if e.status == 404 and "database not found" in str(e):
                self._create_database()
            raise

    def _create_database(self) -> None:
        # without the right to create it the write stays retryable, and the errors show in the health series
        with contextlib.suppress(InfluxError):
            self.client.create_database()

    def _bisect(self, lines: list[str], err: InfluxError) -> WriteResult:
        if len(lines) == 1:
            reason = f"HTTP {err.status}: {_short(err)}"
            return WriteResult(refused=[DeadLetter("influx", "line", reason, lines[0].encode(), code="influx_refused")])
        out = WriteResult()
        mid = len(lines) // 2
        for half in (lines[:mid], lines[mid:]):
            try:
                out.written += self._post(half)
            except InfluxError as e:
                if _retryable(e):
                    raise
                sub = self._bisect(half, e)
                out.written += sub.written
                out.refused += sub.refused
        return out


def _retryable(e: InfluxError) -> bool:
    return e.retryable or (e.status == 404 and "database not found" in str(e))


def _short(e: InfluxError) -> str:
    text = str(e)
    return text if len(text) < 500 else text[:497] + "..."
