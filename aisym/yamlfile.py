"""YAML documents validated by a pydantic model, with every problem located by file and line.

The park description, device profiles, gateway and node configs all load through
:func:`parse_yaml_model`, so a typo reads the same everywhere::

    kraakoya.yaml:57:9: companies[1].assets[0].rated_kw: Input should be greater than 0 (got -3)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Problem:
    loc: Loc
    message: str
    line: int | None = None
    column: int | None = None

    @property
    def path(self) -> str:
        out = ""
        for part in self.loc:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
        return out or "<document>"


class DocumentError(ValueError):
    """A YAML document failed to load. ``problems`` holds each finding with its line."""

    def __init__(self, source: str, problems: Sequence[Problem], what: str = "file"):
        self.source = source
        self.problems = list(problems)
        lines = []
        for p in self.problems:
            where = source if p.line is None else f"{source}:{p.line}:{p.column or 1}"
            lines.append(f"{where}: {p.path}: {p.message}")
        if len(lines) == 1:  # one problem, one line: file:line:column: field: why (issue 18, finding 14)
            super().__init__(lines[0])
            return
        head = f"invalid {what} {source}" + (f" ({len(lines)} problems)" if len(lines) > 1 else "")
        super().__init__(head + "\n  " + "\n  ".join(lines))


# libyaml's parser when PyYAML has it (10x faster than the pure-Python one; same marks, same types)
_BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DuplicateKeyLoader(_BASE_LOADER):
    """SafeLoader that refuses a key given twice in one mapping (PyYAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping", node.start_mark, f"found duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def node_at(root: yaml.Node | None, loc: Loc) -> yaml.Node | None:
    """The deepest YAML node along ``loc``: gives the line of a field, or of its parent if absent."""
    node = root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        else:
            child = None
        if child is None:
            break
        node = child
    return node


def pydantic_problems(err: ValidationError, tags: frozenset[str] = frozenset()) -> Iterable[tuple[Loc, str]]:
    """``(field path, message)`` per pydantic error, worded for people."""
    for e in err.errors(include_url=False):
        # pydantic adds the union member (a discriminator value in ``tags``) or a validator name
        # to the path: keep field names only
        loc = tuple(
            p
            for p in e["loc"]
            if not (isinstance(p, str) and (p in tags or p.startswith(("function-", "tagged-")) or "[" in p))
        )
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] not in ("missing", "extra_forbidden") and "input" in e and not isinstance(e["input"], dict | list):
            msg += f" (got {e['input']!r})"
        if e["type"] == "extra_forbidden":
            msg = "unknown field (check its spelling)"
        yield loc, msg


def parse_yaml_model(
    text: str,
    source: str,
    model: type[M],
    checks: Callable[[M], Iterable[tuple[Loc, str]]] | None = None,
    what: str = "file",
    context: dict[str, Any] | None = None,
    tags: frozenset[str] = frozenset(),
    error: Callable[[str, Sequence[Problem], str], DocumentError] = DocumentError,
) -> M:
    """Parse YAML ``text`` into ``model``; every problem becomes one line-located error.

    :param text: the YAML document
    :param source: file name used in messages
    :param model: pydantic model of the whole document
    :param checks: cross-field checks yielding ``(location, message)`` after validation
    :param what: "park description", "device profile"... for the headline
    :param context: pydantic validation context (e.g. the park for tag checks)
    :param tags: discriminator values of tagged unions, left out of error paths
    :param error: the :class:`DocumentError` subclass to raise
    """
    try:
        root = yaml.compose(text, Loader=DuplicateKeyLoader)
        data = yaml.load(text, Loader=DuplicateKeyLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        msg = " ".join(str(x) for x in (e.context, e.problem) if x)
        problem = Problem((), f"YAML syntax: {msg}", mark and mark.line + 1, mark and mark.column + 1)
        raise error(source, [problem], what) from None
    except yaml.YAMLError as e:
        raise error(source, [Problem((), f"YAML: {e}")], what) from None
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise error(source, [Problem((), f"the document is {kind}; a {what} is a mapping")], what)

    def located(items: Iterable[tuple[Loc, str]]) -> list[Problem]:
        out = []
        for loc, msg in items:
            node = node_at(root, loc)
            mark = node.start_mark if node is not None else None
            out.append(Problem(loc, msg, mark and mark.line + 1, mark and mark.column + 1))
        return out

    try:
        obj = model.model_validate(data, context=context)
    except ValidationError as e:
        raise error(source, located(pydantic_problems(e, tags)), what) from None
    problems = located(checks(obj)) if checks else []
    if problems:
        raise error(source, problems, what)
    return obj
