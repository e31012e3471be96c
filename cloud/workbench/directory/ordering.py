"""Company names in natural order ("Firm 2" before "Firm 10"), sorted by the database on SQLite and
PostgreSQL alike, so that a page of 25 or 50 is cut in SQL and never sorts the park in Python.

- PostgreSQL: the ICU collation ``natural_sort`` (locale ``und-u-kn-true``: the root order with
  numbers compared as numbers), created by migration ``directory/0001_natural_sort``.
- SQLite has no such collation: the SQL function ``natural_key(name)``, registered on every
  connection (:func:`register`), returns a key whose plain text order is the natural order:
  case and accents folded, each run of digits written as its length, then the digits.

Both compare letters without case or accents, digits before letters, numbers by value; they
differ on letters outside A-Z without a decomposition (ICU's root order puts "ø" beside "o",
the key after "z"). Ties fall to the row id, so paging is stable.
No natsort here: it is not among the venv's packages, and a Python sort would fetch every row.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from django.db import connection
from django.db.models import CharField, F, Func
from django.db.models.functions import Collate

COLLATION = "natural_sort"
DIGITS = re.compile(r"(\d+)")


@lru_cache(maxsize=65536)  # names repeat across requests: the key is computed once per name
def natural_key(name: str | None) -> str:
    """``"Firm 10"`` -> ``"firm 0210"``: digit runs as length (2 digits) + value, case and accents folded."""
    if name is None:
        return ""
    folded = "".join(ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch)).casefold()
    parts = DIGITS.split(folded)
    parts[1::2] = [f"{len(p.lstrip('0') or '0'):02d}{p.lstrip('0') or '0'}" for p in parts[1::2]]
    return "".join(parts)


def register(sender, connection, **kwargs) -> None:
    """connection_created handler: SQLite connections get ``natural_key``."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("natural_key", 1, natural_key, deterministic=True)


def natural(field: str = "name"):
    """An ``order_by`` term: ``field`` in natural order on this database."""
    if connection.vendor == "postgresql":
        return Collate(F(field), COLLATION)
    return Func(F(field), function="natural_key", output_field=CharField())
