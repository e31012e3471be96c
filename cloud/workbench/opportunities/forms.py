# ruff: noqa: RUF012  (Django idiom: Meta options and choices are class-level lists)
"""The opportunities page's forms: "not interested" with its reason, "show it again", the company's
choice to be named, and the facilitator's split rule."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ParkSplitRule

# why a company says no, in a few words the matchmaker keeps with the outcome
REASONS = [
    ("too far", _("too far away")),
    ("quality", _("the quality does not fit our process")),
    ("amount", _("the amount is too small or too uneven")),
    ("investment", _("not worth the investment")),
    ("solved", _("we have solved it another way")),
    ("other", _("another reason")),
]


class NotInterestedForm(forms.Form):
    key = forms.CharField(max_length=300, widget=forms.HiddenInput)
    reason = forms.ChoiceField(label=_("Why not?"), choices=REASONS)
    detail = forms.CharField(label=_("In your own words (optional)"), max_length=400, required=False)

    def reason_text(self) -> str:
        """The reason as stored: the choice's code and the words, "too far: 9 km over the fjord"."""
        detail = self.cleaned_data["detail"].strip()
        return f"{self.cleaned_data['reason']}: {detail}" if detail else self.cleaned_data["reason"]


class ShowAgainForm(forms.Form):
    key = forms.CharField(max_length=300, widget=forms.HiddenInput)


class NamedForm(forms.Form):
    named_to_partners = forms.BooleanField(label=_("Show our name to possible partners"), required=False)


class SplitRuleForm(forms.ModelForm):
    class Meta:
        model = ParkSplitRule
        fields = ["rule"]
