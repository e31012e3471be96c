"""Reading a template's parameters: units converted by pint, defaults cited, leftovers refused."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..quantity import UnitProblem, parse_quantity


class ParamProblem(ValueError):
    """A template parameter is missing, unreadable or unknown; ``key`` names it."""

    def __init__(self, key: str, message: str):
        self.key = key
        super().__init__(message)


@dataclass
class Params:
    """The ``params:`` mapping of one asset, read field by field.

    Every read marks its key used; :meth:`finish` refuses any key no read asked for, so a typo
    or a parameter the template does not know is an error, never ignored.
    """

    values: dict[str, object]
    template: str
    used: set[str] = field(default_factory=set)
    defaults: dict[str, str] = field(default_factory=dict)  # key -> the cited default that was taken

    def number(self, key: str, unit: str, default: float | None = None, cite: str = "", lo: float | None = None,
               hi: float | None = None) -> float:
        """Parameter ``key`` in ``unit``; ``default`` (with its source ``cite``) when absent."""
        self.used.add(key)
        if key not in self.values:
            if default is None:
                raise ParamProblem(key, f"the {self.template} template needs {key!r} (in {unit})")
            self.defaults[key] = f"{default:g} {unit} {cite}".strip()
            return float(default)
        try:
            v = parse_quantity(self.values[key], unit, what=key)
        except UnitProblem as e:
            raise ParamProblem(key, str(e)) from None
        if lo is not None and v < lo:
            raise ParamProblem(key, f"{key} must be at least {lo:g} {unit} (got {v:g})")
        if hi is not None and v > hi:
            raise ParamProblem(key, f"{key} must be at most {hi:g} {unit} (got {v:g})")
        return v

    def fraction(self, key: str, default: float | None = None, cite: str = "") -> float:
        return self.number(key, "dimensionless", default, cite, lo=0.0, hi=1.0)

    def text(self, key: str, default: str | None = None, choices: tuple[str, ...] = (), doc: str = "") -> str:
        """Text parameter ``key``, one of ``choices`` when given; ``doc`` as for :meth:`raw`."""
        self.used.add(key)
        if key not in self.values:
            if default is None:
                raise ParamProblem(key, f"the {self.template} template needs {key!r}")
            return default
        v = self.values[key]
        if not isinstance(v, str):
            raise ParamProblem(key, f"{key} is text, got {v!r}")
        if choices and v not in choices:
            raise ParamProblem(key, f"{key} must be one of {', '.join(choices)} (got {v!r})")
        return v

    def raw(self, key: str, default: object = None, doc: str = "", required: bool = False) -> object:
        """``key`` as written (a mapping, a series reference, a price with its unit); ``doc`` says
        what it holds and ``required`` whether the caller refuses its absence, for the generated
        template reference (docs/templates.md)."""
        self.used.add(key)
        return self.values.get(key, default)

    def has(self, key: str) -> bool:
        return key in self.values

    def finish(self, known: tuple[str, ...] = ()) -> None:
        extra = sorted(set(self.values) - self.used - set(known))
        if extra:
            raise ParamProblem(extra[0], f"the {self.template} template has no parameter {extra[0]!r}"
                               f" (it reads: {', '.join(sorted(self.used))})")
