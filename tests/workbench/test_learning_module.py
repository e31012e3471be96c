"""A module's page: every module in both languages with every anchor, its sources and its check;
opening it marks it read for a signed-in user, and an anonymous reader is told nothing is kept."""

from __future__ import annotations

from cloud.workbench.learning import content
from cloud.workbench.learning.models import Progress


def test_every_module_in_both_languages_has_every_anchor(world):
    c = world.client("anonymous")
    for lang in ("en", "nb"):
        c.cookies["django_language"] = lang
        for m in content.modules(lang):
            r = c.get(f"/learn/{m.slug}/")
            body = r.content.decode()
            assert r.status_code == 200 and f'<html lang="{lang}">' in body, (lang, m.slug)
            assert f"<h1>{m.title}</h1>" in body.replace("&#x27;", "'")
            for anchor in m.anchors:
                assert body.count(f'id="{anchor}"') == 1 and f'href="#{anchor}"' in body, (lang, m.slug, anchor)
            assert body.count('type="radio"') == 9 and 'id="sources"' in body
    assert "Hva industriell symbiose er" in c.get("/learn/industrial-symbiosis/").content.decode()


def test_opening_marks_it_read_for_the_signed_in_reader_only(world):
    r = world.client("anonymous").get("/learn/business-models/")
    assert "your progress is not kept" in r.content.decode()
    assert not Progress.objects.exists()
    member = world.client("member_a")
    r = member.get("/learn/business-models/")
    assert "not kept" not in r.content.decode()
    first = Progress.objects.get(user=world.users["member_a"], module="business-models").read
    assert first is not None
    member.get("/learn/business-models/")  # the first reading is the one kept
    assert Progress.objects.get(user=world.users["member_a"], module="business-models").read == first


def test_an_unknown_module_is_404(world):
    assert world.client("member_a").get("/learn/no-such-module/").status_code == 404
