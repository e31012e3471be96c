# ruff: noqa: RUF012  (Django idiom: Meta options are class-level lists)
"""The twin test's request (the "Test it in the twin" buttons) and the park's twin settings."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import TwinSettings


class StartForm(forms.Form):
    """``key`` repeats (one per candidate); the rest is optional."""

    company = forms.SlugField(required=False, label=_("company"))
    set_size = forms.IntegerField(required=False, min_value=0, label=_("best set of"))
    hours = forms.FloatField(required=False, min_value=1.0, max_value=8760.0, label=_("hours simulated"))

    def first_error(self) -> str:
        name, errors = next(iter(self.errors.items()))
        return f"{name}: {' '.join(errors)}"


class TwinSettingsForm(forms.ModelForm):
    class Meta:
        model = TwinSettings
        fields = ["ray_address"]

    def clean_ray_address(self) -> str:
        address = self.cleaned_data["ray_address"].strip()
        if address and address not in ("auto", "local"):
            hostport = address.split("://", 1)[-1].rstrip("/")
            host, _sep, port = hostport.rpartition(":")
            if not host or not port.isdigit():
                raise forms.ValidationError(_("Give HOST:PORT of the cluster's head (or ray://HOST:PORT, auto)."))
        return address
