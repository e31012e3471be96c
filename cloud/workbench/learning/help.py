"""Which paragraph of which module explains each field of the company, listing and onboarding forms.

``FIELDS`` is the one place: form class name -> field name -> (module slug, anchor). The forms
mix in :class:`HelpLinks`, which puts a "?" link to that paragraph in each field's help text (the
shared form template shows it; the onboarding templates show ``field.help_text`` beside the label).
tests/workbench/test_learning_help.py checks that every visible field of those forms has a link
and that every anchor exists in both languages.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.functional import lazy
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from . import content

MAP, IS, READ, BIZ, LAW = ("mapping-resources", "industrial-symbiosis", "reading-a-match", "business-models",
                           "permits-and-regulation")

_LISTING = {
    "name": (MAP, "name-it"), "direction": (MAP, "have-or-want"), "resource": (MAP, "resource-family"),
    "ewc": (MAP, "waste-code"), "material": (MAP, "name-it"), "quantity": (MAP, "quantity-unit"),
    "unit": (MAP, "quantity-unit"), "frequency": (MAP, "how-often"), "description": (MAP, "quality"),
    "route": (MAP, "present-route"), "cost": (MAP, "present-route"), "price": (MAP, "price"),
}
FIELDS: dict[str, dict[str, tuple[str, str]]] = {
    "CompanyForm": {
        "name": (MAP, "company-profile"), "nace": (MAP, "sector"), "location": (MAP, "site"), "lat": (MAP, "site"),
        "lon": (MAP, "site"), "description": (MAP, "company-profile"), "employees": (MAP, "company-profile"),
        "share_private_with_facilitator": (MAP, "who-sees-what"),
        "named_to_partners": (MAP, "who-sees-what"),  # the opportunities' anonymity choice, once on the form
    },
    "ListingForm": _LISTING,
    "JoinForm": {
        "join_code": (IS, "facilitation"), "company_name": (MAP, "joining"), "username": (MAP, "joining"),
        "email": (MAP, "joining"), "password": (MAP, "joining"),
    },
    "SectorForm": {"words": (MAP, "sector"), "nace": (MAP, "sector")},
    "ListingStepForm": {
        "direction": (MAP, "have-or-want"), "words": (MAP, "name-it"), "choice": (MAP, "waste-code"),
        "resource": (MAP, "resource-family"), "temperature_c": (MAP, "quality"), "quantity": (MAP, "quantity-unit"),
        "unit": (MAP, "quantity-unit"), "frequency": (MAP, "how-often"), "months": (MAP, "how-often"),
    },
    "LocationForm": {"location": (MAP, "site"), "lat": (MAP, "site"), "lon": (MAP, "site")},
}
# fields of the onboarding's costs step (a table of inputs per listing, not a form class)
COSTS_STEP = {"cost": _LISTING["cost"], "price": _LISTING["price"]}


def link(module: str, anchor: str) -> SafeString:
    """The "?" link to a paragraph, named for screen readers by the paragraph's heading."""
    lang = content.language(get_language())
    section = content.section(module, anchor, lang)
    if section is None:  # a test holds every mapped anchor to exist: this is a bug, said loudly
        raise LookupError(f"learning: no paragraph #{anchor} in module {module} ({lang})")
    name = _("Learn more: %(topic)s") % {"topic": section.title}
    # the title shows sighted mouse users the same name as the one read aloud
    return format_html('<a class="help" href="{}#{}" aria-label="{}" title="{}">?</a>',
                       reverse("learning:module", args=[module]), anchor, name, name)


_lazy_link = lazy(link, SafeString)  # resolved when shown, in the viewer's language


class HelpLinks:
    """A form mixin: each visible field's help text gains its "?" link (after any help text it had)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # by the nearest class in FIELDS: a subclass (the event's card form) keeps its base's links
        mapping = next((FIELDS[k.__name__] for k in type(self).__mro__ if k.__name__ in FIELDS), {})
        for name, field in self.fields.items():
            if field.widget.is_hidden or name not in mapping:
                continue
            help_link = _lazy_link(*mapping[name])
            field.help_text = format_html("{} {}", field.help_text, help_link) if field.help_text else help_link
