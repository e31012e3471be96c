"""The forms' "?" links: every visible field of the company profile, listing and onboarding forms
links to the paragraph that explains it (learning.help.FIELDS, the one mapping), every linked
paragraph exists in both languages, and the pages show the links with an accessible name."""

from __future__ import annotations

import re

from django import forms
from django.utils import translation

from cloud.workbench.companies import forms as company_forms
from cloud.workbench.companies import onboarding_forms
from cloud.workbench.learning import content
from cloud.workbench.learning.help import COSTS_STEP, FIELDS, HelpLinks

FORMS = [c for mod in (company_forms, onboarding_forms) for c in vars(mod).values()
         if isinstance(c, type) and issubclass(c, forms.BaseForm) and c.__module__ == mod.__name__
         and c.__name__ != "VersionedForm"]
LINK = re.compile(r'<a class="help" href="/learn/([a-z-]+)/#([a-z0-9-]+)" aria-label="([^"]+)" title="\3">\?</a>')


def test_every_field_of_every_form_links_to_its_paragraph(db):
    assert {f.__name__ for f in FORMS} == {"CompanyForm", "ListingForm", "JoinForm", "SectorForm", "ListingStepForm",
                                           "LocationForm"}
    fields = 0
    for form_class in FORMS:
        assert issubclass(form_class, HelpLinks), form_class.__name__
        form = form_class()
        for name, bound in ((n, form[n]) for n in form.fields):
            if bound.is_hidden:
                continue
            m = LINK.search(str(bound.help_text))
            assert m, f"{form_class.__name__}.{name} has no learning link"
            assert (m.group(1), m.group(2)) == FIELDS[form_class.__name__][name]
            fields += 1
    print(f"learning links: {fields} fields of {len(FORMS)} forms")
    assert fields >= 39


def test_every_linked_paragraph_exists_in_both_languages():
    pairs = {p for mapping in FIELDS.values() for p in mapping.values()} | set(COSTS_STEP.values())
    for lang in content.LANGUAGES:
        for module, anchor in pairs:
            assert content.section(module, anchor, lang) is not None, (lang, module, anchor)


def test_the_link_is_named_in_the_viewers_language(db):
    with translation.override("nb"):
        text = str(onboarding_forms.LocationForm()["lat"].help_text)
    assert 'aria-label="Les mer: Hvor dere ligger"' in text


def test_the_pages_show_the_links(world):
    member = world.client("member_a")
    edit = member.get("/parks/park_a/companies/fish/edit/").content.decode()
    assert 'href="/learn/mapping-resources/#sector" aria-label="Learn more: Your sector"' in edit
    listing = member.get("/parks/park_a/companies/fish/listings/sludge/edit/").content.decode()
    assert len(LINK.findall(listing)) == 12
    costs = member.get("/parks/park_a/companies/fish/onboarding/costs/").content.decode()
    assert {m[1] for m in LINK.findall(costs)} == {"present-route", "price"}
    steps = {s: member.get(f"/parks/park_a/companies/fish/onboarding/{s}/").content.decode()
             for s in ("sector", "listings", "location")}
    assert [len(LINK.findall(b)) for b in steps.values()] == [2, 9, 3]
    assert len(LINK.findall(world.client(None).get("/join/").content.decode())) == 5
