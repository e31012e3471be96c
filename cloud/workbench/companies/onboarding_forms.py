"""Forms of a company's onboarding: joining a park, then sector, listings, location and costs.

Every field's label is a plain question, with a "?" link to the paragraph of the learning modules
that explains it (:class:`~cloud.workbench.learning.help.HelpLinks`); a wrong value is named in
words on the page and what was typed stays in the form.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.translation import gettext_lazy as _

from aisym.park.graph.carriers import QUALITY_FIELDS, Resource
from cloud.workbench.learning.help import HelpLinks

from .models import Listing
from .vocabulary import UNITS

MONTHS = [(i, _(m)) for i, m in enumerate(
    ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November",
     "December"], start=1)]


class JoinForm(HelpLinks, forms.Form):
    join_code = forms.CharField(label=_("Join code from your park's facilitator"), max_length=32)
    company_name = forms.CharField(label=_("Your company's name"), max_length=200)
    username = forms.CharField(label=_("Choose a user name (letters, digits and @ . + - _)"), max_length=150,
                               validators=[UnicodeUsernameValidator()])
    email = forms.EmailField(label=_("Your e-mail address (for sign-in links)"))
    password = forms.CharField(label=_("Choose a password (12 characters or more)"), widget=forms.PasswordInput,
                               strip=False)

    def clean_username(self) -> str:
        name = self.cleaned_data["username"].strip()
        if get_user_model().objects.filter(username__iexact=name).exists():
            raise forms.ValidationError(_("This user name is taken: choose another."))
        return name

    def clean(self):
        data = super().clean()
        if data.get("password"):
            try:
                password_validation.validate_password(data["password"], get_user_model()(username=data.get("username")))
            except forms.ValidationError as e:
                self.add_error("password", e)
        return data


class SectorForm(HelpLinks, forms.Form):
    words = forms.CharField(label=_("What does your company do? Type a few words (for example: bakery)"),
                            max_length=100, required=False)
    nace = forms.CharField(label=_("Your sector"), max_length=8, required=False)

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.choices = list(choices)

    def clean_nace(self) -> str:
        from .vocabulary import nace_name

        code = self.cleaned_data["nace"].strip()
        if not code:
            raise forms.ValidationError(_("Pick your sector from the list (type a few words to get one)."))
        if not nace_name(code):
            raise forms.ValidationError(_("%(code)s is not a NACE class: pick one from the list."), params={"code": code})
        return code


class ListingStepForm(HelpLinks, forms.Form):
    direction = forms.ChoiceField(label=_("Do you have it or want it?"), choices=Listing.DIRECTIONS,
                                  widget=forms.RadioSelect, initial=Listing.OUTPUT)
    words = forms.CharField(label=_("What is it, in your words? (for example: bread, oven heat, warm water)"),
                            max_length=200)
    choice = forms.CharField(label=_("Which of these is it?"), max_length=8, required=False)
    resource = forms.ChoiceField(label=_("Kind of resource"), required=False,
                                 choices=[("", "–")] + [(r.value, r.value.replace("_", " ")) for r in Resource
                                                        if r is not Resource.volatile_solids])
    temperature_c = forms.FloatField(label=_("Temperature (°C), if it is heat or water"), required=False,
                                     min_value=-50, max_value=1000)
    quantity = forms.FloatField(label=_("How much? (leave empty if you do not know yet)"), required=False, min_value=0)
    unit = forms.CharField(label=_("Unit"), max_length=16, required=False)
    frequency = forms.ChoiceField(label=_("How often?"), choices=Listing.FREQUENCIES, widget=forms.RadioSelect,
                                  initial="continuous")
    months = forms.TypedMultipleChoiceField(label=_("In which months? (seasonal)"), choices=MONTHS, coerce=int,
                                            required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, suggestions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.suggestions = list(suggestions)

    def clean(self):
        data = super().clean()
        choice = data.get("choice") or ""
        if choice.isdigit() and int(choice) < len(self.suggestions):
            s = self.suggestions[int(choice)]
            data["picked"] = {"resource": s.resource, "ewc": s.ewc, "material": s.material, "quality": dict(s.quality)}
        elif data.get("resource"):
            data["picked"] = {"resource": data["resource"], "ewc": "", "material": "", "quality": {}}
        elif data.get("words"):
            self.add_error("choice", _("Pick what it is from the list, or choose the kind of resource below."))
            return data
        picked = data.get("picked")
        if picked is None:
            return data
        if data.get("temperature_c") is not None:
            if "temperature_c" not in QUALITY_FIELDS[Resource(picked["resource"])]:
                self.add_error("temperature_c", _("A temperature does not apply to %(r)s.") % {"r": picked["resource"]})
            else:
                picked["quality"]["temperature_c"] = data["temperature_c"]
        unit = (data.get("unit") or "").strip()
        if data.get("quantity") is not None:
            allowed = UNITS[picked["resource"]]
            if unit not in allowed:
                self.add_error("unit", _("Pick a unit of %(r)s: %(units)s.") % {
                    "r": picked["resource"], "units": ", ".join(allowed)})
        if data.get("frequency") == "seasonal" and not data.get("months"):
            self.add_error("months", _("Tick the months of the season."))
        return data


class LocationForm(HelpLinks, forms.Form):
    location = forms.CharField(label=_("Address or place"), max_length=200, required=False)
    lat = forms.FloatField(label=_("Latitude (click the map to set it)"), required=False, min_value=-90, max_value=90)
    lon = forms.FloatField(label=_("Longitude (click the map to set it)"), required=False, min_value=-180,
                           max_value=180)

    def clean(self):
        data = super().clean()
        if (data.get("lat") is None) != (data.get("lon") is None) and not self.errors:
            raise forms.ValidationError(_("Give both latitude and longitude, or neither (click the map)."))
        if not data.get("location") and data.get("lat") is None and not self.errors:
            raise forms.ValidationError(_("Give an address or click your site on the map."))
        return data
