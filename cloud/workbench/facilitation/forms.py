# ruff: noqa: RUF012  (Django idiom: Meta options are class-level lists)
"""The facilitator's forms and the attendees' (registration, the quick listing card).

The card is the onboarding's listing form (:class:`~cloud.workbench.companies.onboarding_forms.ListingStepForm`)
without the suggestions and the temperature: the same fields, units and checks as a company's
own onboarding, so a card is a listing like any other.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cloud.workbench.companies.models import Company
from cloud.workbench.companies.onboarding_forms import ListingStepForm

from .models import Attendee, Event


class EventForm(forms.ModelForm):
    slot_minutes = forms.IntegerField(label=_("Minutes per meeting"), min_value=5, max_value=240, initial=20)
    slots = forms.IntegerField(label=_("Number of meeting slots"), min_value=1, max_value=40, initial=6)

    class Meta:
        model = Event
        fields = ["name", "date", "start", "place", "slot_minutes", "slots"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"}), "start": forms.TimeInput(attrs={"type": "time"})}


class AttendeeForm(forms.Form):
    """An attendee: of a company of the park, or of a new company (name, sector, location)."""

    name = forms.CharField(label=_("Attendee's name"), max_length=200)
    email = forms.EmailField(label=_("E-mail address"))
    company = forms.ModelChoiceField(label=_("Company of the park"), queryset=Company.objects.none(), required=False,
                                     empty_label=_("– a new company (below) –"))
    new_company = forms.CharField(label=_("Or a new company: its name"), max_length=200, required=False)
    nace = forms.CharField(label=_("New company's sector (NACE code, like 10.71)"), max_length=8, required=False)
    location = forms.CharField(label=_("New company's address or place"), max_length=200, required=False)

    def __init__(self, *args, event: Event, companies=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.event = event
        if companies is None:
            del self.fields["company"]
        else:
            self.fields["company"].queryset = companies

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if Attendee.objects.filter(event=self.event, email__iexact=email).exists():
            raise forms.ValidationError(_("%(email)s is already registered for this event."), params={"email": email})
        return email

    def clean_nace(self) -> str:
        from cloud.workbench.companies.vocabulary import nace_name

        code = self.cleaned_data["nace"].strip()
        if code and not nace_name(code):
            raise forms.ValidationError(_("%(code)s is not a NACE Rev. 2 class (like 10.71)."), params={"code": code})
        return code

    def clean(self):
        data = super().clean()
        if data.get("company") is None and not (data.get("new_company") or "").strip():
            self.add_error("new_company" if "company" not in self.fields else "company",
                           _("Pick the attendee's company, or name a new one."))
        elif data.get("company") is not None and (data.get("new_company") or "").strip():
            self.add_error("new_company", _("Either a company of the park or a new one, not both."))
        return data


class CardForm(ListingStepForm):
    """A quick listing card: have or need, what in words, resource family, rough amount and unit, how often."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, suggestions=(), **kwargs)
        del self.fields["choice"], self.fields["temperature_c"]
        self.fields["resource"].required = True
        self.fields["resource"].label = _("Kind of resource")
        self.fields["quantity"].label = _("Roughly how much? (leave empty if you do not know)")

    def clean(self):
        if not self.cleaned_data.get("resource"):  # its own "required" error says it: no pick list to point at
            return self.cleaned_data
        data = super().clean()
        if data.get("quantity") is None and (data.get("unit") or "").strip() and "quantity" not in self.errors:
            self.add_error("quantity", _("Give the amount in %(unit)s too, or clear the unit.") % {"unit": data["unit"]})
        return data


class ShortlistForm(forms.Form):
    key = forms.CharField(max_length=300, widget=forms.HiddenInput)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class BestSetForm(forms.Form):
    size = forms.IntegerField(label=_("Size of the set (K)"), min_value=1, max_value=20, initial=2)

    def clean_size(self) -> int:
        size = self.cleaned_data["size"]
        try:  # the twin's own bound: its Shapley split simulates every subset of the set (2**K runs)
            from cloud.workbench.simulations.store import MAX_SET_SIZE
        except ImportError:
            return size
        if size > MAX_SET_SIZE:
            raise forms.ValidationError(_("The twin splits sets of at most %(n)s candidates (it simulates every "
                                          "subset of the set)."), params={"n": MAX_SET_SIZE})
        return size
