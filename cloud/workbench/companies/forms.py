# ruff: noqa: RUF012  (Django idiom: Meta options, choices and the TIERS table are class-level lists and dicts)
"""Forms of a company and its listings; ``version`` guards against a silent overwrite."""

from __future__ import annotations

from django import forms
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from aisym.park.graph.carriers import Carrier, Resource
from cloud.workbench.learning.help import HelpLinks

from .models import Company, Listing
from .vocabulary import UNITS


class VersionedForm(forms.ModelForm):
    """A model form that refuses to save over a change made since the page was opened."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["version"] = self.instance.version

    def clean_version(self) -> int:
        sent = self.cleaned_data["version"]
        if sent != self.instance.version:
            raise forms.ValidationError(_(
                "Someone else saved this while you were editing (version %(now)s, yours %(sent)s). "
                "Your text is kept below: compare it with the saved one and save again."),
                params={"now": self.instance.version, "sent": sent})
        return sent

    def save(self, commit: bool = True):
        obj = super().save(commit=False)
        if commit:
            # compare-and-set in the database: of two saves that both passed clean(), one bumps the
            # version and the other changes no row and is told (StaleEdit), never overwriting
            sent = self.cleaned_data["version"]
            with transaction.atomic():
                if type(obj).objects.filter(pk=obj.pk, version=sent).update(version=sent + 1) != 1:
                    raise StaleEdit
                obj.version = sent + 1
                obj.save()  # a full save, so the audit log's signals see the change
        return obj


class StaleEdit(Exception):
    """The row changed between the form's check and its write."""


class CompanyForm(HelpLinks, VersionedForm):  # HelpLinks: each field's "?" link to the learning module
    class Meta:
        model = Company
        fields = ["name", "nace", "location", "lat", "lon", "description", "employees", "share_private_with_facilitator"]

    def clean_nace(self) -> str:
        from .vocabulary import nace_name

        code = self.cleaned_data["nace"].strip()
        if code and not nace_name(code):
            raise forms.ValidationError(_("%(code)s is not a NACE Rev. 2 class (like 10.71)."), params={"code": code})
        return code


RESOURCES = [(r.value, r.value.replace("_", " ")) for r in Resource if r is not Resource.volatile_solids]


class ListingForm(HelpLinks, VersionedForm):
    resource = forms.ChoiceField(label=_("resource family"), choices=RESOURCES)

    class Meta:
        model = Listing
        fields = ["name", "direction", "resource", "ewc", "material", "quantity", "unit", "frequency",
                  "description", "route", "cost", "price"]

    def clean_ewc(self) -> str:
        code = self.cleaned_data["ewc"].strip()
        if not code:
            return ""
        try:  # the park description's own rule for an EWC code
            return Carrier(resource=Resource.material, ewc=code).ewc
        except ValueError:
            raise forms.ValidationError(_("An EWC code has six digits in three pairs, like 02 06 01.")) from None

    def clean(self):
        data = super().clean()
        unit, resource = (data.get("unit") or "").strip(), data.get("resource")
        if unit and resource and unit not in UNITS[resource]:
            self.add_error("unit", _("Pick a unit of %(r)s: %(units)s.") % {
                "r": resource, "units": ", ".join(UNITS[resource])})
        return data
