"""The learning index: five modules with their reading time, in both languages, each with the
signed-in viewer's own progress; the main navigation links to it on every page."""

from __future__ import annotations

from cloud.workbench.learning import content


def test_the_index_lists_every_module_with_progress(world):
    c = world.client("nobody")
    c.get("/learn/permits-and-regulation/")
    body = c.get("/learn/").content.decode()
    for m in content.modules("en"):
        assert f'href="/learn/{m.slug}/"' in body and m.title in body.replace("&#x27;", "'")
    assert body.count("not taken") == 5 and body.count("not yet") == 4  # one module opened, none checked
    assert "your progress is not kept" not in body


def test_the_index_in_norwegian_and_the_nav_link(world):
    c = world.client("anonymous")
    c.cookies["django_language"] = "nb"
    body = c.get("/learn/").content.decode()
    for m in content.modules("nb"):
        assert m.title in body
    assert "framdriften din blir ikke lagret" in body
    assert '<a href="/learn/">Lær</a>' in c.get("/").content.decode()
