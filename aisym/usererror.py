"""One line and exit code 2 for a user's mistake; a traceback only for a bug.

The ``aisym`` app's root group catches, around every command, the errors a user causes (a
missing or unreadable file, a file that is not YAML/JSON/UTF-8, a park file with a problem, a
wrong option, a part of the platform that is not installed) and prints ``file: why`` on one
line. Anything else propagates with its traceback, because it is a bug to report.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import io
import json
import re
import sys
from collections.abc import Iterable
from pathlib import PurePath
from types import TracebackType

import typer
import yaml
from rich.markup import escape as rich_escape
from typer.core import TyperGroup

try:  # typer >= 0.22 carries its own copy of click
    from typer._click import exceptions as click_exc
except ImportError:  # pragma: no cover - older typer on plain click
    from click import exceptions as click_exc  # type: ignore[no-redef]

from .yamlfile import DocumentError

OWN_PACKAGES = ("aisym", "edge", "cloud", "sim_env", "hardware")
# import name -> distribution, where they differ by more than '-' and '_'
_DISTRIBUTION = {"yaml": "pyyaml", "serial": "pyserial", "paho": "paho-mqtt", "onnxruntime": "onnxruntime"}
# command -> the pip command that installs it, for the parts left out at start-up
MISSING: dict[str, str] = {}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def extras_for(module: str) -> list[str]:
    """The extras of aisym that install ``module`` directly (``numpy`` -> ``['sim']``)."""
    top = module.split(".")[0]
    dist = _norm(_DISTRIBUTION.get(top, top))
    try:
        requires = importlib.metadata.requires("aisym") or []
    except importlib.metadata.PackageNotFoundError:  # run from a source tree that is not installed
        return []
    found = []
    for req in requires:
        m = re.match(r"\s*([A-Za-z0-9._-]+).*extra\s*==\s*['\"]([^'\"]+)['\"]", req)
        if m and _norm(m.group(1)) == dist and m.group(2) not in found and m.group(2) != "all":
            found.append(m.group(2))
    return found


def install_hint(module: str) -> str:
    extras = extras_for(module)
    if not extras:
        return f"pip install the package that provides {module!r}"
    return " or ".join(f"pip install 'aisym[{x}]'" for x in extras)


def _is_own(module: str | None) -> bool:
    return module is None or module.split(".")[0] in OWN_PACKAGES


def load_plugins(app: typer.Typer, plugins: Iterable[tuple[str, tuple[str, ...]]]) -> None:
    """Register each plugin module's commands; one whose dependencies are missing is named in --help."""
    for module, commands in plugins:
        try:
            importlib.import_module(module).register(app)
        except ModuleNotFoundError as e:
            if _is_own(e.name):
                raise
            for c in commands:
                MISSING[c] = f"{install_hint(e.name or '')} (no module {e.name!r})"
    if MISSING:
        by_hint: dict[str, list[str]] = {}
        for c, hint in MISSING.items():
            by_hint.setdefault(hint, []).append(c)
        text = "Not installed here: " + "; ".join(f"{', '.join(cs)}: {h}" for h, cs in by_hint.items()) + "."
        app.info.epilog = rich_escape(text)  # help is rendered as Rich markup, where [sim] is a tag


def _file_in_traceback(tb: TracebackType | None) -> str | None:
    """The file being read when a decode error struck: a Path, an open file or a path-like local."""
    frames = []
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    for frame in reversed(frames):  # innermost first
        for name, value in frame.f_locals.items():
            if isinstance(value, PurePath) and name in ("self", "path", "file", "filename", "source", "p", "f"):
                return str(value)
            if isinstance(value, io.IOBase) and isinstance(getattr(value, "name", None), str):
                return value.name
        for name in ("path", "filename", "file", "source"):
            value = frame.f_locals.get(name)
            if isinstance(value, str) and value and "\n" not in value:
                return value
    return None


def _yaml_message(e: yaml.YAMLError) -> str:
    mark = getattr(e, "problem_mark", None)
    what = " ".join(str(x) for x in (getattr(e, "context", None), getattr(e, "problem", None)) if x)
    if mark is not None:
        return f"{mark.name}:{mark.line + 1}:{mark.column + 1}: not valid YAML: {what or e}"
    if isinstance(e, yaml.reader.ReaderError):
        return f"{e.name}: not valid YAML: {e.reason} (byte {e.position})"
    return "not valid YAML: " + " ".join(str(e).split())


def message(e: BaseException) -> str | None:
    """The one line for a user's mistake, or None when ``e`` is not one (a bug: let it show)."""
    if isinstance(e, DocumentError):
        if len(e.problems) == 1:  # the problem's own line: file:line:column: field: why
            p = e.problems[0]
            where = e.source if p.line is None else f"{e.source}:{p.line}:{p.column or 1}"
            return f"{where}: {p.message}" if p.path == "<document>" else f"{where}: {p.path}: {p.message}"
        return str(e)
    if isinstance(e, OSError) and e.filename is not None:
        return f"{e.filename}: {e.strerror or e}"
    if isinstance(e, yaml.YAMLError):
        return _yaml_message(e)
    if isinstance(e, UnicodeDecodeError):
        where = _file_in_traceback(e.__traceback__) or "input"
        return f"{where}: not {e.encoding.upper()} text (byte {e.object[e.start:e.start + 1]!r} at offset {e.start})"
    if isinstance(e, json.JSONDecodeError):
        where = _file_in_traceback(e.__traceback__) or "input"
        return f"{where}:{e.lineno}:{e.colno}: not valid JSON: {e.msg}"
    if isinstance(e, ModuleNotFoundError) and not _is_own(e.name):
        return f"this command needs {e.name!r}, which is not installed: {install_hint(e.name or '')}"
    return None


class UserErrorGroup(TyperGroup):
    """The root group: a user's mistake in any command gives one line on stderr and exit code 2."""

    def resolve_command(self, ctx, args):  # type: ignore[no-untyped-def]
        if args and args[0] in MISSING and args[0] not in self.commands:
            raise click_exc.UsageError(f"'{args[0]}' is not installed here: {MISSING[args[0]]}", ctx=ctx)
        return super().resolve_command(ctx, args)

    def invoke(self, ctx):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except click_exc.NoArgsIsHelpError:
            raise
        except click_exc.UsageError as e:
            path = e.ctx.command_path if e.ctx is not None else ctx.command_path
            _say(f"{path}: {e.format_message()} (see {path} --help)")
        except Exception as e:  # typer.Exit and the rest that message() does not know re-raise below
            line = message(e)
            if line is None:
                raise
            _say(line)
        raise typer.Exit(2)


def _say(line: str) -> None:
    print(" ".join(line.split()) if "\n" not in line.strip() else line, file=sys.stderr, flush=True)


__all__ = ["MISSING", "UserErrorGroup", "extras_for", "install_hint", "load_plugins", "message"]
