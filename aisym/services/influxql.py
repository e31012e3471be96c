"""Split an InfluxQL query into statements the way InfluxDB 1.x's scanner does, and say what each may do.

InfluxDB runs every statement of a ``q`` parameter, separated by ``;``. A ``;`` separates only
outside string literals (``'...'``), quoted identifiers (``"..."``), regex literals (``/.../``) and
comments (``-- ...`` to the end of the line, ``/* ... */``). Whether a ``/`` opens a regex or is a
division depends on InfluxQL's parser, not its scanner (``FROM m /re/`` is a regex, ``"v" / 2`` a
division), so a filter that guesses wrong can be made to see one statement where InfluxDB runs two.

:func:`split` does not guess: it follows every reading at once (a small nondeterministic automaton
over the scanner's states: a ``/`` opens both a regex and a division) and answers ``None`` when a
``;`` separates statements in one reading and not in another. InfluxDB's own reading is always
one of those followed, so every statement InfluxDB would run is one of the statements returned.
Readings that InfluxQL's parser cannot take are pruned where the text before a ``/`` shows it
(:func:`_slash_readings`): this keeps Grafana's ``"tag" =~ /^a$/ ...; SELECT ...`` and
``mean("v") / 2; SELECT ...`` unambiguous. What stays ambiguous (``"v" / 2; SELECT 1``, since
``FROM "m" /re/`` is a regex) is refused for every account but the admins.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

# scanner states
_NORMAL, _SLASH, _DASH, _STR, _STR_ESC, _IDENT, _IDENT_ESC, _REGEX, _REGEX_ESC, _LINE, _BLOCK, _BLOCK_STAR = range(12)
_STRING_ESCAPES = frozenset("n\\\"'")  # ScanString refuses any other escape: the whole query fails to parse
_WORD = re.compile(r"(?<![A-Za-z0-9_])([A-Za-z_][A-Za-z0-9_]*)", re.ASCII)
_RUN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_µ")

# leading keywords of statements that only read: everything else changes data, schema or accounts
READ_STATEMENTS = ("SELECT", "SHOW", "EXPLAIN")


class Ambiguous(ValueError):
    """InfluxDB could read the query in more than one way (or not at all): it is refused, not guessed."""


@dataclass(frozen=True)
class Statement:
    """One statement of a query: its text and what it does.

    :param text: the statement, stripped
    :param kind: its leading keywords (``SELECT``, ``DROP SERIES``, ``CREATE USER``...)
    :param reads_only: a ``SELECT``/``SHOW``/``EXPLAIN`` without ``INTO``
    """

    text: str
    kind: str
    reads_only: bool


def _slash_readings(text: str, i: int, commented: bool) -> tuple[bool, bool]:
    """(may be a division, may open a regex) for the ``/`` at ``i``, read where a token may start.

    InfluxQL's parser looks for a regex only where a regex may stand: after ``=~``/``!~``, ``,``,
    ``(``, ``FROM``, ``SELECT``, ``BY`` (a division there would not parse) and after an identifier
    (``FROM m /re/``); never after a number, a string literal or ``)``. The text before ``i`` tells
    which, unless the query has a comment (``commented``): a comment can end right before the ``/``
    in one reading and not in another, so then both are followed.
    """
    j = i - 1
    while j >= 0 and text[j] in " \t\n":
        j -= 1
    if commented or j < 0:
        return True, True
    if text[j] in ",(" or (j > 0 and text[j - 1 : j + 1] in ("=~", "!~")):
        return False, True
    if text[j] in ")'":
        return True, False
    k = j + 1  # the run of word characters that ends at j: a keyword, an identifier or a number
    while k > 0 and text[k - 1] in _RUN_CHARS:
        k -= 1
    run = text[k : j + 1]
    bare = k == 0 or text[k - 1] not in '".'  # not the tail of a quoted or dotted name
    if bare and run.upper() in ("FROM", "SELECT", "BY"):
        return False, True
    if bare and run[:1].isdigit():
        return True, False  # a number or a duration (1m): an identifier cannot start with a digit
    return True, True


def _step_open(ch: str, text: str, i: int, out: set[int], commented: bool) -> None:
    if ch == "'":
        out.add(_STR)
    elif ch == '"':
        out.add(_IDENT)
    elif ch == "/":
        division, regex = _slash_readings(text, i, commented)
        if division:
            out.add(_SLASH)
        if regex:
            out.add(_REGEX)
    elif ch == "-":
        out.add(_DASH)
    else:
        out.add(_NORMAL)


def _step_literal(state: int, ch: str, out: set[int]) -> None:
    """Inside '...' or "..." (or right after a backslash in one); a newline is a parse error."""
    if state in (_STR_ESC, _IDENT_ESC):
        if ch in _STRING_ESCAPES:  # any other escape: the whole query fails to parse
            out.add(state - 1)
    elif ch == "\\":
        out.add(state + 1)
    elif ch == ("'" if state == _STR else '"'):
        out.add(_NORMAL)
    elif ch != "\n":
        out.add(state)


def _step_regex(state: int, ch: str, out: set[int]) -> None:
    if state == _REGEX_ESC and ch == "/":
        out.add(_REGEX)  # an escaped slash; after any other backslash the char counts as itself
    elif ch == "\\":
        out.add(_REGEX_ESC)
    elif ch == "/":
        out.add(_NORMAL)
    elif ch != "\n":
        out.add(_REGEX)


def _step_comment(state: int, ch: str, out: set[int]) -> None:
    if state == _LINE:
        out.add(_NORMAL if ch == "\n" else _LINE)
    elif ch == "*":
        out.add(_BLOCK_STAR)
    else:
        out.add(_NORMAL if ch == "/" and state == _BLOCK_STAR else _BLOCK)


def _step(state: int, ch: str, text: str, i: int, out: set[int], commented: bool) -> None:
    """Add to ``out`` the states ``state`` can be in after ``ch`` (none: that reading fails to parse)."""
    if state == _SLASH and ch == "*":  # a '/' read as DIV: '/*' opens a comment
        out.add(_BLOCK)
    elif state == _DASH and ch == "-":
        out.add(_LINE)
    elif state in (_NORMAL, _SLASH, _DASH):
        _step_open(ch, text, i, out, commented)
    elif state in (_STR, _STR_ESC, _IDENT, _IDENT_ESC):
        _step_literal(state, ch, out)
    elif state in (_REGEX, _REGEX_ESC):
        _step_regex(state, ch, out)
    else:
        _step_comment(state, ch, out)


_OPEN = frozenset({_NORMAL, _SLASH, _DASH})  # states where a ';' or a keyword is read as one


def split(query: str) -> tuple[list[tuple[int, str]], bytearray]:
    """The statements of ``query`` (offset, text), and per character whether some reading sees it
    outside any literal (where a keyword may start).

    Raises :class:`Ambiguous` where a ``;`` separates in one reading and not in another, or where no
    reading parses (an unterminated literal or comment: InfluxDB would refuse the whole query).
    """
    text = query.replace("\r\n", "\n").replace("\r", "\n")  # as InfluxQL's reader does
    states = {_NORMAL}
    commented = "--" in text or "/*" in text
    bare = bytearray(len(text))
    cuts = [0]
    for i, ch in enumerate(text):
        if states & _OPEN:
            bare[i] = 1
        if ch == ";":
            open_ = states & _OPEN
            if open_ and open_ != states:
                raise Ambiguous(f"the ';' at character {i + 1} ends a statement in one reading of the query and not in "
                                "another (a '/' that may open a regex, or a quote inside one): send it on its own")
            if open_:
                cuts.append(i + 1)
                states = {_NORMAL}
                continue
        nxt: set[int] = set()
        for s in states:
            _step(s, ch, text, i, nxt, commented)
        if not nxt:
            raise Ambiguous(f"InfluxQL cannot read the query at character {i + 1} (a literal or escape is broken)")
        states = nxt
    if not states & (_OPEN | {_LINE}):
        raise Ambiguous("the query ends inside a string, identifier, regex or comment")
    cuts.append(len(text) + 1)
    parts = [(a, text[a : b - 1]) for a, b in itertools.pairwise(cuts)]
    return [(a, p) for a, p in parts if p.strip()], bare


def statements(query: str) -> list[Statement]:
    """Classify every statement of ``query`` by its leading keywords (raises :class:`Ambiguous`)."""
    text = query.replace("\r\n", "\n").replace("\r", "\n")
    parts, bare = split(text)
    out = []
    for start, part in parts:
        stripped = part.strip()
        words = [m.group(1).upper() for m in _WORD.finditer(stripped)][:3]
        if not words or not (stripped[0].isascii() and stripped[0].isalpha()):
            # a statement that opens with a comment, a bracket or a number: nothing to classify it by
            out.append(Statement(stripped, "run a statement that opens with no keyword", False))
            continue
        kind = " ".join(words[:2] if words[0] in ("DROP", "CREATE", "ALTER", "SHOW", "SET", "KILL") else words[:1])
        into = any(bare[start + m.start(1)] and m.group(1).upper() == "INTO" for m in _WORD.finditer(part))
        out.append(Statement(stripped, kind, words[0] in READ_STATEMENTS and not into))
    return out


__all__ = ["READ_STATEMENTS", "Ambiguous", "Statement", "split", "statements"]
