"""The learning modules, read from their data files: ``modules/modules.yaml`` (order, answers and
sources, the same in every language) and ``modules/<lang>/<slug>.md`` (the text of one language).

A language file is YAML front matter (title, summary, the three questions with their choices and
explanations) and a Markdown body cut into sections by anchor lines ``{#anchor}``; each section
starts with a heading. Anchors are the stable addresses the forms' "?" links point to, so they are
the same in every language (tests/workbench/test_learning_content.py holds them to it).

Markdown is rendered by markdown-it-py (CommonMark; already installed with rich, a core
dependency) with raw HTML off: the files are ours, but nothing in them can inject markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from markdown_it import MarkdownIt

MODULES_DIR = Path(__file__).parent / "modules"
LANGUAGES = ("en", "nb")
ANCHOR_LINE = re.compile(r"^\{#([a-z0-9][a-z0-9-]*)\}\s*$", re.MULTILINE)
WORDS_PER_MINUTE = 200  # an adult reading a text with figures in it (silent reading runs at about 200-250)


class ContentError(ValueError):
    """A learning data file is wrong; the message names the file and the field."""


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str
    html: str


@dataclass(frozen=True)
class Question:
    text: str
    choices: tuple[str, ...]
    answer: int  # index into choices
    why: str  # the explanation shown after submitting


@dataclass(frozen=True)
class Module:
    slug: str
    number: int
    title: str
    summary: str
    words: int  # of the text (the check's words apart)
    check_words: int
    sections: tuple[Section, ...]
    questions: tuple[Question, ...]
    sources: tuple[str, ...]

    @property
    def minutes(self) -> int:
        """Reading time, the check included."""
        return max(1, round((self.words + self.check_words) / WORDS_PER_MINUTE))

    @property
    def anchors(self) -> tuple[str, ...]:
        return tuple(s.anchor for s in self.sections)


_md = MarkdownIt("commonmark", {"html": False}).enable("table")


def _load_yaml(path: Path, text: str, first_line: int = 1):
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f":{mark.line + first_line}:{mark.column + 1}" if mark else ""
        raise ContentError(f"{path}{where}: not valid YAML ({getattr(e, 'problem', e)})") from None


def _index() -> list[dict]:
    path = MODULES_DIR / "modules.yaml"
    entries = _load_yaml(path, path.read_text(encoding="utf-8"))
    if not isinstance(entries, list) or not entries:
        raise ContentError(f"{path}: a list of modules is expected")
    for i, e in enumerate(entries):
        for key in ("slug", "answers", "sources"):
            if key not in e:
                raise ContentError(f"{path}: [{i}].{key}: missing")
        if len(e["answers"]) != 3:
            raise ContentError(f"{path}: [{i}].answers: three answers (one per question), got {len(e['answers'])}")
    return entries


def _sections(path: Path, body: str) -> tuple[Section, ...]:
    parts = ANCHOR_LINE.split(body)
    if parts[0].strip():
        raise ContentError(f"{path}: text before the first {{#anchor}} line")
    out, seen = [], set()
    for anchor, text in zip(parts[1::2], parts[2::2], strict=True):
        if anchor in seen:
            raise ContentError(f"{path}: {{#{anchor}}}: the anchor is used twice")
        seen.add(anchor)
        heading = re.match(r"\s*#{2,4} +(.+)", text)
        if heading is None:
            raise ContentError(f"{path}: {{#{anchor}}}: the section must start with a ## heading")
        out.append(Section(anchor, heading.group(1).strip(), _md.render(text)))
    return tuple(out)


def _module(number: int, entry: dict, lang: str) -> Module:
    path = MODULES_DIR / lang / f"{entry['slug']}.md"
    text = path.read_text(encoding="utf-8")
    m = re.match(r"---\n(.*?)\n---\n(.*)", text, re.DOTALL)
    if m is None:
        raise ContentError(f"{path}: the file must open with front matter between --- lines")
    meta, body = _load_yaml(path, m.group(1), first_line=2), m.group(2)  # after the opening ---
    for key in ("title", "summary", "questions"):
        if not meta.get(key):
            raise ContentError(f"{path}: {key}: missing")
    if len(meta["questions"]) != len(entry["answers"]):
        raise ContentError(f"{path}: questions: {len(entry['answers'])} expected, got {len(meta['questions'])}")
    questions = []
    for i, (q, answer) in enumerate(zip(meta["questions"], entry["answers"], strict=True)):
        for key in ("text", "choices", "why"):
            if not q.get(key):
                raise ContentError(f"{path}: questions[{i}].{key}: missing")
        if not 0 <= answer < len(q["choices"]):
            raise ContentError(f"{path}: questions[{i}].choices: the answer {answer} is not among them")
        questions.append(Question(q["text"], tuple(q["choices"]), answer, q["why"]))
    words = len(re.findall(r"\w+", ANCHOR_LINE.sub("", body)))
    check_words = sum(len(re.findall(r"\w+", " ".join([q.text, *q.choices, q.why]))) for q in questions)
    return Module(entry["slug"], number, meta["title"], meta["summary"], words, check_words, _sections(path, body),
                  tuple(questions), tuple(_md.renderInline(s) for s in entry["sources"]))


@cache
def modules(lang: str = "en") -> tuple[Module, ...]:
    """Every module in its order, in ``lang`` (another language than those written: English)."""
    lang = lang if lang in LANGUAGES else "en"
    return tuple(_module(n, e, lang) for n, e in enumerate(_index(), start=1))


def module(slug: str, lang: str = "en") -> Module | None:
    return next((m for m in modules(lang) if m.slug == slug), None)


def section(slug: str, anchor: str, lang: str = "en") -> Section | None:
    m = module(slug, lang)
    return next((s for s in m.sections if s.anchor == anchor), None) if m else None


def language(code: str | None) -> str:
    """The written language closest to Django's active one (``nb``, ``nb-no`` -> ``nb``)."""
    base = (code or "en").split("-")[0].lower()
    return base if base in LANGUAGES else "en"
