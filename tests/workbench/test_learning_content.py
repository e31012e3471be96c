"""The learning modules' data files: five modules, both languages alike (anchors, questions,
choices), about five minutes each, and a broken file named in a one-line error."""

from __future__ import annotations

import re

import pytest

from cloud.workbench.learning import content

SLUGS = ["industrial-symbiosis", "mapping-resources", "reading-a-match", "business-models", "permits-and-regulation"]


def test_five_modules_in_both_languages_alike():
    for lang in content.LANGUAGES:
        assert [m.slug for m in content.modules(lang)] == SLUGS
    for en, nb in zip(content.modules("en"), content.modules("nb"), strict=True):
        assert en.anchors == nb.anchors, en.slug
        assert len(set(en.anchors)) == len(en.anchors) >= 5
        assert en.title != nb.title and en.sources == nb.sources and len(en.sources) >= 3
        assert [len(q.choices) for q in en.questions] == [len(q.choices) for q in nb.questions] == [3, 3, 3]
        assert [q.answer for q in en.questions] == [q.answer for q in nb.questions]
        # about five minutes: 700-1,000 words of text in English; Norwegian says the same in fewer words
        assert 700 <= en.words <= 1000 and 600 <= nb.words <= 1000, (en.slug, en.words, nb.words)
        assert 4 <= en.minutes <= 6 and 4 <= nb.minutes <= 6
        for m in (en, nb):  # every source cited in the text, and no citation without a source
            text = " ".join(s.html for s in m.sections)
            cited = {int(n) for n in re.findall(r"\[(\d)\]", text)}
            assert cited == set(range(1, len(m.sources) + 1)), (m.slug, sorted(cited))
    print("learning: " + ", ".join(f"{m.slug} {m.words} words/{m.minutes} min" for m in content.modules("en")))


def test_markdown_is_rendered_and_raw_html_is_not():
    m = content.module("reading-a-match", "en")
    split = next(s for s in m.sections if s.anchor == "split-rules")
    assert "<table>" in split.html and "<th>rule</th>" in split.html
    assert content._md.render("<script>x</script>").startswith("<p>&lt;script&gt;")


def test_a_broken_module_file_is_named_with_its_line(tmp_path, monkeypatch):
    (tmp_path / "en").mkdir()
    (tmp_path / "modules.yaml").write_text("- slug: x\n  answers: [0, 0, 0]\n  sources: [s]\n")
    (tmp_path / "en" / "x.md").write_text("---\ntitle: a: b\n---\n{#a}\n## A\n")
    monkeypatch.setattr(content, "MODULES_DIR", tmp_path)
    with pytest.raises(content.ContentError, match=r"en/x\.md:2:\d+: not valid YAML"):
        content._module(1, content._index()[0], "en")
    (tmp_path / "en" / "x.md").write_text("---\ntitle: A\nsummary: S\nquestions: [{text: q, choices: [a], why: w}]\n---\n")
    with pytest.raises(content.ContentError, match=r"x\.md: questions: 3 expected, got 1"):
        content._module(1, content._index()[0], "en")
