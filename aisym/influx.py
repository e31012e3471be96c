"""A small client for the InfluxDB v1 HTTP API (``/write`` line protocol, InfluxQL ``/query``).

InfluxDB 1.x, 2.x (through its DBRP mapping) and 3.x all serve these two endpoints, so
this is the one dialect AISYM speaks. Errors say which points were dropped and why.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import requests

_DROPPED = re.compile(r"dropped=(\d+)")


class InfluxError(RuntimeError):
    """A write or query that InfluxDB refused.

    :param status: HTTP status (0 when the server could not be reached)
    :param dropped: points InfluxDB says it dropped (a 400 ``partial write``), else None
    :param retry_after: seconds the server asks us to wait (429/503), else None
    """

    def __init__(
        self,
        message: str,
        status: int = 0,
        dropped: int | None = None,
        retry_after: float | None = None,
        lines: list[str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.dropped = dropped
        self.retry_after = retry_after
        self.lines = lines or []

    @property
    def retryable(self) -> bool:
        """Unreachable, throttled, refused credentials or a server fault: try again later.

        Any other 4xx means the data is at fault. A 401/403 is the account's fault, not the
        points': they wait (spilled) until the credentials or grants are fixed.
        """
        return self.status == 0 or self.status in (401, 403, 408, 429) or self.status >= 500


@dataclass
class InfluxV1:
    """:param url: e.g. ``http://127.0.0.1:8086``
    :param database: the database (1.x) or DBRP-mapped bucket (2.x/3.x)
    :param username: optional; with ``password`` sent as basic auth
    """

    url: str
    database: str
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0

    def __post_init__(self) -> None:
        self.url = self.url.rstrip("/")
        self._http = requests.Session()
        if self.username:
            self._http.auth = (self.username, self.password or "")

    def close(self) -> None:
        self._http.close()

    def ping(self) -> bool:
        try:
            return self._http.get(self.url + "/ping", timeout=self.timeout).status_code == 204
        except requests.RequestException:
            return False

    def create_database(self) -> None:
        self.query(f'CREATE DATABASE "{self.database}"', method="POST")

    def write(self, lines: Iterable[str], precision: str = "ms") -> int:
        """Write line protocol; returns the number of lines sent. Raises :class:`InfluxError`."""
        batch = list(lines)
        if not batch:
            return 0
        body = ("\n".join(batch) + "\n").encode()
        try:
            r = self._http.post(
                self.url + "/write", params={"db": self.database, "precision": precision}, data=body, timeout=self.timeout
            )
        except requests.RequestException as e:
            raise InfluxError(f"InfluxDB at {self.url} unreachable: {e}", lines=batch) from None
        if r.status_code == 204:
            return len(batch)
        text = _error_text(r)
        m = _DROPPED.search(text)
        dropped = int(m.group(1)) if m else None
        if r.status_code == 400 and dropped is None and "field type conflict" in text:
            dropped = len(batch)  # a conflict inside one batch drops the whole batch
        retry_after = _retry_after(r.headers.get("Retry-After"))
        what = f"{dropped} of {len(batch)} points dropped" if dropped is not None else f"batch of {len(batch)} points refused"
        raise InfluxError(
            f"InfluxDB write to {self.database!r} failed ({r.status_code}): {what}: {text}",
            r.status_code,
            dropped,
            retry_after,
            batch,
        )

    def query(self, q: str, method: str = "GET", epoch: str = "ms") -> list[dict[str, Any]]:
        """Run InfluxQL; returns the ``results`` list. Raises :class:`InfluxError` on any error."""
        params = {"q": q, "db": self.database, "epoch": epoch}
        try:
            if method == "POST":
                r = self._http.post(self.url + "/query", data=params, timeout=self.timeout)
            else:
                r = self._http.get(self.url + "/query", params=params, timeout=self.timeout)
        except requests.RequestException as e:
            raise InfluxError(f"InfluxDB at {self.url} unreachable: {e}") from None
        if r.status_code != 200:
            raise InfluxError(
                f"InfluxQL failed ({r.status_code}): {_error_text(r)}: {q}",
                r.status_code,
                retry_after=_retry_after(r.headers.get("Retry-After")),
            )
        results = r.json().get("results", [])
        for res in results:
            if "error" in res:
                raise InfluxError(f"InfluxQL error: {res['error']}: {q}", 400)
        return results

    def rows(self, q: str) -> list[dict[str, Any]]:
        """Flatten a query's series into dicts, one per row, with the series' tags merged in."""
        out = []
        for res in self.query(q):
            for s in res.get("series", []):
                tags = s.get("tags", {})
                for values in s["values"]:
                    out.append({**tags, "_measurement": s.get("name", ""), **dict(zip(s["columns"], values, strict=True))})
        return out


def _error_text(r: requests.Response) -> str:
    try:
        return r.json().get("error", r.text.strip())
    except ValueError:
        return r.text.strip()


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
